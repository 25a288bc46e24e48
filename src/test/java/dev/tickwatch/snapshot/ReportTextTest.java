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
    @ValueSource(strings = {"timer-stall-lost", "spin-deadlock"})
    void realSnapshotsRebuildTheReportTheyWereWrittenWith(String mode) {
        JsonNode s = ReportFixtures.real(mode);
        String report = ReportText.render(s);
        assertEquals(ReportFixtures.realReport(mode), report, "report.txt comes from snapshot.json alone");
        assertFitsAMail(report.replaceAll("(?m)^  \\[.*$", "")); // console lines are the guest's, cut not cleaned
    }

    @Test
    void theVerdictAndEvidenceComeFirstThenCpusTimersTasksEnvironmentAndReproduction() {
        String r = ReportText.render(ReportFixtures.real("timer-stall-lost"));
        assertTrue(r.startsWith("tickwatch snapshot: TIMER_STALL (lost-timer), confidence "), r.lines().findFirst().orElse(""));
        int evidence = r.indexOf("Evidence:\n  - ");
        int cpus = r.indexOf("\nPer-CPU state\n");
        int timers = r.indexOf("\nTimer view (as /proc/timer_list)\n");
        int tasks = r.indexOf("\nBlocked and running tasks\n");
        int env = r.indexOf("\nEnvironment\n");
        int repro = r.indexOf("\nTo reproduce\n");
        assertTrue(0 < evidence && evidence < cpus && cpus < timers && timers < tasks && tasks < env && env < repro,
                List.of(evidence, cpus, timers, tasks, env, repro).toString());
        assertTrue(r.contains("RIP: 0010:native_safe_halt+0xb/0x10"), "kernel oops layout of RIP");
        assertTrue(r.contains("\n ? do_idle+"), "stack scan entries marked '?'");
        assertTrue(r.contains("LAPIC timer: one-shot, vector 236, initial 0, current 0 (nothing armed)"));
        assertTrue(r.contains("tick_next_period: KTIME_MAX"));
        assertTrue(r.contains("  tickwatch lab timer-stall-lost\n"));
        assertTrue(r.contains("  qemu-system-x86_64 \\\n"));
    }

    @Test
    void awkwardTextIsWrappedCutOrQuotedToStayWithin80Columns() {
        String r = ReportText.render(ReportFixtures.awkward());
        assertFitsAMail(r);
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
        lines.forEach(l -> assertTrue(l.length() <= 40, l));
        assertEquals(text.replace(" ", ""), String.join("", lines).replace(" ", "").replace("-", ""));
    }
}
