package dev.tickwatch.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.cli.Main;
import dev.tickwatch.testing.FakeQmpPeer;
import dev.tickwatch.testing.QmpTranscript;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The shell through a dumb terminal against the QMP peer that replays a real QEMU 7.2 session:
 * help and completion from the command tree, errors as one line, history, and QEMU going away.
 * No guest memory here (the peer knows no memsave), so kernel commands say why they cannot run.
 */
class ShellTest {

    private static final QmpTranscript SESSION = QmpTranscript.load("session-7.2.txt");
    private static final Duration STEP = Duration.ofSeconds(20);

    @TempDir
    Path work;

    @Test
    void helpCompletionErrorsAndHistory() throws Exception {
        Path history = work.resolve("cache/tickwatch/shell-history");
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION);
                ShellHarness sh = new ShellHarness(peer.endpoint(), null, history)) {
            sh.awaitAfter(0, STEP, t -> t.contains("tickwatch [running]> "));
            assertTrue(sh.text().contains("no gdbstub: regs needs --gdb, bt reads registers while the guest runs"), sh.text());

            String help = sh.command("help", STEP);
            for (String c : new String[] {"status", "verdict", "watch", "cpus", "timers", "jiffies", "sym", "addr", "read",
                "regs", "bt", "poke", "snapshot", "report", "pause", "resume", "qmp", "hmp", "help", "exit"}) {
                assertTrue(Pattern.compile("(?m)^  " + c + " ").matcher(help).find(), c + " in help: " + help);
            }
            String usage = sh.command("help snapshot", STEP);
            assertTrue(usage.contains("--vmcore") && usage.contains("--out=DIR"), usage);

            // The CLI's qmp command: indented JSON by default, its own words for bad arguments.
            String qmp = sh.command("qmp query-status", STEP);
            assertTrue(Pattern.compile("\"status\"\\s*:\\s*\"running\"").matcher(qmp).find(), qmp);
            String bad = sh.command("qmp query-status [1]", STEP);
            assertTrue(bad.contains("tickwatch qmp: JSON-ARGS must be a JSON object"), bad);
            String unknown = sh.command("statu", STEP);
            assertTrue(unknown.contains("tickwatch: unknown command 'statu'; did you mean status?"), unknown);
            String bt = sh.command("bt 0", STEP);
            // bt needs the kernel's memory (its ORC tables), which this peer does not offer: it says so.
            assertTrue(bt.contains("tickwatch: guest kernel not readable"), bt);

            // Commands and options complete from the picocli tree.
            int mark = sh.mark();
            sh.keys.type("snapsh\t--vm\t");
            sh.awaitAfter(mark, STEP, t -> t.contains("snapshot --vmcore"));
            sh.keys.type("\u0015");
            mark = sh.mark();
            sh.keys.type("poke \t");
            String kinds = sh.awaitAfter(mark, STEP, t -> t.contains("nmi") && t.contains("key"));
            assertTrue(Pattern.compile("key\\s+nmi").matcher(kinds).find(), kinds);
            sh.keys.type("\u0015");

            String status = sh.command("status --json", STEP);
            assertTrue(status.contains("\"status\":\"running\"") && status.contains("\"gdb\":null"), status);
            sh.keys.type("exit\n");
            assertEquals(0, sh.awaitExit(STEP));
            String h = Files.readString(history);
            assertTrue(h.contains("qmp query-status") && h.contains("help snapshot"), h);
        }
    }

    @Test
    void helpPrintsPicocliUsageOfTheSameCommandClassTheCliMounts() throws Exception {
        CommandLine cliGuest = Main.commandLine().getSubcommands().get("guest");
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION);
                ShellHarness sh = new ShellHarness(peer.endpoint(), null, null)) {
            sh.awaitAfter(0, STEP, t -> t.contains("tickwatch [running]> "));
            Map<String, CommandLine> mounted = sh.shell.commands().getSubcommands();
            Map<String, CommandLine> cli = Map.of("cpus", cliGuest.getSubcommands().get("cpus"),
                    "read", cliGuest.getSubcommands().get("read"),
                    "watch", Main.commandLine().getSubcommands().get("watch"),
                    "snapshot", Main.commandLine().getSubcommands().get("snapshot"));
            for (Map.Entry<String, CommandLine> e : cli.entrySet()) {
                CommandLine sub = mounted.get(e.getKey());
                assertEquals(e.getValue().getCommandSpec().userObject().getClass(), sub.getCommandSpec().userObject().getClass(),
                        e.getKey() + ": the shell mounts the CLI's class");
                // (A dumb terminal's fresh-line mark, '~' and padding, may follow the output.)
                String help = sh.command("help " + e.getKey(), STEP).replaceAll("(?m)^~\\s*$", "");
                assertEquals(sub.getUsageMessage().strip(), help.strip(), "help " + e.getKey());
                // The same description as the CLI's; only the options saying where the guest is are gone.
                String description = String.join("\n", e.getValue().getCommandSpec().usageMessage().description());
                assertTrue(help.contains(description.lines().findFirst().orElseThrow()), help);
                assertTrue(!help.contains("--qmp") && e.getValue().getUsageMessage().contains("--qmp"), help);
            }
            sh.keys.type("exit\n");
            assertEquals(0, sh.awaitExit(STEP));
        }
    }

    @Test
    void qemuGoingAwayIsSaidOnceAndTheShellStaysUsable() throws Exception {
        // The peer drops the connection in the middle of inject-nmi's reply: QEMU dying under a command.
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION).fault("inject-nmi", FakeQmpPeer.Fault.CLOSE_MID_REPLY);
                ShellHarness sh = new ShellHarness(peer.endpoint(), null, null)) {
            sh.awaitAfter(0, STEP, t -> t.contains("tickwatch [running]> "));
            int mark = sh.mark();
            sh.keys.type("poke nmi\n");
            org.awaitility.Awaitility.await("QMP connection closed").atMost(STEP).until(sh.session::isGone);
            String gone = sh.awaitAfter(mark, STEP, t -> t.contains(ShellSession.GONE_LINE));
            assertEquals(1, gone.split(Pattern.quote(ShellSession.GONE_LINE), -1).length - 1, gone);
            String status = sh.command("status", STEP);
            assertTrue(status.startsWith("\ngone") || status.contains("gone: QEMU went away"), status);
            assertTrue(sh.text().endsWith("tickwatch [gone]> "), sh.text());
            String report = sh.command("report", STEP);
            assertTrue(report.contains("no snapshot taken in this shell"), report);
            String qmp = sh.command("qmp query-status", STEP);
            assertTrue(qmp.contains("QEMU is gone"), qmp);
            sh.keys.type("exit\n");
            assertEquals(0, sh.awaitExit(STEP));
        }
    }
}
