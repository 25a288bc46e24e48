package dev.tickwatch.probe;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.tickwatch.guest.locks.LockGraph;
import dev.tickwatch.guest.log.LogJson;
import dev.tickwatch.util.Hex;
import dev.tickwatch.util.Json;
import java.util.List;

/**
 * The guest kernel's own time keeping at one moment, read from its memory.
 *
 * @param blockedTasks tasks in D state with how long each has been off CPU; null when the task
 *                     list was not read in this sample (it is read less often)
 * @param wallClockNs  the guest's wall clock at its last timekeeping update, ns since the epoch
 *                     ({@code tk_core.timekeeper.xtime_sec} and {@code xtime_nsec >> shift}): frozen
 *                     with a stall, so it dates the stall's onset in the guest's own terms. Read only
 *                     when jiffies stood still since the previous sample; null when not read
 * @param lockCycles   cycles in the wait-for graph of blocked tasks ({@code guest locks}): read only
 *                     with the task list and only when a task in it is blocked (D state, or
 *                     PREEMPT_RT's TASK_RTLOCK_WAIT); empty when read and no cycle; null when not
 *                     read (older recordings have none)
 * @param kernelReports the kernel's own detectors' reports (soft lockup, RCU stall, hung task,
 *                     panic, ...) that appeared in its log since the previous reading; empty when
 *                     none, or when the log is not readable (the sample's sources say so)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record KernelSample(long jiffies, long lastJiffiesUpdateNs, int tickDoTimerCpu, int hz,
        @JsonSetter(nulls = Nulls.AS_EMPTY) List<Cpu> cpus, @JsonInclude(JsonInclude.Include.NON_NULL) List<BlockedTask> blockedTasks,
        @JsonInclude(JsonInclude.Include.NON_NULL) Long wallClockNs,
        @JsonInclude(JsonInclude.Include.NON_NULL) List<LockCycle> lockCycles,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) @JsonSetter(nulls = Nulls.AS_EMPTY) List<LogJson.Report> kernelReports) {

    /** Readings without new kernel-log reports. */
    public KernelSample(long jiffies, long lastJiffiesUpdateNs, int tickDoTimerCpu, int hz, List<Cpu> cpus,
            List<BlockedTask> blockedTasks, Long wallClockNs, List<LockCycle> lockCycles) {
        this(jiffies, lastJiffiesUpdateNs, tickDoTimerCpu, hz, cpus, blockedTasks, wallClockNs, lockCycles, List.of());
    }

    /** Readings without the guest's wall clock (it is read only while jiffies stand still). */
    public KernelSample(long jiffies, long lastJiffiesUpdateNs, int tickDoTimerCpu, int hz, List<Cpu> cpus,
            List<BlockedTask> blockedTasks) {
        this(jiffies, lastJiffiesUpdateNs, tickDoTimerCpu, hz, cpus, blockedTasks, null, null);
    }

    /** Readings without the lock graph (it is read only while a task is blocked). */
    public KernelSample(long jiffies, long lastJiffiesUpdateNs, int tickDoTimerCpu, int hz, List<Cpu> cpus,
            List<BlockedTask> blockedTasks, Long wallClockNs) {
        this(jiffies, lastJiffiesUpdateNs, tickDoTimerCpu, hz, cpus, blockedTasks, wallClockNs, null);
    }

    /** Per-CPU kernel readings. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Cpu(int cpu, long localTimerInterrupts, long expiresNextNs,
            @JsonProperty("hrtimer_nr_events") long hrtimerEvents, Boolean tickStopped, String currentComm,
            @JsonDeserialize(using = Json.MinusOneIfAbsentInt.class) int currentPid) {
    }

    /**
     * A cycle of tasks each waiting for a lock the next one holds, as edges in ring order (the
     * last edge's owner is the first edge's task). Two readings show the same cycle when their
     * edges are equal.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record LockCycle(@JsonSetter(nulls = Nulls.AS_EMPTY) List<LockEdge> edges) {

        /** The cycle's lines: {@code insmod (pid 92) waits for mutex ma at 0x... held by insmod (pid 93)}. */
        public List<String> lines() {
            return edges.stream().map(LockEdge::line).toList();
        }
    }

    /**
     * One edge of a {@link LockCycle}: task {@code pid} waits for the lock at {@code lock}, held by
     * {@code ownerPid}.
     *
     * @param kind     mutex, rw_semaphore, rt_mutex, spinlock (rt)
     * @param lockName symbol[+off] [module], null for a lock in the heap
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record LockEdge(int pid, String comm, String kind, @Hex long lock, String lockName, int ownerPid,
            String ownerComm) {

        public String line() {
            String what = kind + (lockName != null ? " " + lockName : "") + " at 0x" + Long.toHexString(lock);
            return LockGraph.line(comm, pid, what, "held by " + ownerComm + " (pid " + ownerPid + ")"
                    + (ownerPid == pid ? " itself" : ""));
        }
    }

    /** A task in D state (TASK_UNINTERRUPTIBLE without TASK_NOLOAD). */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record BlockedTask(int pid, String comm, double blockedForS) {
    }
}
