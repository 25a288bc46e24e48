package dev.tickwatch.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.testing.Guests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code print} in the shell against the guest's own account: a healthy two-CPU appliance prints
 * /proc/timer_list to its console every few seconds; the shell's {@code print} of CPU 1's
 * {@code hrtimer_bases} and {@code tick_cpu_sched} fields must agree with what the guest printed
 * (equal for a field that stands still, bracketed by a reading before and one after the dump for
 * counters that only grow), and {@code print jiffies_64} must lie between two {@code jiffies}
 * readings. The shell's pipes and redirection run on the same real output.
 */
class ShellPrintIT {

    private static final Duration COMMAND = Duration.ofSeconds(60);
    /** The guest sleeps 6 s between dumps: the shell's first reading surely comes before the next dump. */
    private static final String LOOP = "while true; do sleep 6; cat /proc/timer_list; echo TIMER_LIST_END; done";
    private static final String END = "TIMER_LIST_END";

    @TempDir
    Path work;

    private static long number(String printed, String field) {
        Matcher m = Pattern.compile("(?m)\\b" + Pattern.quote(field) + "(?::\\d+)? = (-?\\d+)\\s*$").matcher(printed);
        assertTrue(m.find(), field + " in: " + printed);
        return Long.parseLong(m.group(1));
    }

    /** CPU {@code cpu}'s section of one /proc/timer_list dump: from "cpu: N" to the next CPU or the tick devices. */
    private static String cpuSection(String dump, int cpu) {
        int from = dump.indexOf("\ncpu: " + cpu + "\n");
        assertTrue(from >= 0, "cpu: " + cpu + " in the dump:\n" + dump);
        int next = dump.indexOf("\ncpu: ", from + 1);
        int devices = dump.indexOf("\nTick Device", from + 1);
        int to = next < 0 ? (devices < 0 ? dump.length() : devices) : devices < 0 ? next : Math.min(next, devices);
        return dump.substring(from, to);
    }

    private static long guestField(String section, String field) {
        Matcher m = Pattern.compile("(?m)^\\s*\\." + Pattern.quote(field) + "\\s*:\\s*(-?\\d+)").matcher(section);
        assertTrue(m.find(), "." + field + " in the guest's section:\n" + section);
        return Long.parseLong(m.group(1));
    }

    @Test
    void printAgreesWithTheGuestsOwnTimerList() throws Exception {
        try (QemuVm vm = QemuVm.start(Guests.appliance(work.resolve("vm"), LOOP).smp(2).userMonitor(true).build());
                ShellHarness sh = new ShellHarness(vm.userQmpEndpoint(), null, null)) {
            sh.awaitAfter(0, COMMAND, t -> t.contains("tickwatch [running]> "));
            assertTrue(vm.console().await(t -> t.contains(END), Duration.ofSeconds(180)), "the guest dumps its timer list");
            // Attach before the race starts: the first print must not spend the guest's sleep attaching.
            assertTrue(sh.command("info", COMMAND).contains("BTF:"));

            for (int round = 0; round < 2; round++) {
                // Right after a dump ends the guest sleeps 6 s: these readings come before the next dump.
                int seen = vm.console().text().replace("\r", "").lastIndexOf(END);
                vm.console().await(t -> t.replace("\r", "").lastIndexOf(END) > seen, Duration.ofSeconds(30));
                int mark = vm.console().text().replace("\r", "").lastIndexOf(END);
                String j1 = sh.command("jiffies", COMMAND);
                String before = sh.command("print hrtimer_bases --cpu 1", COMMAND);
                String idleBefore = sh.command("print tick_cpu_sched.idle_calls --cpu 1", COMMAND);
                String jp = sh.command("print jiffies_64", COMMAND);
                String j2 = sh.command("jiffies", COMMAND);

                long a = Long.parseLong(j1.strip().lines().filter(l -> l.matches("\\d+")).findFirst().orElseThrow());
                long b = Long.parseLong(j2.strip().lines().filter(l -> l.matches("\\d+")).findFirst().orElseThrow());
                long p = number(jp, "jiffies_64");
                assertTrue(a <= p && p <= b, "jiffies " + a + " <= print jiffies_64 " + p + " <= jiffies " + b);
                assertTrue(before.contains("struct hrtimer_cpu_base hrtimer_bases = {") && before.contains("on CPU 1"), before);

                // The next dump, then readings after it.
                assertTrue(vm.console().await(t -> t.replace("\r", "").lastIndexOf(END) > mark, Duration.ofSeconds(30)));
                String after = sh.command("print hrtimer_bases --cpu 1", COMMAND);
                String idleAfter = sh.command("print tick_cpu_sched.idle_calls --cpu 1", COMMAND);
                String console = vm.console().text().replace("\r", "");
                String dump = console.substring(console.lastIndexOf("Timer List Version", console.lastIndexOf(END)),
                        console.lastIndexOf(END));
                String cpu1 = cpuSection(dump, 1);

                assertEquals(guestField(cpu1, "hres_active"), number(after, "hres_active"), "hres_active of CPU 1");
                assertEquals(guestField(cpu1, "nr_hangs"), number(after, "nr_hangs"), "nr_hangs of CPU 1");
                long e1 = number(before, "nr_events");
                long e2 = number(after, "nr_events");
                long guest = guestField(cpu1, "nr_events");
                assertTrue(e1 <= guest && guest <= e2, "nr_events of CPU 1: print " + e1 + " <= guest " + guest
                        + " <= print " + e2);
                long i1 = number(idleBefore, "tick_cpu_sched.idle_calls");
                long i2 = number(idleAfter, "tick_cpu_sched.idle_calls");
                long guestIdle = guestField(cpu1, "idle_calls");
                assertTrue(i1 <= guestIdle && guestIdle <= i2, "idle_calls of CPU 1: print " + i1 + " <= guest "
                        + guestIdle + " <= print " + i2);
                // CPU 0's copy is another one: __per_cpu_offset[1] was added, not forgotten.
                String cpu0 = sh.command("print hrtimer_bases.cpu", COMMAND);
                assertEquals(0, number(cpu0, "hrtimer_bases.cpu"), cpu0);
                assertEquals(1, number(sh.command("print hrtimer_bases.cpu --cpu 1", COMMAND), "hrtimer_bases.cpu"));
            }

            // Pipes and redirection on real output.
            String grep = sh.command("print hrtimer_bases --cpu 1 | grep -c expires_next", COMMAND);
            assertTrue(grep.lines().anyMatch(l -> l.strip().matches("[1-9]\\d*")), grep);
            Path file = work.resolve("timers.txt");
            sh.command("timers > " + file, COMMAND);
            assertTrue(Files.readString(file).contains("expires_next"), Files.readString(file));
            sh.keys.type("exit\n");
            assertEquals(0, sh.awaitExit(COMMAND));
        }
    }
}
