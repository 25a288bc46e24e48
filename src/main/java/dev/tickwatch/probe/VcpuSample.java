package dev.tickwatch.probe;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.tickwatch.util.Hex;
import dev.tickwatch.util.Json;

/**
 * One vCPU at one moment, from the host side (its thread's CPU time) and from QEMU (registers
 * and LAPIC through HMP, without pausing).
 *
 * @param threadCpuNs  cumulative CPU time of the vCPU's host thread (schedstat), -1 if unknown
 *                     (QEMU on another host)
 * @param threadWaitNs cumulative time that thread waited for a host CPU while runnable (schedstat):
 *                     how the host's load shows, -1 if unknown
 * @param ripSymbol    RIP as symbol+off/size, null outside the kernel or before symbols are known
 * @param lapic        null when {@code info lapic} had nothing to parse (early boot)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record VcpuSample(int cpu, long threadId, long threadCpuNs,
        @JsonDeserialize(using = Json.MinusOneIfAbsent.class) long threadWaitNs, @Hex long rip, String ripSymbol,
        @JsonProperty("if") boolean interruptsEnabled, @JsonProperty("hlt") boolean halted, int cpl, boolean longMode,
        @JsonInclude(JsonInclude.Include.NON_NULL) @LapicJson.Mapped LapicTimer lapic) {

    /** Whether RIP lies in the x86-64 kernel image mapping (or modules above it). */
    public boolean inKernelImage() {
        return longMode && cpl == 0 && Long.compareUnsigned(rip, 0xffffffff80000000L) >= 0;
    }
}
