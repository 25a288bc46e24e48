package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** report.txt: plain text within 80 columns, verdict and evidence first, every section present. */
class ReportTextTest {

    private static void assertFitsAMail(String report) {
        for (String line : report.split("\n", -1)) {
            assertTrue(line.length() <= 80, "over 80 columns (" + line.length() + "): " + line);
            assertFalse(line.endsWith(" "), "trailing space: '" + line + "'");
        }
        assertTrue(report.chars().allMatch(c -> c == '\n' || (c >= 0x20 && c < 0x7f)), "plain ASCII, no colour codes");
    }

    @ParameterizedTest
    @ValueSource(strings = {"timer-stall-lost", "spin-deadlock", "timer-stall-30s"})
    void realSnapshotsRebuildTheReportTheyWereWrittenWith(String mode) {
        JsonNode s = ReportFixtures.real(mode);
        String report = ReportText.render(SnapshotDoc.of(s));
        assertEquals(ReportFixtures.realReport(mode), report, "report.txt comes from snapshot.json alone");
        assertFitsAMail(report.replaceAll("(?m)^  \\[.*$", "")); // console lines are the guest's, cut not cleaned
    }

    @Test
    void theVerdictAndEvidenceComeFirstThenCpusTimersTasksEnvironmentAndReproduction() {
        String r = ReportText.render(SnapshotDoc.of(ReportFixtures.real("timer-stall-lost")));
        assertTrue(r.startsWith("tickwatch snapshot: TIMER_STALL (lost-timer), confidence "), r.lines().findFirst().orElse(""));
        int evidence = r.indexOf("Evidence:\n  - ");
        int cpus = r.indexOf("\nPer-CPU state\n");
        int timers = r.indexOf("\nTimer view (as /proc/timer_list)\n");
        int tasks = r.indexOf("\nBlocked and running tasks\n");
        int env = r.indexOf("\nEnvironment\n");
        int repro = r.indexOf("\nTo reproduce\n");
        assertTrue(0 < evidence && evidence < cpus && cpus < timers && timers < tasks && tasks < env && env < repro,
                List.of(evidence, cpus, timers, tasks, env, repro).toString());
        assertTrue(r.contains("RIP: 0010:native_safe_halt+0xb/0x10\nRSP: 0018:"), "kernel oops layout of RIP");
        assertTrue(r.contains("\nFS:  0000000000000000(0000) GS:ffff8e954f800000(0000) knlGS:0000000000000000\n"
                + "CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033\n"), "__show_regs segment lines");
        assertTrue(r.contains("\n ? do_idle+"), "stack scan entries marked '?'");
        assertTrue(r.contains("LAPIC timer: one-shot, vector 236, initial 0, current 0 (nothing armed)"));
        assertTrue(r.contains("tick_next_period: KTIME_MAX"));
        assertTrue(r.contains("  tickwatch lab timer-stall-lost\n"));
        assertTrue(r.contains("  qemu-system-x86_64 \\\n"));
    }

    @Test
    void awkwardTextIsWrappedOrQuotedToStayWithin80Columns() {
        String r = ReportText.render(SnapshotDoc.of(ReportFixtures.awkward()));
        // A symbol wider than a line stands whole on its own line (grep finds it); all else fits.
        assertTrue(r.contains("\n    a_very_long_symbol_name_that_goes_on_and_on_without_any_space_at_all_really_quite"
                + "_long_indeed+0x30/0x2a0\n"), r);
        // Console lines are quoted whole, however long.
        assertTrue(r.contains("\n  [    3.198896] tickwatch-lab: " + "a long console line ".repeat(8).strip() + "\n"), r);
        assertFitsAMail(r.replaceAll("(?m)^ *\\S{77,}$", "").replaceAll("(?m)^  \\[.*$", ""));
        assertTrue(r.contains("  - CPU0 spins with interrupts off for 2.2 s: HLT=0 IF=0, RIP at\n    a_very_long_symbol"), r);
        assertTrue(r.contains("<script>"), "text is not HTML: no escaping here");
        assertTrue(r.contains("     94 [lab-abba/0]       D    0          1 31.5 s"), r);
        assertTrue(r.contains("(not available: the guest kernel could not be read)"));
        assertTrue(r.contains("HMP 'info registers -a' while the guest ran"));
        assertFalse(r.contains("\u001b"));
    }

    @Test
    void theReproduceCommandGivesBackTheExactArgvInAShell() throws IOException, InterruptedException {
        JsonNode s = ReportFixtures.awkward();
        List<String> argv = new ArrayList<>();
        s.path("environment").path("qemu_command").forEach(n -> argv.add(n.asText()));
        List<String> lines = Text.shellCommand(argv, 80, "  ");
        lines.forEach(l -> assertTrue(l.length() <= 80, l));
        // Replace the program by printf and let a real shell parse the pasted lines.
        String script = "printf '%s\\0' " + String.join("\n", lines).strip().substring("qemu-system-x86_64".length()).strip();
        Process p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        List<String> parsed = new ArrayList<>(List.of(out.split("\0", -1)));
        parsed.remove(parsed.size() - 1);
        assertEquals(argv.subList(1, argv.size()), parsed);
    }

    @Test
    void wrapNeverExceedsTheWidthAndKeepsEveryWord() {
        String text = "one two three " + "x".repeat(200) + " four five";
        List<String> lines = Text.wrap(text, 40, "  - ", "    ");
        // The one word wider than a line stands alone, whole; every other line fits.
        assertEquals(List.of("  - one two three", "    " + "x".repeat(200), "    four five"), lines);
        assertEquals(List.of("a b", "  c"), Text.wrap("a b c", 3, "", "  "));
    }

    @ParameterizedTest
    @ValueSource(strings = {"timer-stall-lost", "spin-deadlock", "timer-stall-30s"})
    void consoleLinesAreQuotedWholeNeverCutInsideAWord(String mode) {
        JsonNode s = ReportFixtures.real(mode);
        String report = ReportText.render(SnapshotDoc.of(s));
        List<String> lines = List.of(report.split("\n", -1));
        int quoted = 0;
        for (JsonNode line : s.path("console").path("tail")) {
            String l = line.asText().replace("\t", "    ").replaceAll("\\p{Cntrl}", "").stripTrailing();
            if (lines.contains("  " + l)) {
                quoted++;
            }
        }
        assertTrue(quoted >= 20, "the last 25 console lines are quoted whole: " + quoted);
        assertTrue(report.contains("\n  [    2.282866] tickwatch-lab: induced timer-stall-lost on 2 cpus: jiffies_64 frozen"
                + " at 4294892877\n") || !mode.equals("timer-stall-lost"), "a long line stays one line");
        assertFalse(report.contains("indu\n"), "no word cut at the margin");
    }

    @Test
    void quotingKeepsTheLineAndDropsOnlyControlCharacters() {
        String line = "[    2.1] tickwatch-lab: inducing timer-stall-lost (clockevent lapic, one-shot mode, 2 cpus)";
        assertEquals("  " + line, Text.quote(line, "  "));
        assertEquals("  a    b", Text.quote("a\tb\u001b\r", "  "));
    }
}
