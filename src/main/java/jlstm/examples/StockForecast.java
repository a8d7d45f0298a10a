package jlstm.examples;

import jlstm.train.SequenceDataset;
import jlstm.train.SequenceModel;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jlstm.Tensor;

/**
 * The seed's layer example (section 5-3): forecast tomorrow's DAX close from a window of the
 * previous W days of four European indices (DAX, SMI, CAC, FTSE; R's {@code EuStockMarkets},
 * 1991–1998, 1,860 business days, data provided by Erste Bank AG, bundled as
 * {@code /jlstm/data/eu-stock-markets.csv}), with an {@code nn.LSTM}-style layer and a linear head
 * on its last step.
 *
 * <p>Splits by the day being forecast, in time order: the last {@value #HELD_OUT_PERCENT} % of the
 * days are held out and scored once, at the end; of the days before them, the last
 * {@value #VALIDATION_PERCENT} % are a validation split that is not trained on and is what
 * training reports each epoch (and what the settings were chosen on); the model is fitted on the
 * rest. Nothing is fitted on the validation or held-out days, scaling included.
 *
 * <p>Inputs and target are daily log returns, r_t = ln(P_t / P_{t−1}): the input of a window is
 * r of the four indices on each of the W days, standardised with each index's mean and standard
 * deviation over the fitted days; the target is tomorrow's DAX return, standardised the same way.
 * The forecast is P̂_{t+1} = P_t · exp(predicted return). Daily closes are close to a random walk,
 * so the honest baseline is "tomorrow = today" (P̂_{t+1} = P_t); the metric is the root mean
 * squared error in index points.
 */
public final class StockForecast implements TrainingTask {
    /** Classpath location of the data. */
    public static final String RESOURCE = "/jlstm/data/eu-stock-markets.csv";
    /** The last days held out for the final score, in percent of all days. */
    public static final int HELD_OUT_PERCENT = 20;
    /** The last days before the held-out ones that are kept for validation, in percent of them. */
    public static final int VALIDATION_PERCENT = 15;
    /** The index forecast: DAX, column 0 of the indices. */
    private static final int TARGET = 0;
    private static final String[] INDICES = {"DAX", "SMI", "CAC", "FTSE"};

    private final int window;
    private final double[] time;       // [days]: fractional year
    private final double[][] closes;   // [days][4]
    private final double[][] returns;  // [days][4]: r_t (row 0 unused)
    private final int heldOutStart;    // first held-out target day
    private final int validationStart; // first validation target day
    private final double[] mean;       // [4] of the returns over the fitted target days
    private final double[] scale;      // [4] their standard deviations
    private final SequenceDataset training;

    /** @param window W, days of history per forecast, 1 ≤ W ≤ 250 */
    public StockForecast(int window) {
        if (window < 1 || window > 250) {
            throw new IllegalArgumentException("stocks: the window (--seq-len) must be 1 to 250 days, got " + window);
        }
        this.window = window;
        List<double[]> rows = readCsv();
        int days = rows.size();
        time = new double[days];
        closes = new double[days][INDICES.length];
        returns = new double[days][INDICES.length];
        for (int d = 0; d < days; d++) {
            time[d] = rows.get(d)[0];
            for (int k = 0; k < INDICES.length; k++) {
                closes[d][k] = rows.get(d)[k + 1];
                returns[d][k] = d == 0 ? 0 : Math.log(closes[d][k] / closes[d - 1][k]);
            }
        }
        heldOutStart = days - (int) Math.round(days * HELD_OUT_PERCENT / 100.0);
        int firstTarget = window + 1; // a window needs r from day 1 on
        validationStart = heldOutStart - (int) Math.round((heldOutStart - firstTarget) * VALIDATION_PERCENT / 100.0);
        if (validationStart - firstTarget < 10) {
            throw new IllegalArgumentException("stocks: a window of " + window + " days leaves too few training days");
        }
        mean = new double[INDICES.length];
        scale = new double[INDICES.length];
        for (int k = 0; k < INDICES.length; k++) {
            double sum = 0, squares = 0;
            int n = 0;
            for (int d = 1; d < validationStart; d++) { // every return a fitted sample can see
                sum += returns[d][k];
                squares += returns[d][k] * returns[d][k];
                n++;
            }
            mean[k] = sum / n;
            scale[k] = Math.sqrt(Math.max(squares / n - mean[k] * mean[k], 1e-12));
        }
        training = windows(firstTarget, validationStart);
    }

    private static List<double[]> readCsv() {
        List<double[]> rows = new ArrayList<>();
        try (InputStream in = StockForecast.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " is missing from the classpath");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String header = reader.readLine();
            if (header == null || !header.equals("time,DAX,SMI,CAC,FTSE")) {
                throw new IllegalStateException(RESOURCE + ": expected the header 'time,DAX,SMI,CAC,FTSE'");
            }
            String line;
            int lineNumber = 1;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                String[] parts = line.split(",");
                double[] row = new double[5];
                try {
                    for (int c = 0; c < 5; c++) {
                        row[c] = Double.parseDouble(parts[c].trim());
                    }
                } catch (RuntimeException e) {
                    throw new IllegalStateException(RESOURCE + " line " + lineNumber + ": cannot read '" + line + "'");
                }
                for (int c = 1; c < 5; c++) {
                    if (!(row[c] > 0)) {
                        throw new IllegalStateException(RESOURCE + " line " + lineNumber + ": closes must be > 0");
                    }
                }
                rows.add(row);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        return rows;
    }

    /** Windows whose target days are from ≤ t &lt; to: inputs [N, W, 4] (days t−W … t−1), targets [N, 1]. */
    private SequenceDataset windows(int from, int to) {
        int n = to - from, features = INDICES.length;
        float[] x = new float[n * window * features];
        float[] y = new float[n];
        for (int s = 0; s < n; s++) {
            int t = from + s;
            for (int w = 0; w < window; w++) {
                int day = t - window + w;
                for (int k = 0; k < features; k++) {
                    x[(s * window + w) * features + k] = (float) ((returns[day][k] - mean[k]) / scale[k]);
                }
            }
            y[s] = (float) ((returns[t][TARGET] - mean[TARGET]) / scale[TARGET]);
        }
        return new SequenceDataset(Tensor.of(x, n, window, features), Tensor.of(y, n, 1));
    }

    @Override
    public String name() {
        return "stocks";
    }

    @Override
    public SequenceDataset trainingSet() {
        return training;
    }

    /** RMSE in index points over the held-out days; baseline: tomorrow = today. */
    @Override
    public Evaluation evaluate(SequenceModel model) {
        return score(model, heldOutStart, closes.length);
    }

    /** The same on the validation days: what training follows, so that it never looks at the held-out days. */
    @Override
    public Evaluation monitor(SequenceModel model) {
        return score(model, validationStart, heldOutStart);
    }

    @Override
    public String monitorName() {
        return "validation";
    }

    private Evaluation score(SequenceModel model, int from, int to) {
        int n = to - from;
        float[] scaled = model.predict(windows(from, to).all().x()).data();
        String[] labels = new String[n];
        double[] actual = new double[n], predicted = new double[n], naive = new double[n];
        double modelSquares = 0, naiveSquares = 0;
        for (int s = 0; s < n; s++) {
            int t = from + s;
            double today = closes[t - 1][TARGET];
            labels[s] = date(time[t]).toString();
            actual[s] = closes[t][TARGET];
            predicted[s] = today * Math.exp(mean[TARGET] + scale[TARGET] * scaled[s]);
            naive[s] = today;
            modelSquares += (predicted[s] - actual[s]) * (predicted[s] - actual[s]);
            naiveSquares += (naive[s] - actual[s]) * (naive[s] - actual[s]);
        }
        return new Evaluation("rmse", Math.sqrt(modelSquares / n), Math.sqrt(naiveSquares / n), "random-walk",
                new Evaluation.Forecast(labels, actual, predicted, naive));
    }

    /** A fractional year (1997.219…) as the calendar day it falls on. */
    static LocalDate date(double fractionalYear) {
        int year = (int) Math.floor(fractionalYear);
        LocalDate start = LocalDate.of(year, 1, 1);
        return start.plusDays(Math.round((fractionalYear - year) * start.lengthOfYear()));
    }

    /** Days of each split, for the task's description. */
    @Override
    public String metricUnit() {
        return "index points";
    }

    @Override
    public boolean dailyForecast() {
        return true;
    }

    @Override
    public String forecastAxis() {
        return "DAX (index points)";
    }

    @Override
    public String description() {
        return describe();
    }

    /**
     * The data, the splits with their dates, and the loss, in one line.
     *
     * @return the description {@code train} prints
     */
    public String describe() {
        return "DAX close of the next day from the last " + window + " days of DAX, SMI, CAC, FTSE daily returns; "
                + training.size() + " training windows (" + date(time[window + 1]) + " to "
                + date(time[validationStart - 1]) + "), " + (heldOutStart - validationStart) + " validation days (to "
                + date(time[heldOutStart - 1]) + "), held out: the last " + (closes.length - heldOutStart) + " days ("
                + date(time[heldOutStart]) + " to " + date(time[closes.length - 1]) + "), loss mse on standardised "
                + "log returns";
    }

    @Override
    public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("task.seq_len", Integer.toString(window));
        m.put("task.features", String.join(",", INDICES));
        m.put("task.held_out_days", Integer.toString(closes.length - heldOutStart));
        m.put("task.validation_days", Integer.toString(heldOutStart - validationStart));
        m.put("task.scaling", "daily log returns, (r - mean) / std of the fitted days, per index");
        for (int k = 0; k < INDICES.length; k++) {
            m.put("task.mean." + INDICES[k], Double.toString(mean[k]));
            m.put("task.std." + INDICES[k], Double.toString(scale[k]));
        }
        return m;
    }
}
