package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    @ValueSource(strings = {"timer-stall-lost", "spin-deadlock"})
    void realSnapshotsGetFourPlotsWithTheOnsetMarked(String mode) {
        String html = ReportHtml.render(ReportFixtures.real(mode));
        assertSelfContained(html);
        assertEquals(4, count(html, "<svg "), "jiffies, timer interrupts, CPU state, console");
        for (String id : new String[] {"plot-jiffies", "plot-loc", "plot-state", "plot-console"}) {
            assertTrue(html.contains("<figure id=\"" + id + "\">"), id);
        }
        assertEquals(4, count(html, "class=\"marker-onset\""), "the onset on every plot");
        assertTrue(html.contains("<polyline"), "lines drawn");
        assertTrue(html.contains(ReportHtml.escape(ReportText.render(ReportFixtures.real(mode)).lines()
                .filter(l -> l.startsWith("RIP: ")).findFirst().orElseThrow())), "the text report's content");
    }

    @Test
    void theSpinDeadlockStatePlotEndsRedForInterruptsOff() {
        String html = ReportHtml.render(ReportFixtures.real("spin-deadlock"));
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
        String html = ReportHtml.render(ReportFixtures.awkward());
        assertSelfContained(html);
        assertFalse(html.contains("<script>alert(1)</script>"));
        assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
        assertFalse(html.contains("\u001b"));
    }

    @Test
    void withoutSamplesThereAreNoPlotsAndASentenceSaysWhy() {
        var s = ReportFixtures.awkward();
        s.putArray("samples");
        String html = ReportHtml.render(s);
        assertEquals(0, count(html, "<svg "));
        assertTrue(html.contains("No plots: the snapshot holds fewer than two samples."));
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
