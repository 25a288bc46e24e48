package dev.tickwatch.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The shell's own line syntax, its pager and its suggestions, without a terminal. */
class ShellLineTest {

    private static ShellLine.Step one(String line) {
        List<ShellLine.Step> s = ShellLine.parse(line).steps();
        assertEquals(1, s.size(), line + ": " + s);
        return s.get(0);
    }

    @Test
    void pipesRedirectionsAndHostCommandsAsCrashHasThem() {
        ShellLine.Step pipe = one("tasks --state D | grep -c 'kworker|rcu'");
        assertEquals(List.of("tasks", "--state", "D"), pipe.words());
        assertEquals("grep -c 'kworker|rcu'", pipe.pipe());

        ShellLine.Step file = one("timers >t.txt");
        assertEquals(List.of("timers"), file.words());
        assertEquals("t.txt", file.file());
        assertFalse(file.append());
        ShellLine.Step append = one("jiffies >> 'my log.txt'");
        assertEquals("my log.txt", append.file());
        assertTrue(append.append());

        ShellLine.Step host = one("!ls -l; echo done");
        assertEquals("ls -l; echo done", host.host());

        // Quotes keep the special characters and the spaces inside a word.
        ShellLine.Step quoted = one("print 'struct hrtimer_cpu_base' \"a|b>c;d\" x\\|y");
        assertEquals(List.of("print", "struct hrtimer_cpu_base", "a|b>c;d", "x|y"), quoted.words());
        assertEquals(null, quoted.pipe());
        assertEquals(null, quoted.file());

        List<ShellLine.Step> several = ShellLine.parse("cpus; timers > t.txt ;; !uname -r").steps();
        assertEquals(3, several.size());
        assertEquals(List.of("cpus"), several.get(0).words());
        assertEquals("t.txt", several.get(1).file());
        assertEquals("uname -r", several.get(2).host());
    }

    @Test
    void badLinesSayWhatIsMissing() {
        assertEquals("unclosed single quote", assertThrows(IllegalArgumentException.class,
                () -> ShellLine.parse("print 'struct x")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ShellLine.parse("timers >"))
                .getMessage().startsWith("'>' needs a file name"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ShellLine.parse("timers |"))
                .getMessage().startsWith("'|' needs a host command"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ShellLine.parse("timers > a b"))
                .getMessage().startsWith("one file after '>'"));
    }

    @Test
    void mistypedNamesFindTheNearestCommands() {
        List<String> names = List.of("cpus", "timers", "tasks", "status", "snapshot", "sym", "symbols", "set");
        assertEquals(List.of("cpus"), LineRunner.nearest("cpsu", names));
        assertEquals(List.of("timers"), LineRunner.nearest("timer", names));
        assertEquals(List.of("snapshot"), LineRunner.nearest("snap", names));
        assertEquals(List.of("set", "sym"), LineRunner.nearest("sem", names));
        assertEquals(List.of(), LineRunner.nearest("frobnicate", names));
        assertEquals(1, LineRunner.edits("cpsu", "cpus"));
        assertEquals(3, LineRunner.edits("", "abc"));
    }

    private static String lines(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= n; i++) {
            sb.append("line ").append(i).append('\n');
        }
        return sb.toString();
    }

    @Test
    void thePagerStopsEachScreenfulAndQuitStopsTheCommand() throws IOException {
        StringWriter out = new StringWriter();
        Deque<Integer> keys = new ArrayDeque<>(List.of((int) ' ', (int) '\n', (int) 'q'));
        AtomicInteger quits = new AtomicInteger();
        Pager p = new Pager(out, 5, 80, () -> keys.isEmpty() ? -1 : keys.poll(), quits::incrementAndGet);
        p.write(lines(20));
        p.flush();
        String shown = out.toString().replace("\r" + " ".repeat(Pager.PROMPT.length()) + "\r", "");
        // 4 lines, prompt; space: 4 more; enter: 1 more; q: the rest dropped.
        assertEquals(lines(4) + Pager.PROMPT + lines(8).substring(lines(4).length()) + Pager.PROMPT + "line 9\n"
                + Pager.PROMPT, shown);
        assertTrue(p.quit());
        assertEquals(1, quits.get());
        p.write("more\n");
        assertFalse(out.toString().contains("more"));
    }

    @Test
    void thePagerCountsWrappedLinesAndIsSilentForShortOutput() throws IOException {
        StringWriter out = new StringWriter();
        Pager p = new Pager(out, 5, 10, () -> 'q', () -> { });
        p.write("x".repeat(25) + "\n" + "y\n");
        // 25 characters at 10 columns are 3 rows; with "y" that is 4: one screenful, no prompt.
        assertFalse(out.toString().contains(Pager.PROMPT), out.toString());
        p.write("z\n");
        assertTrue(out.toString().endsWith(Pager.PROMPT + "\r" + " ".repeat(Pager.PROMPT.length()) + "\r"),
                out.toString());
    }

    @Test
    void completionListsOneSummaryPerCommandWithoutNestedBrackets() {
        assertEquals("symbols   Lists kernel symbols",
                ShellCompleter.listed("symbols", 8, "Lists kernel symbols (all, or those starting with a prefix)"));
        assertEquals("snapshot  Captures a guest's state into a folder",
                ShellCompleter.listed("snapshot", 8, "Captures a guest's state into a folder: snapshot.json, report.txt (for LKML),"));
        assertEquals("exit", ShellCompleter.listed("exit", 8, null));
    }
}
