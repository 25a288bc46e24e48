package dev.tickwatch.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.lab.Lab;
import dev.tickwatch.lab.LabCheck;
import dev.tickwatch.lab.LabMode;
import dev.tickwatch.testing.Guests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shell through a dumb terminal with scripted keystrokes, attached to a real hung guest
 * (timer-stall-lost, KASLR on) through its second QMP socket and its gdbstub: what a kernel
 * developer sees, completion, history, Ctrl-C, the run state restored on exit, and QEMU dying
 * under a running {@code watch}.
 */
class ShellIT {

    private static final Duration COMMAND = Duration.ofSeconds(60);
    private static final Pattern CPU_LINE = Pattern.compile("(?m)^CPU(\\d+) RIP [0-9a-f]{16} (\\S+).* IF=(\\d) HLT=(\\d)");

    @TempDir
    Path work;

    private static QemuVm hungGuest(Path dir) throws InterruptedException {
        QemuVm vm = QemuVm.start(Lab.config(LabMode.TIMER_STALL_LOST, dir, true, List.of()).userMonitor(true).build());
        LabCheck.Result r = LabCheck.await(vm, LabMode.TIMER_STALL_LOST, Duration.ofSeconds(120));
        if (!r.reached()) {
            vm.close();
        }
        assertTrue(r.reached(), "the lab reached timer-stall-lost: " + r.evidence());
        return vm;
    }

    @Test
    void aKernelDeveloperLooksAtAHungGuest() throws Exception {
        Path history = work.resolve("cache/shell-history");
        try (QemuVm vm = hungGuest(work.resolve("vm"));
                ShellHarness sh = new ShellHarness(vm.userQmpEndpoint(), vm.gdbEndpoint(), history)) {
            sh.awaitAfter(0, COMMAND, t -> t.contains("tickwatch [running]> "));

            String cpus = sh.command("cpus", COMMAND);
            Matcher m = CPU_LINE.matcher(cpus);
            int n = 0;
            while (m.find()) {
                n++;
                assertEquals("1", m.group(3), "IF of CPU" + m.group(1) + ": " + cpus);
                assertEquals("1", m.group(4), "HLT of CPU" + m.group(1) + ": " + cpus);
            }
            assertEquals(2, n, "one line per vCPU: " + cpus);

            String verdict = sh.command("verdict", COMMAND);
            assertTrue(verdict.contains("TIMER_STALL"), verdict);

            String bt = sh.command("bt 0", COMMAND);
            assertTrue(bt.contains("CPU 0 ") && bt.contains("Call Trace:"), bt);
            assertTrue(bt.contains("native_safe_halt") || bt.contains("default_idle") || bt.contains("do_idle"),
                    "the idle routine: " + bt);
            assertTrue(bt.contains("(end of stack"), "unwound with ORC to the end of the stack: " + bt);
            assertTrue(vm.qmp().queryStatus().running(), "bt paused only inside the command");

            // Completion from kallsyms: 'jiff' + TAB extends to 'jiffies', a second TAB lists the choices.
            int mark = sh.mark();
            sh.keys.type("sym jiff\t\t");
            String listed = sh.awaitAfter(mark, COMMAND, t -> t.contains("jiffies_64"));
            assertTrue(Pattern.compile("(?m)(^|\\s)jiffies(\\s|$)").matcher(listed).find(), listed);
            // The line now reads 'sym jiffies': run it.
            String sym = sh.command("", COMMAND);
            assertTrue(Pattern.compile("(?m)^[0-9a-f]{16} jiffies$").matcher(sym).find(), sym);

            // Command completion and CPU completion.
            mark = sh.mark();
            sh.keys.type("ji\t");
            sh.awaitAfter(mark, COMMAND, t -> t.contains("jiffies"));
            String j = sh.command("", COMMAND);
            assertTrue(Pattern.compile("(?m)^\\d+$").matcher(j).find(), "jiffies prints a number: " + j);
            mark = sh.mark();
            sh.keys.type("regs \t");
            Pattern bothCpus = Pattern.compile("(?m)^0\\s+1\\s*$");
            String cpuChoices = sh.awaitAfter(mark, COMMAND, t -> bothCpus.matcher(t).find());
            sh.keys.type("\u0015"); // Ctrl-U: drop the line
            assertTrue(bothCpus.matcher(cpuChoices).find(), cpuChoices);

            // Ctrl-C stops 'watch', not the shell.
            mark = sh.mark();
            sh.keys.type("watch\n");
            sh.awaitAfter(mark, COMMAND, t -> t.contains("TIMER_STALL"));
            sh.keys.type("\u0003");
            String stopped = sh.awaitAfter(mark, COMMAND, t -> t.contains("(watch stopped)") && t.endsWith("tickwatch [running]> "));
            assertTrue(stopped.contains("(watch stopped)"), stopped);

            // An explicit pause shows in the prompt; exit asks, and the default resumes.
            String paused = sh.command("pause", COMMAND);
            assertTrue(paused.contains("paused"), paused);
            sh.awaitAfter(0, COMMAND, t -> t.endsWith("tickwatch [paused]> "));
            assertFalse(vm.qmp().queryStatus().running(), "paused by 'pause'");
            mark = sh.mark();
            sh.keys.type("exit\n");
            sh.awaitAfter(mark, COMMAND, t -> t.contains("Leave it paused? [y/N]"));
            sh.keys.type("\n");
            assertEquals(0, sh.awaitExit(COMMAND));
            assertTrue(sh.text().contains("tickwatch: resumed the guest"), sh.text());
            assertTrue(vm.qmp().queryStatus().running(), "the guest runs after exit");
            String h = Files.readString(history);
            assertTrue(h.contains("cpus") && h.contains("bt 0") && h.contains("sym jiffies"), "history file: " + h);
        }
    }

    @Test
    void withoutAGdbstubAndAfterQemuDiesTheShellStaysUsable() throws Exception {
        try (QemuVm vm = hungGuest(work.resolve("vm"));
                ShellHarness sh = new ShellHarness(vm.userQmpEndpoint(), null, work.resolve("h"))) {
            sh.awaitAfter(0, COMMAND, t -> t.contains("tickwatch [running]> "));
            String bt = sh.command("bt", COMMAND);
            // Without a gdbstub bt unwinds from HMP's registers, read while the guest runs.
            assertTrue(bt.contains("Call Trace:") && bt.contains("read while running: may tear"), bt);
            String regs = sh.command("regs 0", COMMAND);
            assertTrue(regs.contains("attach with --gdb"), regs);

            // A snapshot from the shell, whose report stays readable after QEMU is gone.
            Path snapshots = work.resolve("snapshots");
            String snap = sh.command("snapshot --out " + snapshots, COMMAND);
            assertTrue(snap.contains(snapshots.toString()) && snap.contains("TIMER_STALL"), snap);
            assertTrue(vm.qmp().queryStatus().running(), "the guest runs after the snapshot");

            // QEMU killed while 'watch' runs: one clear line, and the shell stays usable.
            int mark = sh.mark();
            sh.keys.type("watch\n");
            sh.awaitAfter(mark, COMMAND, t -> t.contains("TIMER_STALL"));
            vm.process().destroy();
            String gone = sh.awaitAfter(mark, COMMAND, t -> t.contains("tickwatch [gone]> "));
            assertEquals(1, gone.split(Pattern.quote(ShellSession.GONE_LINE), -1).length - 1, gone);
            String help = sh.command("help", COMMAND);
            assertTrue(help.contains("snapshot") && help.contains("exit"), help);
            String status = sh.command("status", COMMAND);
            assertTrue(status.contains("gone"), status);
            String cpus = sh.command("cpus", COMMAND);
            assertTrue(cpus.contains("QEMU is gone"), cpus);
            String report = sh.command("report", COMMAND);
            assertTrue(report.contains("Per-CPU state") && report.contains("TIMER_STALL"), report);
            sh.keys.type("exit\n");
            assertEquals(0, sh.awaitExit(COMMAND));
            assertTrue(Guests.qemuProcessesUsing(work).isEmpty() || !vm.isAlive(), "QEMU is gone");
        }
    }
}
