package dev.tickwatch.guest.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The detectors' lines, each as the kernel's printk format string prints it (6.1 and 6.12, with
 * the file's pr_fmt prefix), are told apart from ordinary boot messages that mention the same
 * words.
 */
class KernelReportsTest {

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            SOFT_LOCKUP       | watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [insmod:123]
            HARD_LOCKUP       | NMI watchdog: Watchdog detected hard LOCKUP on cpu 1
            HARD_LOCKUP       | watchdog: CPU0: Watchdog detected hard LOCKUP on cpu 1
            RCU_STALL         | rcu: INFO: rcu_sched detected stalls on CPUs/tasks:
            RCU_STALL         | rcu: INFO: rcu_preempt self-detected stall on CPU
            RCU_STALL         | rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 1-... } 21 jiffies s: 217 root: 0x2/.
            HUNG_TASK         | INFO: task kworker/0:1:12 blocked for more than 120 seconds.
            HUNG_TASK         | INFO: task insmod:131 blocked for more than 30 seconds.
            LOCKDEP           | WARNING: possible circular locking dependency detected
            LOCKDEP           | WARNING: possible recursive locking detected
            LOCKDEP           | WARNING: inconsistent lock state
            LOCKDEP           | WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected
            LOCKDEP           | [ BUG: Invalid wait context ]
            RT_MUTEX_DEADLOCK | rtmutex deadlock detected
            WARN              | WARNING: CPU: 1 PID: 131 at kernel/locking/rtmutex.c:1648 __rt_mutex_slowlock+0x1a1/0x1c0
            BUG               | kernel BUG at mm/slub.c:379!
            BUG               | BUG: kernel NULL pointer dereference, address: 0000000000000000
            BUG               | BUG: scheduling while atomic: swapper/0/0/0x00000002
            BUG               | BUG: workqueue lockup - pool cpus=1 node=0 flags=0x0 nice=0 stuck for 31s!
            OOPS              | Oops: 0002 [#1] PREEMPT SMP NOPTI
            OOPS              | Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI
            OOPS              | general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI
            PANIC             | Kernel panic - not syncing: softlockup: hung tasks
            PANIC             | Kernel panic - not syncing: Hard LOCKUP
            """)
    void eachDetectorsLineIsItsKind(KernelReport.Kind kind, String line) {
        assertEquals(kind, KernelReports.classify(line));
    }

    @ParameterizedTest
    @ValueSource(strings = {"rcu: Hierarchical RCU implementation.", "rcu: \tRCU restricting CPUs from NR_CPUS=8192 to nr_cpu_ids=2.",
        "NMI watchdog: Perf NMI watchdog permanently disabled", "INFO: lockdep is turned off.",
        "---[ end Kernel panic - not syncing: Hard LOCKUP ]---", "Run /init as init process",
        "hung_task: blocked tasks", "Freeing unused kernel image (initmem) memory: 2708K",
        "tickwatch-lab: BUG: lines of the kernel start the line; a prefix makes it a module's text"})
    void ordinaryMessagesAreNoReports(String line) {
        assertNull(KernelReports.classify(line), line);
    }

    private static LogRecord rec(long seq, int facility, String text) {
        return new LogRecord(seq, seq * 1_000_000_000L + 5_000, LogLevel.EMERG, facility, 2, 1, text, "", "");
    }

    @Test
    void aReportIsTheRecordsLineThatSaysItAndUserSpaceCannotFakeOne() {
        List<LogRecord> log = List.of(rec(1, 0, "Run /init as init process"),
                rec(2, 0, "watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [swapper/0:1]"),
                rec(3, 1, "Kernel panic - not syncing: written to /dev/kmsg"),
                rec(4, 0, "Modules linked in: tickwatch_lab\nINFO: task insmod:131 blocked for more than 30 seconds."),
                rec(5, 0, "Kernel panic - not syncing: hung_task: blocked tasks"));
        List<KernelReport> all = KernelReports.in(log);
        assertEquals(List.of(KernelReport.Kind.SOFT_LOCKUP, KernelReport.Kind.HUNG_TASK, KernelReport.Kind.PANIC),
                all.stream().map(KernelReport::kind).toList());
        KernelReport hung = all.get(1);
        assertEquals(4, hung.seq());
        assertEquals(4_000_005_000L, hung.tsNs());
        assertEquals("INFO: task insmod:131 blocked for more than 30 seconds.", hung.line());
        assertEquals("[    4.000005] hung-task: INFO: task insmod:131 blocked for more than 30 seconds.", hung.toString());
        assertEquals(List.of(KernelReport.Kind.PANIC),
                KernelReports.since(log, 4).stream().map(KernelReport::kind).toList());
        assertTrue(KernelReports.since(log, 5).isEmpty());
    }
}
