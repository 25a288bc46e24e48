package dev.tickwatch.guest.locks;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.tickwatch.util.Hex;
import java.util.List;

/**
 * The lock graph as JSON, one shape for {@code tickwatch guest locks --json} and snapshots:
 * tasks with the lock each waits on (or why none was found), the cycles as pids and lines, and
 * the chains outside them as lines. Addresses are hex strings.
 */
public final class LockJson {

    private LockJson() {
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Graph(@JsonSetter(nulls = Nulls.AS_EMPTY) List<Task> tasks,
            @JsonSetter(nulls = Nulls.AS_EMPTY) List<Cycle> cycles,
            @JsonSetter(nulls = Nulls.AS_EMPTY) List<String> chains) {

        public static Graph of(LockGraph g) {
            return new Graph(g.tasks().stream().map(Task::of).toList(),
                    g.cycles().stream().map(c -> new Cycle(c.pids(), c.lines())).toList(),
                    g.chains().stream().map(TaskWait::line).toList());
        }
    }

    /**
     * One blocked task.
     *
     * @param waitsOn absent when no lock was found
     * @param reason  absent when {@code waitsOn} is there
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Task(int pid, String comm, String state, @Hex long task,
            @JsonInclude(JsonInclude.Include.NON_NULL) WaitsOn waitsOn,
            @JsonInclude(JsonInclude.Include.NON_NULL) String reason) {

        static Task of(TaskWait t) {
            LockWait w = t.waitsOn();
            return new Task(t.pid(), t.comm(), String.valueOf(t.state()), t.task(), w == null ? null
                    : new WaitsOn(w.kind().label(), w.address(), w.name(), w.owner(), w.ownerPid(), w.ownerComm(),
                            w.readers(), w.foundBy()), t.reason());
        }
    }

    /**
     * The lock and its holder.
     *
     * @param owner     the owner's task_struct, "0x0" when none is recorded
     * @param ownerPid  -1 when there is no owner task in the task list
     * @param readers   readers holding an rw_semaphore, else 0
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record WaitsOn(String kind, @Hex long address, String name, @Hex long owner, int ownerPid, String ownerComm,
            long readers, String foundBy) {
    }

    /** A cycle: its tasks' pids, each waiting for the next one's lock, and one line per edge. */
    public record Cycle(List<Integer> pids, List<String> lines) {
    }
}
