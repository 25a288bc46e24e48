package dev.tickwatch.command;

import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.TaskInfo;
import dev.tickwatch.guest.locks.LockGraph;
import dev.tickwatch.guest.locks.LockJson;
import dev.tickwatch.guest.locks.LockReader;
import dev.tickwatch.util.Json;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.Command;

/**
 * {@code locks}: the wait-for graph of the guest's blocked tasks, read from its memory (see
 * {@link LockReader}): which lock each waits on, who holds it, and the cycles among them. Mounted
 * under {@code tickwatch guest} and in the shell, like the other guest readings.
 */
@Command(mixinStandardHelpOptions = true, name = "locks",
        description = "Blocked tasks, the lock each waits on and its owner; cycles (deadlocks) first.")
public final class LocksCommand extends GuestReadings.Sub {

    @Override
    int run(GuestKernel k, PrintWriter out) {
        List<TaskInfo> tasks = k.tasks();
        LockGraph g = LockReader.of(k).read(tasks);
        if (json()) {
            out.println(Json.compact(Json.tree(LockJson.Graph.of(g))));
        } else {
            g.lines().forEach(out::println);
        }
        return ExitCode.OK;
    }
}
