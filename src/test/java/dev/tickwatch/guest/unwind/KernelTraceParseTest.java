package dev.tickwatch.guest.unwind;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The console parsing {@link UnwindIT} compares with: the kernel's own Call Trace blocks, '?' entries left out. */
class KernelTraceParseTest {

    private static final String CONSOLE = String.join("\n",
            "[   41.201847] sysrq: Show Blocked State",
            "[   41.202316] task:lab-mutex-ab    state:D stack:0     pid:57    ppid:2      flags:0x00004000",
            "[   41.203012] Call Trace:",
            "[   41.203222]  <TASK>",
            "[   41.203401]  __schedule+0x351/0xa20",
            "[   41.203640]  ? __pfx_lab_mutex_thread+0x10/0x10 [tickwatch_lab]",
            "[   41.203900]  schedule+0x5d/0xe0",
            "[   41.204100]  schedule_preempt_disabled+0x14/0x30",
            "[   41.204300]  __mutex_lock.constprop.0+0x3b4/0x700",
            "[   41.204500]  lab_mutex_thread+0x3d/0x60 [tickwatch_lab]",
            "[   41.204700]  kthread+0xd7/0x100",
            "[   41.204900]  ret_from_fork+0x1f/0x30",
            "[   41.205100]  </TASK>",
            "[   42.000000] NMI backtrace for cpu 1",
            "[   42.000001] CPU: 1 UID: 0 PID: 58 Comm: lab-spin Not tainted 6.12.117+deb12-amd64 #1",
            "[   42.000002] RIP: 0010:native_queued_spin_lock_slowpath+0x6e/0x2e0",
            "[   42.000003] Code: 00 00 f0 0f",
            "[   42.000004] RSP: 0018:ffffb5a5c0213e90 EFLAGS: 00000002",
            "[   42.000005] Call Trace:",
            "[   42.000006]  <NMI>",
            "[   42.000007]  ? nmi_cpu_backtrace+0xb1/0x120",
            "[   42.000008]  nmi_cpu_backtrace_handler+0x11/0x20",
            "[   42.000009]  </NMI>",
            "[   42.000010]  <TASK>",
            "[   42.000011]  _raw_spin_lock+0x29/0x30",
            "[   42.000012]  lab_spin_thread+0x55/0x80 [tickwatch_lab]",
            "[   42.000013]  kthread+0xd7/0x100",
            "[   42.000014]  </TASK>",
            "[   42.000015] NMI backtrace for cpu 0 skipped: idling at native_safe_halt+0xb/0x10",
            "[   42.000016] something else");

    @Test
    void blocksAreFoundWithTheirTaskOrCpuAndReliableFramesOnly() {
        List<UnwindIT.KernelTrace> t = UnwindIT.kernelTraces(UnwindIT.lines(CONSOLE));
        assertEquals(3, t.size(), t.toString());
        assertEquals(57, t.get(0).pid());
        assertEquals(List.of("__schedule", "schedule", "schedule_preempt_disabled", "__mutex_lock.constprop.0",
                "lab_mutex_thread", "kthread", "ret_from_fork"), t.get(0).all());
        assertEquals(1, t.get(1).cpu());
        assertEquals(List.of("_raw_spin_lock", "lab_spin_thread", "kthread"), t.get(1).task());
        assertEquals("native_safe_halt", t.get(2).idleAt());
        assertEquals(1, UnwindIT.extra(List.of("a", "kthread", "b"), List.of("a", "b")));
    }
}
