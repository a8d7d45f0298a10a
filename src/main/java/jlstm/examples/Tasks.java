package jlstm.examples;

import java.util.List;

/**
 * The registry of the example tasks that {@code train} runs: their names, and the layer tasks
 * built from the command's sizes. {@code digits} steps an {@code LstmCell} loop of its own
 * ({@link DigitsExample}) rather than a {@link TrainingTask}.
 */
public final class Tasks {
    /** Every task's name, in the order help texts list them. */
    public static final List<String> NAMES = List.of("adding", "airline", "digits", "stocks");
    /** The task that runs its own cell loop instead of a {@link TrainingTask}. */
    public static final String CELL_TASK = "digits";
    /** Held-out sequences of the adding problem. */
    public static final int ADDING_TEST_SAMPLES = 1000;

    private Tasks() {
    }

    /**
     * A layer task.
     *
     * @param name    {@code adding}, {@code airline} or {@code stocks}
     * @param seqLen  the sequence length (adding) or window (airline, stocks)
     * @param samples training sequences (adding only)
     * @param seed    the data's seed (adding only)
     * @return the task, its data generated or loaded
     * @throws IllegalArgumentException for sizes out of the task's range, or a name that is not a layer task
     */
    public static TrainingTask create(String name, int seqLen, int samples, long seed) {
        return switch (name) {
            case "adding" -> new AddingProblem(seqLen, samples, ADDING_TEST_SAMPLES, seed);
            case "airline" -> new AirlinePassengers(seqLen);
            case "stocks" -> new StockForecast(seqLen);
            default -> throw new IllegalArgumentException("no layer task '" + name + "' (layer tasks: adding, airline,"
                    + " stocks; " + CELL_TASK + " runs its own cell loop)");
        };
    }
}
