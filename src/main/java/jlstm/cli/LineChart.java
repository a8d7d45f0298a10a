package jlstm.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import javax.imageio.ImageIO;

import jlstm.internal.io.AtomicFiles;

/**
 * A line chart drawn with java.awt, for the charts of {@code train}: one x axis (numbers, or
 * calendar days as epoch days), a left y axis and optionally a right one, each linear or
 * logarithmic on its own (a loss on a log axis beside an accuracy on a linear one), with ticks
 * chosen by {@link AxisTicks} for the pixels the axis has, so that labels never overlap.
 * {@link #layout()} gives the placed ticks, for tests.
 */
final class LineChart {
    static {
        // Charts are rendered off-screen; never try to open a display.
        System.setProperty("java.awt.headless", "true");
    }

    /** How an axis maps values to pixels. */
    enum Scale {
        LINEAR, LOG
    }

    /** What the x values are: numbers, whole numbers (epochs), or days ({@code LocalDate.toEpochDay()}). */
    enum XKind {
        NUMBER, WHOLE_NUMBER, DAY
    }

    /**
     * A line: its points, the y axis it is read on (0 left, 1 right), and how it is drawn; one
     * without a name (a reference line such as zero) stays out of the legend.
     */
    record Series(String name, double[] x, double[] y, int axis, boolean dashed, boolean markers, Color color,
                  float width) {
        Series {
            if (x.length != y.length) {
                throw new IllegalArgumentException(name + ": " + x.length + " x values, " + y.length + " y values");
            }
        }
    }

    /** A y axis: title, scale, and a fixed range (null: from the data). */
    record YAxis(String title, Scale scale, Double min, Double max) {
    }

    /** A tick where it was drawn: the pixel row (y axes) or column (x axis). */
    record Placed(AxisTicks.Tick tick, double pixel) {
    }

    /** Where everything went: the plot's rectangle, each axis's range and ticks. */
    record Layout(Rectangle plot, double[] xRange, List<Placed> xTicks, List<double[]> yRanges,
                  List<List<Placed>> yTicks) {
    }

    /** Colours that stay apart for colour-blind readers (Okabe–Ito). */
    static final Color BLUE = new Color(0, 114, 178), ORANGE = new Color(230, 159, 0),
            PURPLE = new Color(204, 121, 167), GREEN = new Color(0, 158, 115), GREY = new Color(90, 90, 90),
            VERMILION = new Color(213, 94, 0);

    static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 16);
    static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    static final Font AXIS_TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 12);
    /** Least room between two tick labels, beyond their own size. */
    static final int LABEL_PAD = 12;

    private final String title;
    private final int width, height;
    private String xTitle = "";
    private XKind xKind = XKind.NUMBER;
    private final YAxis[] yAxes = new YAxis[2];
    private final List<Series> series = new ArrayList<>();

    LineChart(String title, int width, int height) {
        this.title = title;
        this.width = width;
        this.height = height;
        yAxes[0] = new YAxis("", Scale.LINEAR, null, null);
    }

    LineChart xAxis(String axisTitle, XKind kind) {
        this.xTitle = axisTitle;
        this.xKind = kind;
        return this;
    }

    /** Sets the left (0) or right (1) y axis. */
    LineChart yAxis(int index, String axisTitle, Scale scale, Double min, Double max) {
        yAxes[index] = new YAxis(axisTitle, scale, min, max);
        return this;
    }

    LineChart add(Series s) {
        if (s.axis() < 0 || s.axis() > 1) {
            throw new IllegalArgumentException(s.name() + ": y axis " + s.axis());
        }
        series.add(s);
        return this;
    }

    List<Series> series() {
        return List.copyOf(series);
    }

    /** The left (0) or right (1) y axis; null when the chart has no right axis. */
    YAxis yAxis(int index) {
        return index == 1 && series.stream().noneMatch(s -> s.axis() == 1) ? null : yAxes[index];
    }

    String title() {
        return title;
    }

    // ---- layout -------------------------------------------------------------------------------

    private static final FontMetrics METRICS;
    private static final FontMetrics TITLE_METRICS;

    static {
        Graphics2D g = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
        METRICS = g.getFontMetrics(LABEL);
        TITLE_METRICS = g.getFontMetrics(TITLE);
        g.dispose();
    }

    /** The width of a tick label in pixels. */
    static int labelWidth(String label) {
        return METRICS.stringWidth(label);
    }

    /** The height of a tick label in pixels. */
    static int labelHeight() {
        return METRICS.getHeight();
    }

    private List<Series> legend() {
        return series.stream().filter(s -> !s.name().isEmpty()).toList();
    }

    private int legendRows() {
        int rows = 1, x = 0;
        for (Series s : legend()) {
            int w = legendEntryWidth(s);
            if (x > 0 && x + w > width - 40) {
                rows++;
                x = 0;
            }
            x += w;
        }
        return rows;
    }

    private static int legendEntryWidth(Series s) {
        return 34 + METRICS.stringWidth(s.name()) + 18;
    }

    Layout layout() {
        int lh = METRICS.getHeight();
        int top = 14 + TITLE_METRICS.getHeight() + 10;
        int bottom = 6 + lh + 8 + lh + 12 + legendRows() * (lh + 6) + 8; // x ticks, x title, legend
        Rectangle plot = new Rectangle(0, top, 0, height - top - bottom);
        List<double[]> yRanges = new ArrayList<>();
        List<List<Placed>> yTicks = new ArrayList<>();
        int[] labelWidths = new int[2];
        for (int a = 0; a < 2; a++) {
            YAxis axis = yAxis(a);
            if (axis == null) {
                yRanges.add(null);
                yTicks.add(List.of());
                continue;
            }
            double[] range = yRange(a, plot.height);
            List<AxisTicks.Tick> ticks = axis.scale() == Scale.LOG
                    ? AxisTicks.log(range[0], range[1], plot.height, lh + LABEL_PAD)
                    : AxisTicks.linear(range[0], range[1], plot.height, lh + LABEL_PAD, 0);
            List<Placed> placed = new ArrayList<>();
            for (AxisTicks.Tick t : ticks) {
                placed.add(new Placed(t, yPixel(t.value(), range, axis.scale(), plot)));
                labelWidths[a] = Math.max(labelWidths[a], METRICS.stringWidth(t.label()));
            }
            yRanges.add(range);
            yTicks.add(placed);
        }
        int left = 14 + lh + 8 + labelWidths[0] + 8;
        int right = yAxis(1) == null ? 30 : 8 + labelWidths[1] + 8 + lh + 14;
        plot.x = left;
        plot.width = width - left - right;
        double[] xRange = xRange();
        List<AxisTicks.Tick> ticks = switch (xKind) {
            case DAY -> AxisTicks.days(xRange[0], xRange[1], plot.width, METRICS.stringWidth("0000-00-00") + LABEL_PAD);
            case WHOLE_NUMBER -> AxisTicks.linear(xRange[0], xRange[1], plot.width, widestNumber(xRange) + LABEL_PAD, 1);
            case NUMBER -> AxisTicks.linear(xRange[0], xRange[1], plot.width, widestNumber(xRange) + LABEL_PAD, 0);
        };
        List<Placed> xPlaced = new ArrayList<>();
        for (AxisTicks.Tick t : ticks) {
            xPlaced.add(new Placed(t, plot.x + (t.value() - xRange[0]) / (xRange[1] - xRange[0]) * plot.width));
        }
        return new Layout(plot, xRange, xPlaced, yRanges, yTicks);
    }

    /** A generous width for the x axis's number labels (its ends with four more digits). */
    private static int widestNumber(double[] range) {
        return Math.max(METRICS.stringWidth(AxisTicks.label(java.math.BigDecimal.valueOf(range[0]).round(
                new java.math.MathContext(5)))), METRICS.stringWidth(AxisTicks.label(java.math.BigDecimal.valueOf(
                range[1]).round(new java.math.MathContext(5)))));
    }

    private double[] xRange() {
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (double x : s.x()) {
                if (Double.isFinite(x)) {
                    min = Math.min(min, x);
                    max = Math.max(max, x);
                }
            }
        }
        if (!(min <= max)) {
            return new double[] {0, 1};
        }
        double pad = max > min ? (max - min) * 0.02 : 0.5;
        return new double[] {min - pad, max + pad};
    }

    /** The range of y axis {@code a}: fixed, or its series' values with a margin. */
    private double[] yRange(int a, int pixels) {
        YAxis axis = yAxes[a];
        boolean log = axis.scale() == Scale.LOG;
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            if (s.axis() == a) {
                for (double y : s.y()) {
                    if (Double.isFinite(y) && (!log || y > 0)) {
                        min = Math.min(min, y);
                        max = Math.max(max, y);
                    }
                }
            }
        }
        if (!(min <= max)) {
            min = log ? 0.1 : 0;
            max = 1;
        }
        if (log) {
            double lo = Math.log10(min), hi = Math.log10(max), pad = hi > lo ? (hi - lo) * 0.05 : 0.3;
            min = Math.pow(10, lo - pad);
            max = Math.pow(10, hi + pad);
        } else {
            double pad = max > min ? (max - min) * 0.05 : Math.max(Math.abs(max) * 0.1, 1);
            min -= pad;
            max += pad;
        }
        return new double[] {axis.min() != null ? axis.min() : min, axis.max() != null ? axis.max() : max};
    }

    private static double yPixel(double v, double[] range, Scale scale, Rectangle plot) {
        double f = scale == Scale.LOG ? (Math.log10(v) - Math.log10(range[0])) / (Math.log10(range[1])
                - Math.log10(range[0])) : (v - range[0]) / (range[1] - range[0]);
        return plot.y + plot.height - f * plot.height;
    }

    // ---- drawing ------------------------------------------------------------------------------

    BufferedImage render() {
        Layout l = layout();
        Rectangle p = l.plot();
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        int lh = METRICS.getHeight(), ascent = METRICS.getAscent();

        g.setFont(TITLE);
        g.setColor(Color.BLACK);
        g.drawString(title, (width - TITLE_METRICS.stringWidth(title)) / 2, 14 + TITLE_METRICS.getAscent());

        // Grid: the left axis's ticks (the right axis's ticks get marks only) and the x ticks.
        g.setStroke(new BasicStroke(1f));
        g.setColor(new Color(225, 225, 225));
        for (Placed t : l.yTicks().get(0)) {
            g.drawLine(p.x, (int) Math.round(t.pixel()), p.x + p.width, (int) Math.round(t.pixel()));
        }
        for (Placed t : l.xTicks()) {
            g.drawLine((int) Math.round(t.pixel()), p.y, (int) Math.round(t.pixel()), p.y + p.height);
        }
        g.setColor(GREY);
        g.drawRect(p.x, p.y, p.width, p.height);

        g.setFont(LABEL);
        g.setColor(Color.BLACK);
        for (Placed t : l.yTicks().get(0)) {
            int y = (int) Math.round(t.pixel());
            g.drawLine(p.x - 5, y, p.x, y);
            g.drawString(t.tick().label(), p.x - 8 - METRICS.stringWidth(t.tick().label()), y + ascent / 2 - 1);
        }
        for (Placed t : l.yTicks().get(1)) {
            int y = (int) Math.round(t.pixel());
            g.drawLine(p.x + p.width, y, p.x + p.width + 5, y);
            g.drawString(t.tick().label(), p.x + p.width + 8, y + ascent / 2 - 1);
        }
        for (Placed t : l.xTicks()) {
            int x = (int) Math.round(t.pixel());
            g.drawLine(x, p.y + p.height, x, p.y + p.height + 5);
            g.drawString(t.tick().label(), x - METRICS.stringWidth(t.tick().label()) / 2, p.y + p.height + 6 + ascent);
        }

        g.setFont(AXIS_TITLE);
        FontMetrics am = g.getFontMetrics();
        int xTitleY = p.y + p.height + 6 + lh + 8 + am.getAscent();
        g.drawString(xTitle, p.x + (p.width - am.stringWidth(xTitle)) / 2, xTitleY);
        drawVertical(g, yAxes[0].title(), 14 + am.getAscent(), p.y + p.height / 2, -Math.PI / 2);
        if (yAxis(1) != null) {
            drawVertical(g, yAxes[1].title(), width - 14 - am.getAscent(), p.y + p.height / 2, Math.PI / 2);
        }

        Shape clip = g.getClip();
        g.clipRect(p.x + 1, p.y + 1, p.width - 1, p.height - 1);
        for (Series s : series) {
            drawSeries(g, s, l, p);
        }
        g.setClip(clip);

        // Legend, centred below the x title, wrapping onto more rows when needed.
        g.setFont(LABEL);
        List<List<Series>> rows = new ArrayList<>();
        List<Series> row = new ArrayList<>();
        int rowWidth = 0;
        for (Series s : legend()) {
            int w = legendEntryWidth(s);
            if (!row.isEmpty() && rowWidth + w > width - 40) {
                rows.add(row);
                row = new ArrayList<>();
                rowWidth = 0;
            }
            row.add(s);
            rowWidth += w;
        }
        rows.add(row);
        int y = xTitleY + 12 + lh / 2;
        for (List<Series> r : rows) {
            int total = r.stream().mapToInt(LineChart::legendEntryWidth).sum() - 18;
            int x = (width - total) / 2;
            for (Series s : r) {
                g.setColor(s.color());
                g.setStroke(stroke(s));
                g.drawLine(x, y, x + 26, y);
                if (s.markers()) {
                    g.fill(new Ellipse2D.Double(x + 13 - 3, y - 3, 6, 6));
                }
                g.setColor(Color.BLACK);
                g.drawString(s.name(), x + 34, y + ascent / 2 - 1);
                x += legendEntryWidth(s);
            }
            y += lh + 6;
        }
        g.dispose();
        return image;
    }

    private void drawSeries(Graphics2D g, Series s, Layout l, Rectangle p) {
        YAxis axis = yAxes[s.axis()];
        double[] yRange = l.yRanges().get(s.axis());
        double[] xRange = l.xRange();
        g.setColor(s.color());
        g.setStroke(stroke(s));
        Path2D.Double path = new Path2D.Double();
        boolean open = false;
        List<double[]> points = new ArrayList<>();
        for (int i = 0; i < s.x().length; i++) {
            double y = s.y()[i];
            if (!Double.isFinite(y) || !Double.isFinite(s.x()[i]) || axis.scale() == Scale.LOG && !(y > 0)) {
                open = false; // a gap where a point cannot be drawn
                continue;
            }
            double px = p.x + (s.x()[i] - xRange[0]) / (xRange[1] - xRange[0]) * p.width;
            double py = yPixel(y, yRange, axis.scale(), p);
            if (open) {
                path.lineTo(px, py);
            } else {
                path.moveTo(px, py);
                open = true;
            }
            points.add(new double[] {px, py});
        }
        g.draw(path);
        if (s.markers()) {
            for (double[] pt : points) {
                g.fill(new Ellipse2D.Double(pt[0] - 3, pt[1] - 3, 6, 6));
            }
        }
    }

    private static BasicStroke stroke(Series s) {
        return s.dashed() ? new BasicStroke(s.width(), BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f,
                new float[] {6f, 4f}, 0f) : new BasicStroke(s.width(), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    }

    private static void drawVertical(Graphics2D g, String text, int x, int centreY, double angle) {
        java.awt.geom.AffineTransform saved = g.getTransform();
        g.translate(x, centreY);
        g.rotate(angle);
        g.drawString(text, -g.getFontMetrics().stringWidth(text) / 2, 0);
        g.setTransform(saved);
    }

    /** The chart as PNG bytes. */
    byte[] png() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(render(), "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to memory
        }
        return out.toByteArray();
    }

    /** Writes the chart as a PNG, atomically (no partial file on failure). */
    void save(Path file) throws IOException {
        AtomicFiles.write(file, png());
    }
}
