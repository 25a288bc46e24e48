package dev.tickwatch.command;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.gdb.GdbClient;
import dev.tickwatch.gdb.GdbOptions;
import dev.tickwatch.gdb.GdbPause;
import dev.tickwatch.gdb.Registers;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.TaskInfo;
import dev.tickwatch.guest.unwind.Trace;
import dev.tickwatch.guest.unwind.TraceJson;
import dev.tickwatch.guest.unwind.TraceText;
import dev.tickwatch.guest.unwind.UnwindTarget;
import dev.tickwatch.guest.unwind.Unwinder;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.qmp.hmp.Hmp;
import dev.tickwatch.util.Json;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bt}: kernel stacks unwound with the guest kernel's own ORC tables ({@link Unwinder}), printed
 * as the kernel prints a call trace. A CPU's stack starts from its registers: with {@code --gdb},
 * read inside one gdbstub pause together with every stack (exact); without, from HMP while the
 * guest runs (the trace says it may tear). A sleeping task's starts from the frame it switched
 * out with. The guest runs on whenever no gdbstub is given.
 */
@Command(name = "bt", mixinStandardHelpOptions = true,
        description = {"Kernel call traces unwound with the guest's ORC tables, as the kernel prints them.",
            "Default: every CPU. With --gdb the registers are exact (one pause); else read while running."})
public final class BtCommand extends GuestReadings.Sub {

    @Mixin
    GdbOption gdb;

    @Parameters(arity = "0..1", paramLabel = "CPU", description = "one vCPU (the same as --cpu)")
    Integer cpuParameter;

    @ArgGroup(exclusive = true)
    Which which;

    static final class Which {
        @Option(names = "--cpu", paramLabel = "N", description = "one vCPU")
        Integer cpu;

        @Option(names = "--task", paramLabel = "PID", description = "one task (its CPU's registers if it runs)")
        Integer task;

        @Option(names = "--blocked", description = "every task in D state")
        boolean blocked;

        @Option(names = "--all", description = "every CPU, then every task not running")
        boolean all;
    }

    @Override
    int run(GuestContext ctx, PrintWriter out) {
        long t0 = System.nanoTime();
        GuestKernel k = ctx.kernel();
        Integer cpu = which != null && which.cpu != null ? which.cpu : cpuParameter;
        boolean wantCpus = which == null || which.cpu != null || which.all || which.task != null;
        boolean wantTasks = which != null && (which.blocked || which.all || which.task != null);
        if (cpu != null && (cpu < 0 || cpu >= k.cpuCount())) {
            throw Commands.usage(spec, "no CPU " + cpu + " (the guest has " + k.cpuCount() + ")");
        }
        Unwinder u = Unwinder.of(UnwindTarget.of(k));
        List<Trace> traces = new ArrayList<>();
        Endpoint stub = ctx.gdbEndpoint();
        double[] registersMs = {0};
        String source;
        if (stub != null) {
            source = "gdbstub";
            try (GdbClient g = GdbClient.connect(stub, GdbOptions.builder().fallbackResume(k.qmp()::contAsync).build());
                    GdbPause paused = g.pause()) {
                long tr = System.nanoTime();
                List<Unwinder.Registers> regs = new ArrayList<>();
                for (Registers r : g.registersOfAll()) {
                    regs.add(Unwinder.Registers.ofGdb(r));
                }
                registersMs[0] = ms(tr);
                unwind(k, u, regs, cpu, wantCpus, wantTasks, traces);
            }
        } else {
            source = "hmp";
            long tr = System.nanoTime();
            List<Unwinder.Registers> regs = Unwinder.Registers.ofHmp(new Hmp(k.qmp()).registersText());
            registersMs[0] = ms(tr);
            unwind(k, u, regs, cpu, wantCpus, wantTasks, traces);
        }
        if (which != null && which.task != null && traces.isEmpty()) {
            spec.commandLine().getErr().println(Commands.who(spec) + ": no task with pid " + which.task);
            return ExitCode.CANNOT_TEST;
        }
        double totalMs = ms(t0);
        if (json()) {
            ObjectNode o = Json.object().put("kernel", k.version()).put("method", u.method())
                    .put("registers_source", source);
            ArrayNode lim = o.putArray("limitations");
            u.limitations().forEach(lim::add);
            ArrayNode a = o.putArray("traces");
            for (Trace t : traces) {
                a.add(Json.tree(TraceJson.of(t)));
            }
            o.putObject("timings_ms").put("registers", registersMs[0])
                    .put("unwind", traces.stream().mapToDouble(Trace::unwindMs).sum()).put("total", totalMs);
            out.println(Json.compact(o));
        } else {
            u.limitations().forEach(l -> out.println("(" + l + ")"));
            for (int i = 0; i < traces.size(); i++) {
                if (i > 0) {
                    out.println();
                }
                out.print(TraceText.text(traces.get(i)));
            }
            spec.commandLine().getErr().printf(Locale.ROOT, "%s: %d %s in %.0f ms (registers %s)%n",
                    Commands.who(spec), traces.size(), traces.size() == 1 ? "trace" : "traces", totalMs, "gdbstub".equals(source) ? "exact, one pause"
                            : "from HMP while running");
        }
        return ExitCode.OK;
    }

    private void unwind(GuestKernel k, Unwinder u, List<Unwinder.Registers> regs, Integer cpu, boolean wantCpus,
            boolean wantTasks, List<Trace> traces) {
        Map<Long, Unwinder.Registers> running = new LinkedHashMap<>();
        UnwindTarget target = UnwindTarget.of(k);
        for (Unwinder.Registers r : regs) {
            long task = target.currentTask(r.cpu());
            if (task != 0) {
                running.put(task, r);
            }
        }
        if (which != null && which.task != null) {
            for (TaskInfo t : k.tasks()) {
                if (t.pid() == which.task) {
                    Unwinder.Registers on = running.get(t.address());
                    traces.add(on != null ? u.cpu(on) : u.task(t.address(), t.pid(), t.comm(), t.state()));
                    return;
                }
            }
            return;
        }
        if (wantCpus) {
            for (Unwinder.Registers r : regs) {
                if (cpu == null || r.cpu() == cpu) {
                    traces.add(u.cpu(r));
                }
            }
        }
        if (wantTasks) {
            for (TaskInfo t : k.tasks()) {
                boolean blocked = t.uninterruptible();
                if (!running.containsKey(t.address()) && (which.all || blocked)) {
                    traces.add(u.task(t.address(), t.pid(), t.comm(), t.state()));
                }
            }
        }
    }

    private static double ms(long t0) {
        return Math.round((System.nanoTime() - t0) / 1e4) / 100.0;
    }
}
