package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.util.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** report.html: the text report's content plus inline SVG plots, and nothing loaded from anywhere. */
class ReportHtmlTest {

    private static void assertSelfContained(String html) {
        String lower = html.toLowerCase(Locale.ROOT);
        for (String external : new String[] {"http:", "https:", "<script", "<link", "<img", "<iframe", "src=", "href=",
            "url(", "@import", "javascript:"}) {
            assertFalse(lower.contains(external), "no external reference or script: " + external);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"timer-stall-lost", "spin-deadlock", "timer-stall-30s"})
    void realSnapshotsGetFourPlotsWithTheOnsetMarked(String mode) {
        String html = ReportHtml.render(SnapshotDoc.of(ReportFixtures.real(mode)));
        assertSelfContained(html);
        assertEquals(4, count(html, "<svg "), "jiffies, timer interrupts, CPU state, console");
        for (String id : new String[] {"plot-jiffies", "plot-loc", "plot-state", "plot-console"}) {
            assertTrue(html.contains("<figure id=\"" + id + "\">"), id);
        }
        assertEquals(4, count(html, "class=\"marker-onset\""), "the onset on every plot");
        assertTrue(html.contains("<polyline"), "lines drawn");
        assertTrue(html.contains(ReportHtml.escape(ReportText.render(SnapshotDoc.of(ReportFixtures.real(mode))).lines()
                .filter(l -> l.startsWith("RIP: ")).findFirst().orElseThrow())), "the text report's content");
    }

    @Test
    void theSpinDeadlockStatePlotEndsRedForInterruptsOff() {
        String html = ReportHtml.render(SnapshotDoc.of(ReportFixtures.real("spin-deadlock")));
        String state = html.substring(html.indexOf("<figure id=\"plot-state\">"));
        state = state.substring(0, state.indexOf("</figure>"));
        Matcher m = Pattern.compile("fill=\"(#[0-9a-f]{6})\"><title>([^<]*)</title>").matcher(state);
        String lastFill = null;
        String lastTitle = null;
        while (m.find()) {
            lastFill = m.group(1);
            lastTitle = m.group(2);
        }
        assertEquals("#de2d26", lastFill, lastTitle);
        assertTrue(lastTitle.startsWith("busy, IF=0 at native_queued_spin_lock_slowpath"), lastTitle);
    }

    @Test
    void everythingFromTheSnapshotIsEscaped() {
        String html = ReportHtml.render(SnapshotDoc.of(ReportFixtures.awkward()));
        assertSelfContained(html);
        assertFalse(html.contains("<script>alert(1)</script>"));
        assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
        assertFalse(html.contains("\u001b"));
    }

    @Test
    void withoutSamplesThereAreNoPlotsAndASentenceSaysWhy() {
        var s = ReportFixtures.awkward();
        s.putArray("samples");
        String html = ReportHtml.render(SnapshotDoc.of(s));
        assertEquals(0, count(html, "<svg "));
        assertTrue(html.contains("No plots: the snapshot holds fewer than two samples."));
    }

    private static String figure(String html, String id) {
        String f = html.substring(html.indexOf("<figure id=\"plot-" + id + "\">"));
        return f.substring(0, f.indexOf("</figure>"));
    }

    private static double axisY(String figure) {
        Matcher m = Pattern.compile("<line x1=\"110\" y1=\"(\\d+)\" x2=\"940\"").matcher(figure);
        assertTrue(m.find(), figure);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void aStallSnapshottedLongAfterItsOnsetShowsTheOnsetWithTheBootBeforeIt() {
        String html = ReportHtml.render(SnapshotDoc.of(ReportFixtures.real("timer-stall-30s")));
        String jiffies = figure(html, "jiffies");
        assertTrue(jiffies.contains(">onset -37.1 s</text>"), jiffies);
        assertTrue(jiffies.contains(">decided 0 s</text>"), jiffies);
        assertTrue(jiffies.contains("class=\"stalled\""), "the time since the onset is shaded");
        Matcher m = Pattern.compile("class=\"marker-onset\" x1=\"([0-9.]+)\"").matcher(jiffies);
        assertTrue(m.find());
        // 40 s on 830 px: the onset 37.1 s back sits 2.8 s (about 58 px) right of the first sample.
        assertEquals(110 + 2.78 / 39.86 * 830, Double.parseDouble(m.group(1)), 3);
        assertTrue(jiffies.contains(">-35 s</text>") && !jiffies.contains(">-36 s</text>"), "ticks every 5 s");
    }

    @Test
    void linesAtTheirMinimumStayAboveTheAxisAndCoincidingLinesBothShow() {
        String loc = figure(ReportHtml.render(SnapshotDoc.of(ReportFixtures.real("timer-stall-30s"))), "loc");
        double axis = axisY(loc);
        Matcher m = Pattern.compile("stroke-width=\"([0-9.]+)\"[^>]*points=\"([^\"]+)\"").matcher(loc);
        List<Double> widths = new ArrayList<>();
        while (m.find()) {
            widths.add(Double.parseDouble(m.group(1)));
            for (String p : m.group(2).split(" ")) {
                double y = Double.parseDouble(p.split(",")[1]);
                assertTrue(y <= axis - Plots.INSET, "a point at y=" + y + " on or near the axis at " + axis);
            }
        }
        assertEquals(2, widths.size());
        assertTrue(widths.get(0) > widths.get(1), "CPU0 underneath and wider: " + widths);
    }

    @Test
    void anAxisWhoseValuesAreAllEqualSaysSoOnce() {
        ObjectNode s = (ObjectNode) ReportFixtures.real("timer-stall-30s").deepCopy();
        ArrayNode samples = (ArrayNode) s.path("samples");
        ArrayNode frozen = Json.MAPPER.createArrayNode();
        for (int i = samples.size() - 20; i < samples.size(); i++) {
            frozen.add(samples.get(i));
        }
        s.set("samples", frozen);
        String html = ReportHtml.render(SnapshotDoc.of(s));
        String jiffies = figure(html, "jiffies");
        assertTrue(jiffies.contains(">all 4294893103</text>"), jiffies);
        assertEquals(1, count(jiffies, "class=\"ylab\""), "one label, not the value at both ends");
        String console = figure(html, "console");
        assertTrue(console.contains(">all 0</text>"), console);
        assertTrue(console.contains("silent: no console output in the series"));
    }

    @Test
    void markerLabelsSitAboveThePlotAndApartEvenWhenTheOnsetIsJustBeforeTheVerdict() {
        ObjectNode s = (ObjectNode) ReportFixtures.real("timer-stall-lost").deepCopy();
        ObjectNode v = (ObjectNode) s.path("verdict");
        v.put("onset_ns", v.path("decided_ns").asLong() - 100_000_000L);
        String loc = figure(ReportHtml.render(SnapshotDoc.of(s)), "loc");
        Matcher m = Pattern.compile("<text class=\"label-(onset|verdict)\" x=\"([0-9.]+)\" y=\"(\\d+)\" text-anchor=\"(\\w+)\"[^>]*>([^<]+)<")
                .matcher(loc);
        List<double[]> boxes = new ArrayList<>();
        while (m.find()) {
            double x = Double.parseDouble(m.group(2));
            double w = Plots.width(m.group(5));
            double left = m.group(4).equals("end") ? x - w : x;
            boxes.add(new double[] {left, left + w, Double.parseDouble(m.group(3))});
            assertTrue(left >= 0 && left + w <= Plots.WIDTH, "inside the figure: " + m.group(5));
        }
        assertEquals(2, boxes.size(), loc);
        double[] a = boxes.get(0);
        double[] b = boxes.get(1);
        assertTrue(a[2] != b[2] || a[1] < b[0] || b[1] < a[0], "the two labels overlap");
        Matcher top = Pattern.compile("class=\"stalled\" x=\"[0-9.]+\" y=\"(\\d+)\"").matcher(loc);
        assertTrue(top.find());
        assertTrue(Math.max(a[2], b[2]) < Integer.parseInt(top.group(1)), "labels above the data area");
    }

    @Test
    void timeTicksAreFarEnoughApartForTheirLabels() {
        assertEquals(5, Plots.tickStep(40, 830));
        assertEquals(0.5, Plots.tickStep(5, 830));
        for (double range : new double[] {0.3, 2, 7, 60, 600, 3600, 86400}) {
            double step = Plots.tickStep(range, 830);
            assertTrue(step / range * 830 >= Plots.MIN_TICK_PX, range + " s: step " + step);
            assertTrue(range / step <= 20, range + " s: step " + step);
        }
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
