package dev.tickwatch.guest;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.util.Hex;
import dev.tickwatch.util.Json;
import java.util.List;

/**
 * The guest view as JSON, one shape for {@code tickwatch guest --json}, snapshots and the shell,
 * so one reader serves all of them: the records here are that shape (snapshots embed and read
 * them back), the static methods give it as a tree. Addresses are hex strings, times carry their
 * unit in the key; a reading this kernel does not have is null.
 */
public final class GuestJson {

    private GuestJson() {
    }

    /** {@code tickwatch guest timers --json} without the kernel and backend keys. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Timers(long jiffies, int hz, long lastJiffiesUpdateNs, long tickNextPeriodNs, int tickDoTimerCpu,
            List<CpuTimer> cpus, List<String> unavailable) {

        public static Timers of(TimerView t) {
            return new Timers(t.jiffies(), t.hz(), t.lastJiffiesUpdateNs(), t.tickNextPeriodNs(), t.tickDoTimerCpu(),
                    t.cpus().stream().map(CpuTimer::of).toList(), t.unavailable());
        }
    }

    /** One CPU of {@link Timers}: {@link CpuTimers} with the current task named. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record CpuTimer(int cpu, long localTimerInterrupts, long expiresNextNs,
            @JsonProperty("hrtimer_nr_events") long hrtimerEvents, Boolean hresActive, Boolean tickStopped,
            Boolean idleActive, Long nextTickNs, Long idleJiffies, Long idleCalls, Long idleSleeps,
            String tickDeviceMode, String clockevent, String clockeventState, Long clockeventNextEventNs,
            Current current) {

        static CpuTimer of(CpuTimers c) {
            CpuTimers.TaskRef r = c.current();
            return new CpuTimer(c.cpu(), c.localTimerInterrupts(), c.expiresNextNs(), c.hrtimerEvents(), c.hresActive(),
                    c.tickStopped(), c.idleActive(), c.nextTickNs(), c.idleJiffies(), c.idleCalls(), c.idleSleeps(),
                    c.tickDeviceMode(), c.clockevent(), c.clockeventState(), c.clockeventNextEventNs(),
                    r == null ? null : new Current(r.pid(), r.comm(), r.address()));
        }
    }

    /** The task a CPU runs; {@code task} is its task_struct. */
    public record Current(int pid, String comm, @Hex long task) {
    }

    /**
     * One task of {@code tickwatch guest tasks --json}.
     *
     * @param lastArrivalNs absent without schedstats
     * @param blockedForS   absent unless in D state, to the millisecond
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Task(int pid, String comm, String state, @Hex long stateBits, int cpu, boolean kernelThread,
            long switchCount, @Hex long task, @JsonInclude(JsonInclude.Include.NON_NULL) Long lastArrivalNs,
            @JsonInclude(JsonInclude.Include.NON_NULL) Double blockedForS) {

        public static Task of(TaskInfo t) {
            return new Task(t.pid(), t.comm(), String.valueOf(t.state()), t.stateBits(), t.cpu(), t.kernelThread(),
                    t.switchCount(), t.address(), t.lastArrivalNs(),
                    t.blockedForNs() == null ? null : Math.round(t.blockedForNs() / 1e6) / 1e3);
        }
    }

    public static ObjectNode timers(TimerView t) {
        return Json.tree(Timers.of(t));
    }

    public static ArrayNode tasks(List<TaskInfo> tasks) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        tasks.forEach(t -> a.add(Json.tree(Task.of(t))));
        return a;
    }
}
