package dev.tickwatch.probe;

import java.util.List;

/**
 * Everything the probe saw of a guest at one moment. A sample is cheap and non-intrusive: nothing
 * in it required pausing the guest. Verdicts are pure functions of a series of these.
 *
 * @param hostTimeNs     System.nanoTime() when the sample started (the series' clock)
 * @param wallTimeMs     wall clock, for people and files
 * @param status         QMP query-status ("running", "paused", "shutdown", "guest-panicked", ...),
 *                       or "exited" when QEMU is gone
 * @param consoleBytes   console bytes so far, -1 when there is no console to read
 * @param lastMilestone  the last boot milestone seen on the console ("kernel", "userland", "done"), or null
 * @param consolePanic   the console shows "Kernel panic"
 * @param kernel         readings from guest memory, null when not (yet) available
 * @param sources        where each reading came from, e.g. "registers: hmp info registers -a"
 * @param qemuWaitNs     cumulative time QEMU's main thread (timers, devices, the monitor) waited for a
 *                       host CPU while runnable: a starved QEMU cannot deliver timers, so a stall
 *                       seen while it starves proves nothing; -1 if unknown
 */
public record Sample(long hostTimeNs, long wallTimeMs, String status, long consoleBytes, String lastMilestone,
        boolean consolePanic, List<VcpuSample> cpus, KernelSample kernel, List<String> sources, long qemuWaitNs) {

    public boolean running() {
        return "running".equals(status);
    }
}
