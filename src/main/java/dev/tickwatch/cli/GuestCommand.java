package dev.tickwatch.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.guest.CpuState;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.TaskInfo;
import dev.tickwatch.guest.TimerView;
import dev.tickwatch.guest.btf.BtfMemberRow;
import dev.tickwatch.guest.mem.GuestMemory;
import dev.tickwatch.guest.sym.Symbol;
import dev.tickwatch.guest.sym.SymbolOffset;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.util.Json;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch guest}: the guest kernel's own state read from its memory, with symbols and
 * types found in that memory (kallsyms, BTF): no vmlinux, no System.map, KASLR or not, and the
 * guest keeps running (unless {@code --backend gdbstub}).
 */
@Command(name = "guest", mixinStandardHelpOptions = true,
        description = {"Reads a running guest kernel's state from its memory, without debug files.",
            "Example: tickwatch guest --qmp unix:/run/vm/qmp.sock timers"},
        subcommands = {GuestCommand.Info.class, GuestCommand.Symbols.class, GuestCommand.Sym.class,
            GuestCommand.Addr.class, GuestCommand.Timers.class, GuestCommand.Tasks.class, GuestCommand.BtfStruct.class,
            GuestCommand.Cpus.class, GuestCommand.Read.class})
final class GuestCommand {

    @Option(names = "--qmp", required = true, converter = EndpointConverter.class, paramLabel = "ADDR",
            scope = ScopeType.INHERIT, description = "QMP socket: unix:/path or tcp:host:port")
    Endpoint qmp;

    @Option(names = "--backend", paramLabel = "NAME", scope = ScopeType.INHERIT,
            description = "memory backend: auto (default: the fastest that works without pausing), proc-mem,"
                    + " qmp-memsave, hmp-x")
    String backend = "auto";

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "print JSON")
    boolean json;

    GuestMemory.Backend backend() {
        if (backend.equals("auto")) {
            return null;
        }
        for (GuestMemory.Backend b : GuestMemory.Backend.values()) {
            if (b.label().equals(backend) && !b.pauses()) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown --backend '" + backend + "' (want auto, proc-mem, qmp-memsave or hmp-x)");
    }

    /** Each subcommand: attach, do one thing, print, detach. */
    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        GuestCommand parent;

        @Spec
        CommandSpec spec;

        abstract int run(GuestKernel k, PrintWriter out) throws Exception;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            try (QmpClient q = QmpClient.connect(parent.qmp); GuestKernel k = GuestKernel.attach(q, parent.backend())) {
                int code = run(k, out);
                out.flush();
                return code;
            }
        }

        boolean json() {
            return parent.json;
        }
    }

    @Command(name = "info", description = "What was found: kernel version, memory backend, kallsyms, BTF, timings")
    static final class Info extends Sub {
        @Override
        int run(GuestKernel k, PrintWriter out) {
            ObjectNode o = Json.object().put("kernel", k.version()).put("backend", k.memory().backend().label())
                    .put("pauses_guest", k.memory().backend().pauses())
                    .put("image_start", Json.hex(k.image().start())).put("image_end", Json.hex(k.image().end()))
                    .put("symbols", k.symbols().size())
                    .put("kallsyms_token_table", Json.hex(k.symbols().tokenTableAddress()))
                    .put("btf", k.hasBtf()).put("cpus", k.cpuCount());
            ArrayNode po = o.putArray("passed_over");
            k.passedOver().forEach(po::add);
            o.putObject("timings_ms").put("memory", k.timings().memoryMs()).put("image", k.timings().imageMs())
                    .put("kallsyms", k.timings().kallsymsMs()).put("btf", k.timings().btfMs())
                    .put("total", k.timings().totalMs());
            if (json()) {
                out.println(Json.compact(o));
            } else {
                out.println(k.version());
                out.printf(Locale.ROOT, "memory: %s (%s)%n", k.memory().backend().label(),
                        k.memory().backend().pauses() ? "pauses the guest" : "guest keeps running");
                k.passedOver().forEach(p -> out.println("  passed over: " + p));
                out.printf(Locale.ROOT, "kernel image: 0x%x..0x%x%s%n", k.image().start(), k.image().end(),
                        k.image().start() != 0xffffffff81000000L ? " (KASLR)" : "");
                out.printf(Locale.ROOT, "kallsyms: %d symbols (token table at 0x%x)%n", k.symbols().size(),
                        k.symbols().tokenTableAddress());
                out.println("BTF: " + (k.hasBtf() ? k.btf().typeCount() + " types" : "none"));
                out.printf(Locale.ROOT, "attach took %.0f ms (memory %.0f, image %.0f, kallsyms %.0f, BTF %.0f)%n",
                        k.timings().totalMs(), k.timings().memoryMs(), k.timings().imageMs(), k.timings().kallsymsMs(),
                        k.timings().btfMs());
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "symbols", description = "Lists kernel symbols (all, or those starting with a prefix)")
    static final class Symbols extends Sub {
        @Option(names = "--prefix", paramLabel = "P", description = "only names starting with P")
        String prefix = "";

        @Override
        int run(GuestKernel k, PrintWriter out) {
            ArrayNode a = Json.MAPPER.createArrayNode();
            for (Symbol s : k.symbols().symbols()) {
                if (!s.name().startsWith(prefix)) {
                    continue;
                }
                if (json()) {
                    a.addObject().put("address", Json.hex(s.address())).put("type", String.valueOf(s.type()))
                            .put("name", s.name());
                } else {
                    out.printf("%016x %c %s%n", s.address(), s.type(), s.name());
                }
            }
            if (json()) {
                out.println(Json.compact(a));
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "sym", description = "The address of a kernel symbol")
    static final class Sym extends Sub {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run(GuestKernel k, PrintWriter out) {
            Optional<Long> a = k.symbols().addressOf(name);
            if (a.isEmpty()) {
                spec.commandLine().getErr().println("tickwatch guest sym: no symbol '" + name + "'");
                return ExitCode.FAILED;
            }
            if (json()) {
                out.println(Json.compact(Json.object().put("name", name).put("address", Json.hex(a.get()))));
            } else {
                out.printf("%016x %s%n", a.get(), name);
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "addr", description = "Names an address: symbol+offset/size [module]")
    static final class Addr extends Sub {
        @Parameters(paramLabel = "ADDR", description = "hex address")
        String address;

        @Override
        int run(GuestKernel k, PrintWriter out) {
            long a = parseAddress(k, address);
            String where = k.symbolize(a);
            if (json()) {
                ObjectNode o = Json.object().put("address", Json.hex(a)).put("symbol", where);
                k.symbols().lookup(a).map(SymbolOffset::offset).ifPresent(off -> o.put("offset", off));
                out.println(Json.compact(o));
            } else {
                out.println(where);
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "timers", description = "Per-CPU timer state, like /proc/timer_list")
    static final class Timers extends Sub {
        @Override
        int run(GuestKernel k, PrintWriter out) {
            TimerView t = k.timers();
            out.print(json() ? Json.compact(GuestFormat.timersJson(k, t)) + "\n" : GuestFormat.timersText(k, t));
            return ExitCode.OK;
        }
    }

    @Command(name = "tasks", description = "The task list (pid, comm, state; how long D-state tasks have been off CPU)")
    static final class Tasks extends Sub {
        @Option(names = "--state", paramLabel = "S", description = "only tasks in this state letter (e.g. D)")
        String state;

        @Override
        int run(GuestKernel k, PrintWriter out) {
            List<TaskInfo> tasks = k.tasks().stream()
                    .filter(t -> state == null || String.valueOf(t.state()).equals(state)).toList();
            out.print(json() ? Json.compact(GuestFormat.tasksJson(tasks)) + "\n" : GuestFormat.tasksText(tasks));
            return ExitCode.OK;
        }
    }

    @Command(name = "btf", description = "A struct's layout from the guest's BTF, like pahole")
    static final class BtfStruct extends Sub {
        @Parameters(paramLabel = "STRUCT")
        String struct;

        @Override
        int run(GuestKernel k, PrintWriter out) {
            if (json()) {
                ArrayNode a = Json.MAPPER.createArrayNode();
                for (BtfMemberRow r : k.btf().describe(struct)) {
                    a.add(Json.MAPPER.valueToTree(r));
                }
                out.println(Json.compact(Json.object().put("struct", struct)
                        .put("size", k.btf().struct(struct).size()).set("members", a)));
            } else {
                out.print(k.btf().describeText(struct));
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "cpus", description = "Per vCPU: RIP and symbol, IF, HLT, CPL, LAPIC timer")
    static final class Cpus extends Sub {
        @Override
        int run(GuestKernel k, PrintWriter out) {
            List<CpuState> cpus = CpuState.read(k.qmp(), k);
            out.print(json() ? Json.compact(GuestFormat.cpusJson(cpus)) + "\n" : GuestFormat.cpusText(cpus));
            return ExitCode.OK;
        }
    }

    @Command(name = "read", description = "Reads guest memory at an address or symbol, as a hex dump")
    static final class Read extends Sub {
        @Parameters(index = "0", paramLabel = "ADDR", description = "hex address or symbol name")
        String address;

        @Parameters(index = "1", paramLabel = "LEN", description = "bytes (at most 1 MiB)")
        int length;

        @Override
        int run(GuestKernel k, PrintWriter out) {
            if (length <= 0 || length > (1 << 20)) {
                throw new IllegalArgumentException("LEN must be 1..1048576, got " + length);
            }
            long a = parseAddress(k, address);
            byte[] b = k.memory().read(a, length);
            out.print(json() ? Json.compact(GuestFormat.hexJson(a, b, k.memory().backend().label())) + "\n"
                    : GuestFormat.hexDump(a, b));
            return ExitCode.OK;
        }
    }

    /** Hex (with or without 0x) or a symbol name, optionally +offset. */
    static long parseAddress(GuestKernel k, String text) {
        return GuestFormat.parseAddress(k, text);
    }
}
