/** A module that reaches into jlstm's unexported packages: tools/check-consumer.sh requires it NOT to compile. */
module probe {
    requires jlstm;
}
