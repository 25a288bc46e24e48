package dev.tickwatch.guest.locks;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The wait-for graph of blocked tasks: edges task -> lock -> owner task. A task waits on at most
 * one lock, so following owners from any task either ends (an owner that is not blocked on a
 * lock, or none known), or comes back round: a cycle, a deadlock nothing inside the guest will
 * break. A task waiting on a lock it holds itself is a cycle of one.
 *
 * @param tasks  every task examined: D-state tasks, and tasks of any state the kernel records as
 *               waiting on an rt_mutex; in task-list order
 * @param cycles each cycle once, starting from its member that comes first in {@code tasks}
 */
public record LockGraph(List<TaskWait> tasks, List<Cycle> cycles) {

    /** Tasks that wait on each other in a ring, each waiting for the next one's lock. */
    public record Cycle(List<TaskWait> members) {

        /** One line per member: who waits for which lock held by whom. */
        public List<String> lines() {
            return members.stream().map(TaskWait::line).toList();
        }

        public List<Integer> pids() {
            return members.stream().map(TaskWait::pid).toList();
        }
    }

    /** The graph over {@code tasks}, its cycles found. */
    public static LockGraph of(List<TaskWait> tasks) {
        Map<Long, TaskWait> byTask = new LinkedHashMap<>();
        tasks.forEach(t -> byTask.put(t.task(), t));
        List<Cycle> cycles = new ArrayList<>();
        Set<Long> done = new HashSet<>();
        for (TaskWait start : tasks) {
            // Walk owners from here; a task met twice on this walk closes a cycle.
            Map<Long, Integer> onPath = new HashMap<>();
            List<TaskWait> path = new ArrayList<>();
            TaskWait t = start;
            while (t != null && !done.contains(t.task()) && !onPath.containsKey(t.task())) {
                onPath.put(t.task(), path.size());
                path.add(t);
                t = next(t, byTask);
            }
            if (t != null && onPath.containsKey(t.task())) {
                List<TaskWait> ring = new ArrayList<>(path.subList(onPath.get(t.task()), path.size()));
                int first = 0;
                for (int i = 1; i < ring.size(); i++) {
                    if (tasks.indexOf(ring.get(i)) < tasks.indexOf(ring.get(first))) {
                        first = i;
                    }
                }
                java.util.Collections.rotate(ring, -first);
                cycles.add(new Cycle(List.copyOf(ring)));
            }
            path.forEach(p -> done.add(p.task()));
        }
        return new LockGraph(List.copyOf(tasks), List.copyOf(cycles));
    }

    private static TaskWait next(TaskWait t, Map<Long, TaskWait> byTask) {
        if (t.waitsOn() == null || !t.waitsOn().hasOwnerTask()) {
            return null;
        }
        TaskWait owner = byTask.get(t.waitsOn().owner());
        return owner != null && owner.waitsOn() != null ? owner : null;
    }

    /** {@code comm (pid N) waits for LOCK OWNER}: the one spelling of an edge, here and in samples. */
    public static String line(String comm, int pid, String lock, String owner) {
        return comm + " (pid " + pid + ") waits for " + lock + " " + owner;
    }

    /** Tasks waiting on a known lock outside every cycle: chains that end, or lead into a cycle. */
    public List<TaskWait> chains() {
        Set<Long> inCycle = new HashSet<>();
        cycles.forEach(c -> c.members().forEach(m -> inCycle.add(m.task())));
        return tasks.stream().filter(t -> t.waitsOn() != null && !inCycle.contains(t.task())).toList();
    }

    /** Blocked tasks whose lock could not be read, each with why. */
    public List<TaskWait> unknown() {
        return tasks.stream().filter(t -> t.waitsOn() == null).toList();
    }

    /** The report: cycles first, then chains, then tasks whose lock is unknown. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        long waiting = tasks.stream().filter(t -> t.waitsOn() != null).count();
        out.add(tasks.size() + " blocked task" + (tasks.size() == 1 ? "" : "s") + ", " + waiting + " waiting on a lock; "
                + (cycles.isEmpty() ? "no cycle" : cycles.size() + " cycle" + (cycles.size() == 1 ? "" : "s")
                + " (deadlock)"));
        for (int i = 0; i < cycles.size(); i++) {
            out.add("cycle " + (i + 1) + ":");
            cycles.get(i).lines().forEach(l -> out.add("  " + l));
        }
        List<TaskWait> chains = chains();
        if (!chains.isEmpty()) {
            out.add("waiting, no cycle:");
            chains.forEach(t -> out.add("  " + t.line()));
        }
        List<TaskWait> unknown = unknown();
        if (!unknown.isEmpty()) {
            out.add("blocked, lock not found:");
            unknown.forEach(t -> out.add("  " + t.line()));
        }
        return out;
    }
}
