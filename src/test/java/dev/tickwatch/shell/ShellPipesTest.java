package dev.tickwatch.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.cli.Main;
import dev.tickwatch.command.ExitCode;
import dev.tickwatch.testing.FakeQmpPeer;
import dev.tickwatch.testing.QmpTranscript;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import org.jline.terminal.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shell's line syntax end to end, through a dumb terminal and through {@code attach -c/-x},
 * against the QMP peer that replays a real QEMU 7.2 session: pipes into the host shell,
 * {@code >} and {@code >>}, {@code !} commands, the pager off by default on a dumb terminal and on
 * with {@code set pager on}, batch runs that print only the commands' output and exit with the
 * last command's code, and the mistyped-command message.
 */
class ShellPipesTest {

    private static final QmpTranscript SESSION = QmpTranscript.load("session-7.2.txt");
    private static final Duration STEP = Duration.ofSeconds(20);

    @TempDir
    Path work;

    @Test
    void pipesRedirectionHostCommandsAndTheMistypedCommand() throws Exception {
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION);
                ShellHarness sh = new ShellHarness(peer.endpoint(), null, null)) {
            sh.awaitAfter(0, STEP, t -> t.contains("tickwatch [running]> "));

            String grep = sh.command("help | grep -E '^  (snapshot|report) '", STEP);
            assertEquals(2, grep.lines().filter(l -> l.startsWith("  ")).count(), grep);
            assertTrue(grep.contains("  snapshot ") && grep.contains("  report ") && !grep.contains("  cpus "), grep);

            Path t = work.resolve("status.txt");
            String quiet = sh.command("qmp query-status > " + t, STEP);
            assertFalse(quiet.contains("running"), "redirected output is not shown: " + quiet);
            assertTrue(Pattern.compile("\"status\"\\s*:\\s*\"running\"").matcher(Files.readString(t)).find(),
                    Files.readString(t));
            sh.command("qmp query-status >> " + t, STEP);
            assertEquals(2, Pattern.compile("\"status\"").matcher(Files.readString(t)).results().count(), Files.readString(t));
            sh.command("qmp query-status > " + t, STEP);
            assertEquals(1, Pattern.compile("\"status\"").matcher(Files.readString(t)).results().count(),
                    "> replaces the file: " + Files.readString(t));
            try (var files = Files.list(work)) {
                assertEquals(1, files.count(), "no temporary file is left beside it");
            }

            String host = sh.command("!echo from-the-host; echo second", STEP);
            assertTrue(host.contains("from-the-host") && host.contains("second"), host);
            String both = sh.command("set pager; qmp query-status | grep -c '\"status\"'", STEP);
            assertTrue(both.contains("pager off") && both.lines().anyMatch(l -> l.strip().equals("1")), both);

            // Completion: one summary per command, lined up after the names, in no brackets of JLine's.
            int mark = sh.mark();
            sh.keys.type("s\t\t");
            String list = sh.awaitAfter(mark, STEP, x -> x.contains("symbols ") && x.contains("status "));
            assertTrue(list.contains("snapshot  Captures a guest's state into a folder"), list);
            assertTrue(list.contains("symbols   Lists kernel symbols"), list);
            assertFalse(list.contains("("), list);
            sh.keys.type("\u0015");

            String mistyped = sh.command("cpsu", STEP);
            assertTrue(mistyped.contains("tickwatch: unknown command 'cpsu'; did you mean cpus?"), mistyped);
            assertFalse(mistyped.contains("Unmatched"), mistyped);
            sh.keys.type("exit\n");
            assertEquals(ExitCode.OK, sh.awaitExit(STEP), "exit, the last command, succeeded");
        }
    }

    @Test
    void thePagerIsOffOnADumbTerminalAndPagesWhenTurnedOn() throws Exception {
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION);
                ShellHarness sh = new ShellHarness(peer.endpoint(), null, null)) {
            sh.awaitAfter(0, STEP, t -> t.contains("tickwatch [running]> "));
            sh.terminal.setSize(new Size(200, 8));
            String all = sh.command("help", STEP);
            assertFalse(all.contains(Pager.PROMPT), all);
            assertTrue(all.lines().count() > 20, all);

            assertTrue(sh.command("set pager on", STEP).contains("pager on"));
            int mark = sh.mark();
            sh.keys.type("help\n");
            String first = sh.awaitAfter(mark, STEP, t -> t.contains(Pager.PROMPT));
            // Seven rows a screen (eight less the prompt's): the header and six commands, then the prompt.
            assertTrue(first.contains("Commands (") && !first.contains("  exit "), first);
            mark = sh.mark();
            sh.keys.type(" ");
            String second = sh.awaitAfter(mark, STEP, t -> t.contains(Pager.PROMPT));
            assertFalse(second.contains("tickwatch [running]> "), second);
            mark = sh.mark();
            sh.keys.type("q");
            String after = sh.awaitAfter(mark, STEP, t -> t.contains("tickwatch [running]> "));
            assertFalse(after.contains("'help COMMAND'"), "q drops the rest: " + after);

            String typed = sh.command("status --no-verdict --json", STEP);
            assertTrue(typed.contains("\"status\":\"running\""), "keys after the pager reach the prompt: " + typed);
            sh.keys.type("exit\n");
            assertEquals(ExitCode.OK, sh.awaitExit(STEP));
        }
    }

    @Test
    void batchRunsPrintOnlyTheOutputAndExitWithTheLastCode() throws Exception {
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION)) {
            String qmp = peer.endpoint().toString();
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            Path help = work.resolve("help.txt");
            int code = Main.run(new PrintWriter(out), new PrintWriter(err), "attach", "--qmp", qmp,
                    "-c", "help > " + help + "; qmp query-status | grep -c '\"status\"'", "-c", "set");
            assertEquals(ExitCode.OK, code, err.toString());
            assertEquals("1\npager off    (pages output longer than the screen: space, enter, q)\n",
                    out.toString().replace("\r", ""), "only the commands' output: no banner, no prompt");
            assertTrue(Files.readString(help).contains("  snapshot "), Files.readString(help));

            out.getBuffer().setLength(0);
            err.getBuffer().setLength(0);
            code = Main.run(new PrintWriter(out), new PrintWriter(err), "attach", "--qmp", qmp, "-c", "set pager; cpsu");
            assertEquals(ExitCode.USAGE, code);
            assertTrue(err.toString().contains("tickwatch: unknown command 'cpsu'; did you mean cpus?"), err.toString());
            assertFalse(out.toString().contains("tickwatch ["), out.toString());

            err.getBuffer().setLength(0);
            code = Main.run(new PrintWriter(out), new PrintWriter(err), "attach", "--qmp", qmp, "-c", "print 'struct x");
            assertEquals(ExitCode.USAGE, code);
            assertTrue(err.toString().contains("tickwatch: unclosed single quote"), err.toString());

            Path script = Files.writeString(work.resolve("script"), "# a comment\n\nset pager\nexit\nset pager\n");
            out.getBuffer().setLength(0);
            code = Main.run(new PrintWriter(out), new PrintWriter(err), "attach", "--qmp", qmp, "-x", script.toString());
            assertEquals(ExitCode.OK, code, err.toString());
            assertEquals(1, out.toString().lines().count(), "exit ends the script: " + out);
        }
    }
}
