package jlstm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.List;

import org.junit.jupiter.api.Test;

import jlstm.cli.AxisTicks.Tick;

/** Ticks at values read at a glance, as many as the pixels allow and never closer than asked. */
class AxisTicksTest {

    private static List<String> labels(List<Tick> ticks) {
        return ticks.stream().map(Tick::label).toList();
    }

    /** Pixels between neighbours on a linear axis of {@code pixels} over [min, max]. */
    private static void assertLinearGaps(List<Tick> ticks, double min, double max, double pixels, double minGap) {
        assertTrue(ticks.size() >= 2, "at least two ticks: " + labels(ticks));
        for (int i = 0; i < ticks.size(); i++) {
            Tick t = ticks.get(i);
            assertTrue(t.value() >= min - 1e-12 && t.value() <= max + 1e-12, t + " outside [" + min + ", " + max + "]");
            if (i > 0) {
                double gap = (t.value() - ticks.get(i - 1).value()) / (max - min) * pixels;
                assertTrue(gap >= minGap - 1e-9, labels(ticks) + ": " + gap + " px apart, less than " + minGap);
            }
        }
    }

    private static void assertLogGaps(List<Tick> ticks, double min, double max, double pixels, double minGap) {
        assertTrue(ticks.size() >= 2, "at least two ticks: " + labels(ticks));
        double perDecade = pixels / Math.log10(max / min);
        for (int i = 0; i < ticks.size(); i++) {
            Tick t = ticks.get(i);
            assertTrue(t.value() >= min * (1 - 1e-9) && t.value() <= max * (1 + 1e-9), t + " outside the axis");
            if (i > 0) {
                double gap = Math.log10(t.value() / ticks.get(i - 1).value()) * perDecade;
                assertTrue(gap >= minGap - 1e-9, labels(ticks) + ": " + gap + " px apart, less than " + minGap);
            }
        }
    }

    /** The digits of a decimal without its zeros: 1, 2 or 5 for a step of 1-2-5 × 10^k. */
    private static int mantissa(BigDecimal d) {
        return d.stripTrailingZeros().unscaledValue().abs().intValueExact();
    }

    @Test
    void linearTicksAreDecimalMultiplesOfOneTwoOrFive() {
        List<Tick> ticks = AxisTicks.linear(0, 1, 400, 30, 0);
        assertEquals(List.of("0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1"), labels(ticks));
        assertEquals(0.3, ticks.get(3).value(), 0.0, "0.3 exactly, not 0.30000000000000004");
        // Fewer pixels: a coarser step, never a crowded axis.
        assertEquals(List.of("0", "0.5", "1"), labels(AxisTicks.linear(0, 1, 100, 30, 0)));
        assertEquals(List.of("5300", "5400", "5500", "5600", "5700", "5800", "5900", "6000", "6100", "6200"),
                labels(AxisTicks.linear(5260, 6230, 400, 26, 0)));
    }

    @Test
    void linearTicksKeepTheirDistanceOverManyRanges() {
        double[][] ranges = {{0, 1}, {-0.37, 0.52}, {0.9838, 1.0231}, {20.19, 20.79}, {-160, 250}, {1, 15}, {0, 1e-7},
            {3.2e5, 3.3e5}, {1, 2}, {-1e-3, 2e-3}};
        for (double[] r : ranges) {
            for (double pixels : new double[] {80, 300, 1000}) {
                List<Tick> ticks = AxisTicks.linear(r[0], r[1], pixels, 26, 0);
                assertLinearGaps(ticks, r[0], r[1], pixels, 26);
                for (Tick t : ticks) {
                    assertEquals(t.value(), Double.parseDouble(t.label()), Math.abs(t.value()) * 1e-12, t.toString());
                }
                BigDecimal step = new BigDecimal(ticks.get(1).label()).subtract(new BigDecimal(ticks.get(0).label()));
                assertTrue(List.of(1, 2, 5).contains(mantissa(step)), "step " + step + " of " + labels(ticks));
                // The densest such step: the next smaller one (5 → 2, 2 → 1, 1 → 0.5) would crowd the labels.
                double smaller = step.doubleValue() * (mantissa(step) == 5 ? 0.4 : 0.5);
                assertTrue(smaller / (r[1] - r[0]) * pixels < 26, "a denser step fits: " + labels(ticks));
            }
        }
    }

    @Test
    void wholeNumberAxesStepByWholeNumbers() {
        assertEquals(List.of("1", "2", "3"), labels(AxisTicks.linear(0.96, 3.04, 700, 30, 1)));
        assertEquals(List.of("2", "4", "6", "8", "10", "12", "14"), labels(AxisTicks.linear(0.72, 15.28, 700, 50, 1)));
    }

    @Test
    void logTicksOfTheAddingCurveAreOneTwoFiveAndApart() {
        // The adding problem's curve: 0.2 at epoch 1 down to 3e-4 at epoch 14, on a 380-pixel axis with
        // 12-pixel labels. XChart put 1..9 of each decade there, its labels overlapping.
        double min = 2.2e-4, max = 0.28;
        List<Tick> ticks = AxisTicks.log(min, max, 380, 26);
        assertEquals(List.of("0.0005", "0.001", "0.002", "0.005", "0.01", "0.02", "0.05", "0.1", "0.2"), labels(ticks));
        assertLogGaps(ticks, min, max, 380, 26);
        // Half the height: decades only.
        List<Tick> fewer = AxisTicks.log(min, max, 190, 26);
        assertEquals(List.of("0.001", "0.01", "0.1"), labels(fewer));
        assertLogGaps(fewer, min, max, 190, 26);
    }

    @Test
    void logTicksOverManyRangesKeepTheirDistance() {
        double[][] ranges = {{1e-12, 1}, {3e-4, 0.2}, {0.12, 2}, {0.9, 1.3}, {1, 1e6}, {5e-9, 3e-8}, {0.013, 0.9}};
        for (double[] r : ranges) {
            for (double pixels : new double[] {60, 200, 400, 1200}) {
                assertLogGaps(AxisTicks.log(r[0], r[1], pixels, 26), r[0], r[1], pixels, 26);
            }
        }
        // A decade and a bit (the digits' cross-entropy): 1-2-5 still gives enough labels.
        assertEquals(List.of("0.2", "0.5", "1", "2"), labels(AxisTicks.log(0.115, 2.1, 380, 26)));
        // Twelve decades in 200 pixels (17 per decade): every second decade.
        assertEquals(List.of("1e-12", "1e-10", "1e-8", "1e-6", "0.0001", "0.01", "1"),
                labels(AxisTicks.log(1e-12, 1, 200, 26)));
    }

    @Test
    void calendarTicksAreFirstsOfMonthsOrEvenDays() {
        LocalDate from = LocalDate.of(1997, 3, 14), to = LocalDate.of(1998, 8, 25);
        List<Tick> months = AxisTicks.days(from.toEpochDay(), to.toEpochDay(), 900, 85);
        for (Tick t : months) {
            assertTrue(t.label().matches("\\d{4}-\\d{2}"), t.label());
            assertEquals(1, LocalDate.ofEpochDay((long) t.value()).getDayOfMonth(), t.label());
        }
        // 529 days in 900 pixels: every second month (January, March, May …), 95 pixels or more apart.
        assertEquals("1997-05", months.get(0).label());
        assertEquals("1997-07", months.get(1).label());
        assertLinearGaps(months, from.toEpochDay(), to.toEpochDay(), 900, 85);

        LocalDate windowFrom = LocalDate.of(1998, 6, 2);
        List<Tick> days = AxisTicks.days(windowFrom.toEpochDay(), to.toEpochDay(), 900, 85);
        assertEquals(List.of("1998-06-11", "1998-06-21", "1998-07-01", "1998-07-11", "1998-07-21", "1998-08-01",
                "1998-08-11", "1998-08-21"), labels(days));
        assertLinearGaps(days, windowFrom.toEpochDay(), to.toEpochDay(), 900, 85);
        // Across a February the last tick of a month comes close to the next first: the step grows instead.
        LocalDate febFrom = LocalDate.of(2024, 2, 1), febTo = LocalDate.of(2024, 3, 20);
        for (double pixels : new double[] {300, 700, 1500, 4000}) {
            assertLinearGaps(AxisTicks.days(febFrom.toEpochDay(), febTo.toEpochDay(), pixels, 85),
                    febFrom.toEpochDay(), febTo.toEpochDay(), pixels, 85);
        }
    }

    @Test
    void labelsAreShortDecimals() {
        assertEquals("0.0005", AxisTicks.label(new BigDecimal("0.00050")));
        assertEquals("5e-5", AxisTicks.label(new BigDecimal("0.00005")));
        assertEquals("6200", AxisTicks.label(new BigDecimal("6.2E+3")));
        assertEquals("1e6", AxisTicks.label(new BigDecimal("1000000")));
        assertEquals("-0.3", AxisTicks.label(new BigDecimal("-0.30")));
        assertEquals("0", AxisTicks.label(new BigDecimal("0.000")));
    }
}
