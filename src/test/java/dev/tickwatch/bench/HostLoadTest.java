package dev.tickwatch.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HostLoadTest {

    /**
     * bench boot-loop charges each side with the CPU of the QEMUs it reaped: a child that burns
     * CPU must show in this process's reaped-children time once it is waited for, and a grandchild's
     * too (bash waits for xargs, xargs for QEMU).
     */
    @Test
    void aReapedGrandchildsCpuTimeIsCounted() throws Exception {
        long before = HostLoad.reapedChildrenCpuNs();
        assertTrue(before >= 0, "reads /proc/self/stat");
        // The grandchild spins until 0.3 s of CPU time have passed, by its own clock (bash's SECONDS
        // counts wall time, so a loaded host would make a wall-time loop cost less CPU).
        Process p = new ProcessBuilder("bash", "-c",
                "bash -c 'while [ $(($(cut -d\" \" -f14 /proc/$$/stat) + $(cut -d\" \" -f15 /proc/$$/stat))) -lt 30 ]; do :; done'")
                .redirectErrorStream(true).start();
        assertEquals(0, p.waitFor());
        long spent = HostLoad.reapedChildrenCpuNs() - before;
        assertTrue(spent >= 250_000_000L, "the grandchild's 0.3 s of CPU is counted: " + spent / 1e9 + " s");
    }
}
