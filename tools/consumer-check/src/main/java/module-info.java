/**
 * The consumer as a named module: it reads jlstm's exported packages (jlstm, jlstm.io,
 * jlstm.train) and nothing else, so Main compiles only against the published API.
 */
module consumer {
    requires jlstm;
}
