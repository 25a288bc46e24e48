package dev.tickwatch.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The HTML report's plots, drawn here as inline SVG (no scripts, no external assets, nothing to
 * load): over the sample series, jiffies, each CPU's local timer interrupts, each CPU's state
 * (idle in HLT, busy with interrupts on, busy with interrupts off, user mode) and console
 * activity, all on one time axis that ends at the last sample, with the hang's onset and the
 * verdict marked.
 */
final class Plots {

    static final int WIDTH = 960;
    static final int LEFT = 110;
    static final int RIGHT = 20;
    static final String[] PALETTE = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};

    private record Series(String name, String color, double[] t, Double[] y) {
    }

    private final JsonNode samples;
    private final double[] t;
    private final double tMin;
    private final double tMax;
    private final Double onset;
    private final Double decided;
    private final int cpuCount;

    Plots(JsonNode snapshot) {
        samples = snapshot.path("samples");
        int n = samples.size();
        t = new double[n];
        long end = n == 0 ? 0 : samples.get(n - 1).path("host_time_ns").asLong();
        for (int i = 0; i < n; i++) {
            t[i] = (samples.get(i).path("host_time_ns").asLong() - end) / 1e9;
        }
        tMax = 0;
        tMin = n < 2 ? -1 : Math.min(-1, t[0]);
        JsonNode v = snapshot.path("verdict");
        onset = v.has("onset_ns") && n > 0 ? (v.path("onset_ns").asLong() - end) / 1e9 : null;
        decided = v.has("decided_ns") && n > 0 ? (v.path("decided_ns").asLong() - end) / 1e9 : null;
        int cpus = 0;
        for (JsonNode s : samples) {
            cpus = Math.max(cpus, s.path("cpus").size());
        }
        cpuCount = cpus;
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
            JsonNode k = samples.get(i).path("kernel");
            y[i] = k.isObject() ? k.path("jiffies").asDouble() : null;
        }
        return lineChart("jiffies", "jiffies_64 (the kernel's tick count): flat means time stopped",
                List.of(new Series("jiffies", PALETTE[0], t, y)));
    }

    private String timerInterrupts() {
        List<Series> series = new ArrayList<>();
        for (int c = 0; c < cpuCount; c++) {
            Double[] y = new Double[t.length];
            for (int i = 0; i < t.length; i++) {
                JsonNode kc = samples.get(i).path("kernel").path("cpus");
                y[i] = null;
                for (JsonNode n : kc) {
                    if (n.path("cpu").asInt() == c) {
                        y[i] = n.path("local_timer_interrupts").asDouble();
                    }
                }
            }
            series.add(new Series("CPU" + c, PALETTE[c % PALETTE.length], t, y));
        }
        return lineChart("loc", "local timer interrupts per CPU (LOC, cumulative): flat means no timer fired",
                series);
    }

    private String lineChart(String id, String title, List<Series> series) {
        int h = 150;
        int top = 28;
        int bottom = h - 26;
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
        StringBuilder b = open(id, title, h);
        if (lo == Double.POSITIVE_INFINITY) {
            b.append(text(LEFT + 10, (top + bottom) / 2, "no kernel readings in the samples", "note"));
            return close(b, top, bottom, h);
        }
        double span = hi - lo == 0 ? 1 : hi - lo;
        double lo0 = lo;
        for (Series s : series) {
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i < s.t().length; i++) {
                Double v = s.y()[i];
                if (v == null) {
                    continue;
                }
                double yy = hi == lo ? (top + bottom) / 2.0 : bottom - (v - lo0) / span * (bottom - top);
                pts.append(fmt(x(s.t()[i]))).append(',').append(fmt(yy)).append(' ');
            }
            b.append("<polyline fill=\"none\" stroke=\"").append(s.color()).append("\" stroke-width=\"2\" points=\"")
                    .append(pts.toString().strip()).append("\"/>\n");
        }
        b.append(text(LEFT - 6, top + 4, num(hi), "ylab"));
        b.append(text(LEFT - 6, bottom, num(lo), "ylab"));
        if (series.size() > 1) {
            int lx = WIDTH - RIGHT - 70 * series.size();
            for (int i = 0; i < series.size(); i++) {
                Series s = series.get(i);
                b.append("<rect x=\"").append(lx + 70 * i).append("\" y=\"6\" width=\"12\" height=\"10\" fill=\"")
                        .append(s.color()).append("\"/>");
                b.append(text(lx + 70 * i + 16, 15, s.name(), "legend"));
            }
        }
        return close(b, top, bottom, h);
    }

    private String states() {
        int row = 22;
        int top = 28;
        int h = top + row * Math.max(1, cpuCount) + 46;
        int bottom = top + row * Math.max(1, cpuCount);
        StringBuilder b = open("state", "CPU state per sample: idle in HLT, busy (IF=1), busy with interrupts off (IF=0), user", h);
        for (int c = 0; c < cpuCount; c++) {
            int y = top + row * c;
            b.append(text(LEFT - 6, y + 15, "CPU" + c, "ylab"));
            for (int i = 0; i + 1 < t.length; i++) {
                JsonNode cpu = null;
                for (JsonNode n : samples.get(i).path("cpus")) {
                    if (n.path("cpu").asInt() == c) {
                        cpu = n;
                    }
                }
                if (cpu == null) {
                    continue;
                }
                String color = stateColor(cpu);
                double x0 = x(t[i]);
                double x1 = x(t[i + 1]);
                b.append("<rect x=\"").append(fmt(x0)).append("\" y=\"").append(y + 2).append("\" width=\"")
                        .append(fmt(Math.max(0.5, x1 - x0))).append("\" height=\"").append(row - 4).append("\" fill=\"")
                        .append(color).append("\"><title>").append(stateName(cpu)).append("</title></rect>\n");
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
        return close(b, top, bottom, h - 20);
    }

    static String stateColor(JsonNode cpu) {
        if (cpu.path("hlt").asBoolean()) {
            return "#9ecae1";
        }
        if (cpu.path("cpl").asInt() == 3) {
            return "#bdbdbd";
        }
        return cpu.path("if").asBoolean() ? "#31a354" : "#de2d26";
    }

    private static String stateName(JsonNode cpu) {
        String sym = cpu.path("rip_symbol").isTextual() ? " at " + cpu.path("rip_symbol").asText() : "";
        if (cpu.path("hlt").asBoolean()) {
            return "idle (HLT)" + sym;
        }
        if (cpu.path("cpl").asInt() == 3) {
            return "user mode";
        }
        return (cpu.path("if").asBoolean() ? "busy, IF=1" : "busy, IF=0") + sym;
    }

    private String console() {
        int h = 120;
        int top = 28;
        int bottom = h - 26;
        StringBuilder b = open("console", "console output per sample (bytes)", h);
        double max = 0;
        double[] d = new double[t.length];
        for (int i = 1; i < t.length; i++) {
            long a = samples.get(i - 1).path("console_bytes").asLong();
            long c = samples.get(i).path("console_bytes").asLong();
            d[i] = a < 0 || c < 0 ? 0 : Math.max(0, c - a);
            max = Math.max(max, d[i]);
        }
        for (int i = 1; i < t.length; i++) {
            if (d[i] <= 0) {
                continue;
            }
            double x0 = x(t[i - 1]);
            double x1 = x(t[i]);
            double hh = d[i] / max * (bottom - top);
            b.append("<rect x=\"").append(fmt(x0)).append("\" y=\"").append(fmt(bottom - hh)).append("\" width=\"")
                    .append(fmt(Math.max(1, x1 - x0))).append("\" height=\"").append(fmt(hh))
                    .append("\" fill=\"#756bb1\"><title>").append((long) d[i]).append(" bytes</title></rect>\n");
        }
        b.append(text(LEFT - 6, top + 4, num(max), "ylab"));
        b.append(text(LEFT - 6, bottom, "0", "ylab"));
        if (max == 0) {
            b.append(text(LEFT + 10, (top + bottom) / 2, "silent: no console output in the series", "note"));
        }
        return close(b, top, bottom, h);
    }

    private StringBuilder open(String id, String title, int h) {
        StringBuilder b = new StringBuilder();
        b.append("<figure id=\"plot-").append(id).append("\">\n<svg width=\"").append(WIDTH).append("\" height=\"")
                .append(h).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(h)
                .append("\" role=\"img\" aria-label=\"").append(ReportHtml.escape(title)).append("\">\n");
        b.append(text(LEFT, 16, title, "title"));
        return b;
    }

    /** Axis, time ticks and the onset and verdict markers, then closes the figure. */
    private String close(StringBuilder b, int top, int bottom, int h) {
        b.append("<line x1=\"").append(LEFT).append("\" y1=\"").append(bottom).append("\" x2=\"").append(WIDTH - RIGHT)
                .append("\" y2=\"").append(bottom).append("\" stroke=\"#444\"/>\n");
        double range = tMax - tMin;
        double step = range > 40 ? 10 : range > 16 ? 5 : range > 6 ? 2 : range > 2 ? 1 : 0.5;
        for (double s = 0; s >= tMin - 1e-9; s -= step) {
            double xx = x(s);
            b.append("<line x1=\"").append(fmt(xx)).append("\" y1=\"").append(bottom).append("\" x2=\"").append(fmt(xx))
                    .append("\" y2=\"").append(bottom + 4).append("\" stroke=\"#444\"/>");
            b.append(text(xx, bottom + 16, (s == 0 ? "0" : String.format(Locale.ROOT, step < 1 ? "%.1f" : "%.0f", s)) + " s", "xlab"));
        }
        marker(b, onset, "onset", "#d62728", top, bottom);
        marker(b, decided, "verdict", "#222", top, bottom);
        b.append("</svg>\n</figure>\n");
        return b.toString();
    }

    private void marker(StringBuilder b, Double at, String label, String color, int top, int bottom) {
        if (at == null || at < tMin - 1e-9 || at > tMax + 1e-9) {
            return;
        }
        double xx = x(at);
        b.append("<line class=\"marker-").append(label).append("\" x1=\"").append(fmt(xx)).append("\" y1=\"").append(top - 6)
                .append("\" x2=\"").append(fmt(xx)).append("\" y2=\"").append(bottom).append("\" stroke=\"").append(color)
                .append("\" stroke-width=\"1.5\" stroke-dasharray=\"5,3\"/>");
        // Near the right edge the label goes left of the line, or it would be cut off.
        boolean left = xx > WIDTH - RIGHT - 60;
        b.append("<text x=\"").append(fmt(left ? xx - 3 : xx + 3)).append("\" y=\"").append(top + 6)
                .append("\" text-anchor=\"").append(left ? "end" : "start").append("\" fill=\"").append(color)
                .append("\" font-size=\"11\">").append(label).append("</text>\n");
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
