package dev.tickwatch.probe;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.tickwatch.util.Json;
import java.util.List;

/**
 * Everything the probe saw of a guest at one moment. A sample is cheap and non-intrusive: nothing
 * in it required pausing the guest. Verdicts are pure functions of a series of these. Its JSON
 * form (snake_case keys, see {@link SampleJson}) is what {@code watch --record} writes.
 *
 * @param hostTimeNs     System.nanoTime() when the sample started (the series' clock)
 * @param wallTimeMs     wall clock, for people and files
 * @param status         QMP query-status ("running", "paused", "shutdown", "guest-panicked", ...),
 *                       or "exited" when QEMU is gone
 * @param consoleBytes   console bytes so far, -1 when there is no console to read
 * @param lastMilestone  the last boot milestone seen on the console ("kernel", "userland", "done"), or null
 * @param consolePanic   the console shows {@link ConsoleMarkers#KERNEL_PANIC}
 * @param kernel         readings from guest memory, null when not (yet) available
 * @param sources        where each reading came from, e.g. "registers: hmp info registers -a"
 * @param qemuWaitNs     cumulative time QEMU's main thread (timers, devices, the monitor) waited for a
 *                       host CPU while runnable: a starved QEMU cannot deliver timers, so a stall
 *                       seen while it starves proves nothing; -1 if unknown
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonPropertyOrder({"host_time_ns", "wall_time_ms", "status", "console_bytes", "last_milestone", "console_panic",
    "qemu_wait_ns", "cpus", "kernel", "sources"})
public record Sample(long hostTimeNs, long wallTimeMs, String status, long consoleBytes, String lastMilestone,
        boolean consolePanic, @JsonSetter(nulls = Nulls.AS_EMPTY) List<VcpuSample> cpus, @JsonInclude(JsonInclude.Include.NON_NULL) KernelSample kernel,
        @JsonSetter(nulls = Nulls.AS_EMPTY) List<String> sources, @JsonDeserialize(using = Json.MinusOneIfAbsent.class) long qemuWaitNs) {

    public boolean running() {
        return "running".equals(status);
    }
}
