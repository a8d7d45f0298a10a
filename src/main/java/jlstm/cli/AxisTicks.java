package jlstm.cli;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a chart axis puts its ticks, from the pixels the axis has and the least distance between
 * two labels: as many ticks as fit, at values a reader takes in at a glance (1, 2 or 5 times a
 * power of ten; decades on a logarithmic axis; first days of months on a calendar axis). Pure
 * functions, so that a chart's ticks are tested without drawing it.
 */
final class AxisTicks {
    private AxisTicks() {
    }

    /** A tick: its value on the axis and its label. */
    record Tick(double value, String label) {
    }

    /** 1, 2, 5 × 10^k, the steps of a linear axis. */
    private static final int[] NICE = {1, 2, 5};

    /**
     * Ticks of a linear axis over [min, max]: the smallest step of 1, 2 or 5 × 10^k (at least
     * {@code minStep}) whose ticks lie {@code minGap} pixels apart or more.
     *
     * @param pixels  the axis length in pixels
     * @param minGap  the least distance between two ticks in pixels (a label's height, or width, plus room)
     * @param minStep the least step (1 for an axis of whole numbers such as epochs; 0 for none)
     */
    static List<Tick> linear(double min, double max, double pixels, double minGap, double minStep) {
        check(min, max, pixels, minGap);
        double range = max - min;
        if (range == 0) {
            return List.of(new Tick(min, label(BigDecimal.valueOf(min))));
        }
        for (BigDecimal step : niceSteps(range * minGap / pixels)) {
            if (step.doubleValue() < minStep) {
                continue;
            }
            if (step.doubleValue() / range * pixels >= minGap) {
                return ticks(min, max, step);
            }
        }
        throw new AssertionError("unreachable: the steps grow without bound");
    }

    /** The steps 1, 2, 5 × 10^k in increasing order, starting at the largest one below {@code atLeast}. */
    private static Iterable<BigDecimal> niceSteps(double atLeast) {
        int exponent = (int) Math.floor(Math.log10(atLeast)) - 1;
        return () -> new java.util.Iterator<>() {
            int e = exponent, i = 0;

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public BigDecimal next() {
                BigDecimal step = BigDecimal.valueOf(NICE[i]).scaleByPowerOfTen(e);
                if (++i == NICE.length) {
                    i = 0;
                    e++;
                }
                return step;
            }
        };
    }

    /** The multiples of {@code step} in [min, max], computed in decimal (0.3, not 0.30000000000000004). */
    private static List<Tick> ticks(double min, double max, BigDecimal step) {
        List<Tick> ticks = new ArrayList<>();
        double eps = step.doubleValue() * 1e-9;
        long first = (long) Math.ceil((min - eps) / step.doubleValue());
        for (long k = first; k * step.doubleValue() <= max + eps; k++) {
            BigDecimal v = step.multiply(BigDecimal.valueOf(k));
            ticks.add(new Tick(v.doubleValue(), label(v)));
        }
        return ticks;
    }

    /**
     * Ticks of a logarithmic axis over [min, max] (both positive), the densest set that keeps
     * {@code minGap} pixels between neighbours: 1, 2 and 5 in each decade; else the decades; else
     * every second, fifth, tenth … decade. An axis too short for three ticks of 1, 2 and 5 gets
     * linear 1-2-5 ticks, checked for spacing where they crowd (at the top of the axis).
     */
    static List<Tick> log(double min, double max, double pixels, double minGap) {
        check(min, max, pixels, minGap);
        if (!(min > 0)) {
            throw new IllegalArgumentException("a logarithmic axis starts above 0, not at " + min);
        }
        double decades = Math.log10(max) - Math.log10(min);
        if (decades == 0) {
            return List.of(new Tick(min, label(new BigDecimal(min, MathContext.DECIMAL64))));
        }
        double perDecade = pixels / decades;
        // Neighbours in 1-2-5 are at least log10(2) of a decade apart (1→2, 5→10).
        List<Tick> oneTwoFive = decadeTicks(min, max, new int[] {1, 2, 5}, 1);
        if (Math.log10(2) * perDecade >= minGap && (decades >= 1.5 || oneTwoFive.size() >= 3)) {
            return oneTwoFive;
        }
        if (decades >= 1.5) {
            for (int every : new int[] {1, 2, 5, 10, 20, 50, 100}) {
                if (every * perDecade >= minGap) {
                    // Every second decade may start at 1e-4 or 1e-3: whichever labels more of them.
                    List<Tick> best = List.of();
                    for (int offset = 0; offset < every; offset++) {
                        List<Tick> ticks = decadeTicks(min, max, new int[] {1}, every, offset);
                        best = ticks.size() > best.size() ? ticks : best;
                    }
                    if (best.size() >= 2) {
                        return best;
                    }
                    break;
                }
            }
        }
        for (BigDecimal step : niceSteps((max - min) / 20)) {
            List<Tick> ticks = ticks(min, max, step);
            if (ticks.size() < 2) {
                break;
            }
            double closest = Double.MAX_VALUE;
            for (int i = 1; i < ticks.size(); i++) {
                closest = Math.min(closest, Math.log10(ticks.get(i).value() / ticks.get(i - 1).value()) * perDecade);
            }
            if (ticks.get(0).value() > 0 && closest >= minGap) {
                return ticks;
            }
        }
        // Too short for two readable ticks: its ends, rounded inwards.
        BigDecimal low = new BigDecimal(min).round(new MathContext(3, RoundingMode.CEILING));
        BigDecimal high = new BigDecimal(max).round(new MathContext(3, RoundingMode.FLOOR));
        return List.of(new Tick(low.doubleValue(), label(low)), new Tick(high.doubleValue(), label(high)));
    }

    private static List<Tick> decadeTicks(double min, double max, int[] mantissas, int every) {
        return decadeTicks(min, max, mantissas, every, 0);
    }

    /** m × 10^e in [min, max] for each mantissa m, on the decades e ≡ offset (mod every). */
    private static List<Tick> decadeTicks(double min, double max, int[] mantissas, int every, int offset) {
        List<Tick> ticks = new ArrayList<>();
        int from = (int) Math.floor(Math.log10(min)), to = (int) Math.ceil(Math.log10(max));
        for (int e = from; e <= to; e++) {
            if (Math.floorMod(e, every) != offset) {
                continue;
            }
            for (int m : mantissas) {
                BigDecimal v = BigDecimal.valueOf(m).scaleByPowerOfTen(e);
                double d = v.doubleValue();
                if (d >= min * (1 - 1e-9) && d <= max * (1 + 1e-9)) {
                    ticks.add(new Tick(d, label(v)));
                }
            }
        }
        return ticks;
    }

    /** Steps of a calendar axis: days, then months. */
    private static final int[] DAY_STEPS = {1, 2, 5, 10};
    private static final int[] MONTH_STEPS = {1, 2, 3, 6, 12, 24, 60};

    /**
     * Ticks of a calendar axis whose values are epoch days ({@link LocalDate#toEpochDay()}): every
     * 1, 2, 5 or 10 days (labelled yyyy-MM-dd), else the first day of every 1, 2, 3, 6, 12 …
     * months (yyyy-MM; months counted from January, so 3 gives quarters), the first that keeps
     * {@code minGap} pixels between neighbours.
     */
    static List<Tick> days(double min, double max, double pixels, double minGap) {
        check(min, max, pixels, minGap);
        double perDay = max > min ? pixels / (max - min) : pixels;
        for (int step : DAY_STEPS) {
            if (step * perDay < minGap) {
                continue;
            }
            // Days 1, 1 + step, 1 + 2·step … of each month (1, 11, 21), so that ticks do not drift; a month's
            // last tick may be nearer than a step to the next month's first, so the gaps are checked.
            List<Tick> ticks = new ArrayList<>();
            for (long d = (long) Math.ceil(min); d <= max; d++) {
                LocalDate date = LocalDate.ofEpochDay(d);
                int dom = date.getDayOfMonth();
                if ((dom - 1) % step == 0 && dom + step <= 32) {
                    ticks.add(new Tick(d, date.toString()));
                }
            }
            if (closestGap(ticks) * perDay >= minGap) {
                return ticks;
            }
        }
        for (int step : MONTH_STEPS) {
            // The shortest distance between two firsts of a month is February's 28 days.
            if (step * 28 * perDay >= minGap || step == MONTH_STEPS[MONTH_STEPS.length - 1]) {
                List<Tick> ticks = new ArrayList<>();
                LocalDate first = LocalDate.ofEpochDay((long) Math.ceil(min)).withDayOfMonth(1);
                for (LocalDate m = first; m.toEpochDay() <= max; m = m.plusMonths(1)) {
                    if (m.toEpochDay() >= min && (m.getYear() * 12L + m.getMonthValue() - 1) % step == 0) {
                        ticks.add(new Tick(m.toEpochDay(), m.toString().substring(0, 7)));
                    }
                }
                return ticks;
            }
        }
        throw new AssertionError("unreachable");
    }

    /** The least distance between neighbouring ticks (infinite for fewer than two). */
    static double closestGap(List<Tick> ticks) {
        double closest = Double.POSITIVE_INFINITY;
        for (int i = 1; i < ticks.size(); i++) {
            closest = Math.min(closest, ticks.get(i).value() - ticks.get(i - 1).value());
        }
        return closest;
    }

    /**
     * A tick value as its shortest decimal: 0.0005, 150, 6200; 5e-5 below a ten-thousandth, 1e6 and
     * above in the same way.
     */
    static String label(BigDecimal value) {
        BigDecimal v = value.stripTrailingZeros();
        double abs = Math.abs(v.doubleValue());
        if (abs != 0 && (abs < 1e-4 || abs >= 1e6)) {
            String s = String.format(java.util.Locale.ROOT, "%.6e", v.doubleValue()); // 2.000000e-04
            String mantissa = s.substring(0, s.indexOf('e')).replaceAll("\\.?0+$", "");
            int exponent = Integer.parseInt(s.substring(s.indexOf('e') + 1));
            return mantissa + "e" + exponent;
        }
        return v.scale() < 0 ? v.setScale(0).toPlainString() : v.toPlainString();
    }

    private static void check(double min, double max, double pixels, double minGap) {
        if (!(min <= max) || !Double.isFinite(min) || !Double.isFinite(max) || !(pixels > 0) || !(minGap > 0)) {
            throw new IllegalArgumentException("axis [" + min + ", " + max + "] over " + pixels + " px, ticks "
                    + minGap + " px apart");
        }
    }
}
