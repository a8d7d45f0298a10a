package jlstm.examples;

import jlstm.train.SequenceDataset;
import jlstm.train.SequenceModel;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jlstm.Tensor;

/**
 * Monthly international airline passengers 1949–1960 in thousands (Box &amp; Jenkins "Series G",
 * 144 months, bundled as {@code /jlstm/data/airline-passengers.csv}): forecast each month from the
 * W previous ones (W = 12 by default), training on the first 120 months and scoring the last 24.
 *
 * <p>Scaling, fitted on the training months only: the series is taken in logs and each window is
 * expressed relative to its last month, so inputs are ln(v[t−W+k]) − ln(v[t−1]) and the target is
 * the month-on-month log change ln(v[t]) − ln(v[t−1]), both divided by the standard deviation of
 * that change (and the target centred on its mean) over the training months. The model thus
 * learns seasonal growth ratios, which carry over to the later, larger passenger numbers that a
 * model fitted on absolute levels would have to extrapolate to.
 *
 * <p>Evaluation is one step ahead: each held-out month is forecast from the actual previous W
 * months, like the seasonal-naive baseline (the same month one year before). The metric is the
 * root mean squared error in thousands of passengers.
 */
public final class AirlinePassengers implements TrainingTask {
    /** Classpath location of the data. */
    public static final String RESOURCE = "/jlstm/data/airline-passengers.csv";
    /** Months used for training; the rest are held out. */
    public static final int TRAINING_MONTHS = 120;
    private static final int SEASON = 12;

    private final int window;
    private final String[] months;
    private final double[] passengers;
    private final double changeMean;  // mean of ln v[t] − ln v[t−1] over training targets
    private final double changeScale; // its standard deviation
    private final SequenceDataset training;

    /** @param window W, months of history per forecast, 1 ≤ W ≤ 60 */
    public AirlinePassengers(int window) {
        if (window < 1 || window > 60) {
            throw new IllegalArgumentException("airline: the window (--seq-len) must be 1 to 60 months, got " + window);
        }
        this.window = window;
        List<String> labels = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        readCsv(labels, values);
        this.months = labels.toArray(new String[0]);
        this.passengers = values.stream().mapToDouble(Double::doubleValue).toArray();
        if (passengers.length <= TRAINING_MONTHS) {
            throw new IllegalStateException(RESOURCE + ": expected more than " + TRAINING_MONTHS + " months, found "
                    + passengers.length);
        }
        double sum = 0, sumSquares = 0;
        int count = 0;
        for (int t = window; t < TRAINING_MONTHS; t++) {
            double change = Math.log(passengers[t]) - Math.log(passengers[t - 1]);
            sum += change;
            sumSquares += change * change;
            count++;
        }
        changeMean = sum / count;
        changeScale = Math.sqrt(Math.max(sumSquares / count - changeMean * changeMean, 1e-12));
        training = windows(window, TRAINING_MONTHS);
    }

    private static void readCsv(List<String> labels, List<Double> values) {
        try (InputStream in = AirlinePassengers.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " is missing from the classpath");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String header = reader.readLine();
            if (header == null || !header.startsWith("month,")) {
                throw new IllegalStateException(RESOURCE + ": expected a 'month,passengers_thousands' header");
            }
            String line;
            int lineNumber = 1;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                String[] parts = line.split(",");
                double v;
                try {
                    v = Double.parseDouble(parts[1].trim());
                } catch (RuntimeException e) {
                    throw new IllegalStateException(RESOURCE + " line " + lineNumber + ": cannot read '" + line + "'");
                }
                if (!(v > 0)) {
                    throw new IllegalStateException(RESOURCE + " line " + lineNumber + ": passengers must be > 0");
                }
                labels.add(parts[0].trim());
                values.add(v);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    /** Windows whose target months are window ≤ t &lt; end: inputs [N, W, 1], targets [N, 1], scaled. */
    private SequenceDataset windows(int from, int end) {
        int n = end - from;
        float[] x = new float[n * window];
        float[] y = new float[n];
        for (int s = 0; s < n; s++) {
            int t = from + s;
            double last = Math.log(passengers[t - 1]);
            for (int k = 0; k < window; k++) {
                x[s * window + k] = (float) ((Math.log(passengers[t - window + k]) - last) / changeScale);
            }
            y[s] = (float) ((Math.log(passengers[t]) - last - changeMean) / changeScale);
        }
        return new SequenceDataset(Tensor.of(x, n, window, 1), Tensor.of(y, n, 1));
    }

    /** Turns a scaled prediction for month t back into passengers (thousands). */
    private double unscale(float prediction, int t) {
        return passengers[t - 1] * Math.exp(prediction * changeScale + changeMean);
    }

    @Override
    public String name() {
        return "airline";
    }

    @Override
    public SequenceDataset trainingSet() {
        return training;
    }

    /** RMSE in thousands of passengers over the held-out months; baseline: seasonal naive. */
    @Override
    public Evaluation evaluate(SequenceModel model) {
        int first = Math.max(TRAINING_MONTHS, SEASON);
        int n = passengers.length - first;
        SequenceDataset held = windows(first, passengers.length);
        float[] scaled = model.predict(model.input(held.all())).data();
        String[] labels = new String[n];
        double[] actual = new double[n], predicted = new double[n], naive = new double[n];
        double modelSquares = 0, naiveSquares = 0;
        for (int s = 0; s < n; s++) {
            int t = first + s;
            labels[s] = months[t];
            actual[s] = passengers[t];
            predicted[s] = unscale(scaled[s], t);
            naive[s] = passengers[t - SEASON];
            modelSquares += (predicted[s] - actual[s]) * (predicted[s] - actual[s]);
            naiveSquares += (naive[s] - actual[s]) * (naive[s] - actual[s]);
        }
        return new Evaluation("rmse", Math.sqrt(modelSquares / n), Math.sqrt(naiveSquares / n), "seasonal-naive",
                new Evaluation.Forecast(labels, actual, predicted, naive));
    }

    @Override
    public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("task.seq_len", Integer.toString(window));
        m.put("task.train_months", Integer.toString(TRAINING_MONTHS));
        m.put("task.scaling", "log-change relative to the window's last month, (x - mean) / std of the training changes");
        m.put("task.change_mean", Double.toString(changeMean));
        m.put("task.change_std", Double.toString(changeScale));
        return m;
    }

    @Override
    public String description() {
        return "airline passengers, window " + trainingSet().steps() + " months, " + trainingSet().size()
                + " training windows (1949-1958), held out: the last 24 months, loss mse on scaled log-changes";
    }

    @Override
    public String metricUnit() {
        return "thousands of passengers";
    }

    @Override
    public String forecastAxis() {
        return "passengers (thousands)";
    }
}
