package probe;

import jlstm.cli.Main;                    // the command line
import jlstm.examples.AddingProblem;      // the example tasks
import jlstm.internal.Backends;           // the engines' selection

/**
 * Imports one type from each package the jlstm module keeps to itself. tools/check-consumer.sh
 * compiles this module against the installed jar and passes only if javac refuses each of the
 * three packages as not exported.
 */
public final class ReachesInside {
    private ReachesInside() {
    }

    public static void main(String[] args) {
        System.out.println(Backends.class + " " + Main.class + " " + AddingProblem.class);
    }
}
