package jlstm.examples;

import java.util.List;

/**
 * The registry of the example tasks that {@code train} runs: their names, the layer tasks built
 * from the command's sizes, and the cell tasks ({@code digits}, {@code mnist}), which step an
 * {@code LstmCell} loop of their own ({@link DigitsExample}) over {@link DigitImages} rather than
 * train a {@link TrainingTask}.
 */
public final class Tasks {
    /** Every task's name, in the order help texts list them. */
    public static final List<String> NAMES = List.of("adding", "airline", "digits", "mnist", "stocks");
    /** The tasks that run their own cell loop over {@link DigitImages} instead of a {@link TrainingTask}. */
    public static final List<String> CELL_TASKS = List.of("digits", "mnist");
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
                    + " stocks; " + String.join(" and ", CELL_TASKS) + " run their own cell loop)");
        };
    }

    /** Whether {@code name} is a cell task ({@link #CELL_TASKS}). */
    public static boolean isCellTask(String name) {
        return CELL_TASKS.contains(name);
    }

    /**
     * A cell task's images, read from the bundled files.
     *
     * @throws IllegalArgumentException for a name that is not a cell task
     */
    public static DigitImages cellTask(String name) {
        return switch (name) {
            case "digits" -> HandwrittenDigits.load();
            case "mnist" -> MnistDigits.load();
            default -> throw new IllegalArgumentException("no cell task '" + name + "' (cell tasks: "
                    + String.join(", ", CELL_TASKS) + ")");
        };
    }
}
