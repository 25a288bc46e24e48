package dev.tickwatch.snapshot;

import dev.tickwatch.probe.KernelSample;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.probe.VcpuSample;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The HTML report's plots, drawn here as inline SVG (no scripts, no external assets, nothing to
 * load): over the sample series, jiffies, each CPU's local timer interrupts, each CPU's state
 * (idle in HLT, busy with interrupts on, busy with interrupts off, user mode) and console
 * activity, all on one time axis that ends at the last sample, with the hang's onset and the
 * moment the verdict was decided marked by lines (labelled in a band above the plot, where no
 * data runs) and the time since the onset shaded.
 *
 * <p>Legibility rules (issue 18): data is inset from the axes, so a line at its minimum does not
 * vanish into the axis; where lines of several CPUs coincide the lower-numbered ones are drawn
 * wider underneath, so both stay visible; an axis whose values are all equal is labelled
 * {@code all N} once; time ticks are spaced so that their labels never touch; a CPU's state is
 * drawn as runs of one state, not a rectangle per sample (no seams between samples).
 */
final class Plots {

    static final int WIDTH = 960;
    static final int LEFT = 110;
    static final int RIGHT = 20;
    /** How far data stays from the axis and the top of the plot area, in px. */
    static final int INSET = 7;
    /** The smallest distance between time ticks, in px: room for a label like {@code -120 s}. */
    static final int MIN_TICK_PX = 64;
    private static final double[] STEPS = {0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600};
    /** Height of one row of marker labels, and where the first row's band starts (under the title). */
    private static final int LABEL_ROW = 13;
    private static final int BAND_TOP = 20;
    /** Average advance of an 11 px sans-serif character, for laying labels out without a font. */
    private static final double CHAR_PX = 6.3;
    static final String[] PALETTE = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};

    private record Series(String name, String color, double[] t, Double[] y) {
    }

    private final List<Sample> samples;
    private final double[] t;
    private final double tMin;
    private final double tMax;
    private final Double onset;
    private final Double decided;
    private final int cpuCount;
    /** The marker labels, laid out once: every plot shares the time axis. */
    private final List<Label> labels;
    private final int bandRows;

    /** A marker's label: its text, where it is anchored and on which row of the band. */
    record Label(String cls, String text, String color, double lineX, double x, boolean anchorEnd, int row) {
        double left() {
            return anchorEnd ? x - width(text) : x;
        }

        double right() {
            return anchorEnd ? x : x + width(text);
        }
    }

    Plots(SnapshotDoc snapshot) {
        samples = snapshot.samples();
        int n = samples.size();
        t = new double[n];
        long end = n == 0 ? 0 : samples.get(n - 1).hostTimeNs();
        for (int i = 0; i < n; i++) {
            t[i] = (samples.get(i).hostTimeNs() - end) / 1e9;
        }
        tMax = 0;
        tMin = n < 2 ? -1 : Math.min(-1, t[0]);
        SnapshotDoc.Judgement v = ReportText.verdict(snapshot);
        onset = v.onsetNs() != null && n > 0 ? (v.onsetNs() - end) / 1e9 : null;
        decided = v.decidedNs() != null && n > 0 ? (v.decidedNs() - end) / 1e9 : null;
        int cpus = 0;
        for (Sample s : samples) {
            cpus = Math.max(cpus, s.cpus().size());
        }
        cpuCount = cpus;
        labels = layOut();
        int rows = 0;
        for (Label l : labels) {
            rows = Math.max(rows, l.row() + 1);
        }
        bandRows = rows;
    }

    static double width(String text) {
        return text.length() * CHAR_PX;
    }

    /**
     * The onset and decided labels: right of their line unless that runs off the plot, and on a
     * second row when they would touch (an onset found only a moment before the verdict).
     */
    private List<Label> layOut() {
        List<Label> out = new ArrayList<>();
        addLabel(out, onset, "onset", "onset " + seconds(onset), "#d62728");
        addLabel(out, decided, "verdict", "decided " + seconds(decided), "#222");
        return out;
    }

    private void addLabel(List<Label> out, Double at, String cls, String text, String color) {
        if (!visible(at)) {
            return;
        }
        double xx = x(at);
        boolean end = xx + 4 + width(text) > WIDTH - 2;
        double lx = end ? xx - 4 : xx + 4;
        for (int row = 0; ; row++) {
            Label l = new Label(cls, text, color, xx, lx, end, row);
            boolean clash = false;
            for (Label o : out) {
                clash |= o.row() == row && l.left() < o.right() + 8 && o.left() < l.right() + 8;
            }
            if (!clash) {
                out.add(l);
                return;
            }
        }
    }

    private boolean visible(Double at) {
        return at != null && at >= tMin - 1e-9 && at <= tMax + 1e-9;
    }

    /** Where a plot's data area starts: under the title and the band of marker labels. */
    private int top() {
        return BAND_TOP + LABEL_ROW * bandRows + 8;
    }

    private static String seconds(Double t) {
        return t == null ? "" : Math.abs(t) < 0.05 ? "0 s" : String.format(Locale.ROOT, "%.1f s", t);
    }

    /** Every plot, or a sentence saying why there are none. */
    String all() {
        if (samples.size() < 2) {
            return "<p class=\"note\">No plots: the snapshot holds fewer than two samples.</p>\n";
        }
        StringBuilder b = new StringBuilder();
        b.append(jiffies());
        b.append(timerInterrupts());
        b.append(states());
        b.append(console());
        return b.toString();
    }

    private double x(double time) {
        return LEFT + (time - tMin) / (tMax - tMin) * (WIDTH - LEFT - RIGHT);
    }

    private String jiffies() {
        Double[] y = new Double[t.length];
        for (int i = 0; i < t.length; i++) {
            KernelSample k = samples.get(i).kernel();
            y[i] = k != null ? (double) k.jiffies() : null;
        }
        return lineChart("jiffies", "jiffies_64 (the kernel's tick count): flat means time stopped",
                List.of(new Series("jiffies", PALETTE[0], t, y)));
    }

    private String timerInterrupts() {
        List<Series> series = new ArrayList<>();
        for (int c = 0; c < cpuCount; c++) {
            Double[] y = new Double[t.length];
            for (int i = 0; i < t.length; i++) {
                KernelSample k = samples.get(i).kernel();
                y[i] = null;
                for (KernelSample.Cpu n : k == null ? List.<KernelSample.Cpu>of() : k.cpus()) {
                    if (n.cpu() == c) {
                        y[i] = (double) n.localTimerInterrupts();
                    }
                }
            }
            series.add(new Series("CPU" + c, PALETTE[c % PALETTE.length], t, y));
        }
        return lineChart("loc", "local timer interrupts per CPU (LOC, cumulative): flat means no timer fired",
                series);
    }

    private String lineChart(String id, String title, List<Series> series) {
        int top = top();
        int bottom = top + 100;
        boolean legend = series.size() > 1;
        int h = bottom + 24 + (legend ? 18 : 0);
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (Double v : s.y()) {
                if (v != null) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        StringBuilder b = open(id, title, h, top, bottom);
        if (lo == Double.POSITIVE_INFINITY) {
            b.append(text(LEFT + 10, (top + bottom) / 2.0, "no kernel readings in the samples", "note"));
            return close(b, top, bottom);
        }
        double yHi = top + INSET;
        double yLo = bottom - INSET;
        double flat = (top + bottom) / 2.0;
        int n = series.size();
        for (int i = 0; i < n; i++) {
            Series s = series.get(i);
            StringBuilder pts = new StringBuilder();
            for (int j = 0; j < s.t().length; j++) {
                Double v = s.y()[j];
                if (v == null) {
                    continue;
                }
                double yy = hi == lo ? flat : yLo - (v - lo) / (hi - lo) * (yLo - yHi);
                pts.append(fmt(x(s.t()[j]))).append(',').append(fmt(yy)).append(' ');
            }
            // Lower-numbered series wider underneath: where two CPUs' lines coincide, both show.
            double w = n == 1 ? 2 : 2 + 2.5 * (n - 1 - i) / (n - 1);
            b.append("<polyline class=\"series\" fill=\"none\" stroke=\"").append(s.color())
                    .append("\" stroke-width=\"").append(fmt(w)).append("\" stroke-linejoin=\"round\" points=\"")
                    .append(pts.toString().strip()).append("\"><title>").append(ReportHtml.escape(s.name()))
                    .append("</title></polyline>\n");
        }
        if (hi == lo) {
            // One label, not the same number at both ends of an axis that spans nothing.
            b.append(text(LEFT - 6, flat + 4, "all " + num(hi), "ylab"));
        } else {
            b.append(text(LEFT - 6, yHi + 4, num(hi), "ylab"));
            b.append(text(LEFT - 6, yLo + 4, num(lo), "ylab"));
        }
        if (legend) {
            int lx = LEFT;
            for (Series s : series) {
                b.append("<rect x=\"").append(lx).append("\" y=\"").append(h - 14)
                        .append("\" width=\"12\" height=\"10\" fill=\"").append(s.color()).append("\"/>");
                b.append(text(lx + 16, h - 5, s.name(), "legend"));
                lx += Math.max(70, (int) width(s.name()) + 30);
            }
        }
        return close(b, top, bottom);
    }

    private String states() {
        int row = 22;
        int top = top();
        int bottom = top + row * Math.max(1, cpuCount);
        int h = bottom + 24 + 18;
        StringBuilder b = open("state", "CPU state per sample: idle in HLT, busy (IF=1), busy with interrupts off (IF=0), user",
                h, top, bottom);
        for (int c = 0; c < cpuCount; c++) {
            int y = top + row * c;
            b.append(text(LEFT - 6, y + 15, "CPU" + c, "ylab"));
            // Runs of one state: one rectangle each, so that no seam shows between samples.
            int from = -1;
            String name = null;
            for (int i = 0; i + 1 <= t.length; i++) {
                VcpuSample cpu = i + 1 < t.length ? cpuAt(i, c) : null;
                String here = cpu == null ? null : stateName(cpu);
                if (name != null && !name.equals(here)) {
                    run(b, from, i, y, row, name, stateColor(cpuAt(from, c)));
                    name = null;
                }
                if (name == null && here != null) {
                    from = i;
                    name = here;
                }
            }
        }
        String[][] legend = {{"#9ecae1", "idle (HLT)"}, {"#31a354", "busy, IF=1"}, {"#de2d26", "busy, IF=0"},
            {"#bdbdbd", "user mode"}};
        int lx = LEFT;
        for (String[] l : legend) {
            b.append("<rect x=\"").append(lx).append("\" y=\"").append(h - 14).append("\" width=\"12\" height=\"10\" fill=\"")
                    .append(l[0]).append("\"/>");
            b.append(text(lx + 16, h - 5, l[1], "legend"));
            lx += 130;
        }
        return close(b, top, bottom);
    }

    private VcpuSample cpuAt(int i, int c) {
        for (VcpuSample n : samples.get(i).cpus()) {
            if (n.cpu() == c) {
                return n;
            }
        }
        return null;
    }

    /** Samples {@code from} up to (not including) {@code to} in one state: from the first's time to the next one's. */
    private void run(StringBuilder b, int from, int to, int y, int row, String name, String color) {
        double x0 = x(t[from]);
        double x1 = x(t[to]);
        b.append("<rect x=\"").append(fmt(x0)).append("\" y=\"").append(y + 2).append("\" width=\"")
                .append(fmt(Math.max(0.5, x1 - x0))).append("\" height=\"").append(row - 4).append("\" shape-rendering=\"crispEdges\" fill=\"")
                .append(color).append("\"><title>").append(ReportHtml.escape(name + ", " + seconds(t[from]) + " to "
                        + seconds(t[to]))).append("</title></rect>\n");
    }

    static String stateColor(VcpuSample cpu) {
        if (cpu.halted()) {
            return "#9ecae1";
        }
        if (cpu.cpl() == 3) {
            return "#bdbdbd";
        }
        return cpu.interruptsEnabled() ? "#31a354" : "#de2d26";
    }

    private static String stateName(VcpuSample cpu) {
        String sym = cpu.ripSymbol() != null ? " at " + cpu.ripSymbol() : "";
        if (cpu.halted()) {
            return "idle (HLT)" + sym;
        }
        if (cpu.cpl() == 3) {
            return "user mode";
        }
        return (cpu.interruptsEnabled() ? "busy, IF=1" : "busy, IF=0") + sym;
    }

    private String console() {
        int top = top();
        int bottom = top + 66;
        int h = bottom + 24;
        StringBuilder b = open("console", "console output per sample (bytes)", h, top, bottom);
        double max = 0;
        double[] d = new double[t.length];
        for (int i = 1; i < t.length; i++) {
            long a = samples.get(i - 1).consoleBytes();
            long c = samples.get(i).consoleBytes();
            d[i] = a < 0 || c < 0 ? 0 : Math.max(0, c - a);
            max = Math.max(max, d[i]);
        }
        for (int i = 1; i < t.length; i++) {
            if (d[i] <= 0) {
                continue;
            }
            double x0 = x(t[i - 1]);
            double x1 = x(t[i]);
            double hh = Math.max(1.5, d[i] / max * (bottom - top - INSET));
            b.append("<rect x=\"").append(fmt(x0)).append("\" y=\"").append(fmt(bottom - hh)).append("\" width=\"")
                    .append(fmt(Math.max(1, x1 - x0))).append("\" height=\"").append(fmt(hh))
                    .append("\" fill=\"#756bb1\"><title>").append((long) d[i]).append(" bytes</title></rect>\n");
        }
        if (max == 0) {
            b.append(text(LEFT - 6, bottom, "all 0", "ylab"));
            b.append(text(LEFT + 10, (top + bottom) / 2.0, "silent: no console output in the series", "note"));
        } else {
            b.append(text(LEFT - 6, top + INSET + 4, num(max), "ylab"));
            b.append(text(LEFT - 6, bottom, "0", "ylab"));
        }
        return close(b, top, bottom);
    }

    /** Opens the figure: its title, the shade over the time since the onset, and the marker labels. */
    private StringBuilder open(String id, String title, int h, int top, int bottom) {
        StringBuilder b = new StringBuilder();
        b.append("<figure id=\"plot-").append(id).append("\">\n<svg width=\"").append(WIDTH).append("\" height=\"")
                .append(h).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(h)
                .append("\" role=\"img\" aria-label=\"").append(ReportHtml.escape(title)).append("\">\n");
        b.append(text(LEFT, 14, title, "title"));
        if (visible(onset)) {
            double x0 = x(onset);
            b.append("<rect class=\"stalled\" x=\"").append(fmt(x0)).append("\" y=\"").append(top).append("\" width=\"")
                    .append(fmt(x(tMax) - x0)).append("\" height=\"").append(bottom - top)
                    .append("\" fill=\"#d62728\" fill-opacity=\"0.06\"/>\n");
        }
        for (Label l : labels) {
            b.append("<text class=\"label-").append(l.cls()).append("\" x=\"").append(fmt(l.x())).append("\" y=\"")
                    .append(BAND_TOP + LABEL_ROW * (l.row() + 1) - 2).append("\" text-anchor=\"")
                    .append(l.anchorEnd() ? "end" : "start").append("\" fill=\"").append(l.color())
                    .append("\" font-size=\"11\">").append(ReportHtml.escape(l.text())).append("</text>\n");
        }
        return b;
    }

    /** The step between time ticks: the smallest that keeps labels {@link #MIN_TICK_PX} apart. */
    static double tickStep(double range, double px) {
        for (double s : STEPS) {
            if (s / range * px >= MIN_TICK_PX) {
                return s;
            }
        }
        return STEPS[STEPS.length - 1] * Math.ceil(range / STEPS[STEPS.length - 1] * MIN_TICK_PX / px);
    }

    /** Axis, time ticks and the onset and verdict lines (their labels are in the band), then closes the figure. */
    private String close(StringBuilder b, int top, int bottom) {
        b.append("<line x1=\"").append(LEFT).append("\" y1=\"").append(bottom).append("\" x2=\"").append(WIDTH - RIGHT)
                .append("\" y2=\"").append(bottom).append("\" stroke=\"#444\"/>\n");
        double range = tMax - tMin;
        double step = tickStep(range, WIDTH - LEFT - RIGHT);
        for (int i = 0; -i * step >= tMin - 1e-9; i++) {
            double s = -i * step;
            double xx = x(s);
            b.append("<line x1=\"").append(fmt(xx)).append("\" y1=\"").append(bottom).append("\" x2=\"").append(fmt(xx))
                    .append("\" y2=\"").append(bottom + 4).append("\" stroke=\"#444\"/>");
            b.append(text(xx, bottom + 16, (i == 0 ? "0" : String.format(Locale.ROOT, step < 1 ? "%.1f" : "%.0f", s)) + " s", "xlab"));
        }
        b.append('\n');
        marker(b, onset, "onset", "#d62728", top, bottom);
        marker(b, decided, "verdict", "#222", top, bottom);
        b.append("</svg>\n</figure>\n");
        return b.toString();
    }

    private void marker(StringBuilder b, Double at, String label, String color, int top, int bottom) {
        if (!visible(at)) {
            return;
        }
        double xx = x(at);
        b.append("<line class=\"marker-").append(label).append("\" x1=\"").append(fmt(xx)).append("\" y1=\"")
                .append(BAND_TOP + 2).append("\" x2=\"").append(fmt(xx)).append("\" y2=\"").append(bottom)
                .append("\" stroke=\"").append(color).append("\" stroke-width=\"1.5\" stroke-dasharray=\"5,3\"/>\n");
    }

    private static String text(double x, double y, String s, String cls) {
        String anchor = cls.equals("ylab") ? "end" : cls.equals("xlab") ? "middle" : "start";
        return "<text class=\"" + cls + "\" x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" text-anchor=\"" + anchor + "\">"
                + ReportHtml.escape(s) + "</text>";
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%.1f", v);
    }
}
