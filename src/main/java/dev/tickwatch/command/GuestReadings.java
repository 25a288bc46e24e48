package dev.tickwatch.command;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.guest.CpuState;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.TaskInfo;
import dev.tickwatch.guest.TimerView;
import dev.tickwatch.guest.Values;
import dev.tickwatch.guest.btf.BtfMemberRow;
import dev.tickwatch.guest.sym.Kallsyms;
import dev.tickwatch.guest.sym.Symbol;
import dev.tickwatch.guest.sym.SymbolOffset;
import dev.tickwatch.util.Json;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The readings of the guest kernel's own state from its memory, with symbols and types found in
 * that memory (kallsyms, BTF), KASLR or not, and the guest keeps running; a kernel built without
 * them takes the developer's {@code --vmlinux} or {@code --system-map}. The CLI mounts them under {@code tickwatch guest}; the shell at its top level.
 */
public final class GuestReadings {

    private GuestReadings() {
    }

    /** Each reading: get the guest from the context, do one thing, print. */
    abstract static class Sub implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        QmpOption qmp;

        @Mixin
        BackendOption backend;

        @Mixin
        KernelFilesOption kernelFiles;

        @Mixin
        JsonOption jsonOption;

        /** Most readings need the kernel view; {@code cpus} works without. */
        int run(GuestContext ctx, PrintWriter out) throws Exception {
            return run(ctx.kernel(), out);
        }

        int run(GuestKernel k, PrintWriter out) throws Exception {
            throw new UnsupportedOperationException(spec.name());
        }

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            try (GuestContext ctx = GuestContext.open(spec)) {
                // A mistyped file is a usage error before anything connects.
                ctx.kernelFiles();
                int code = run(ctx, out);
                out.flush();
                return code;
            }
        }

        boolean json() {
            return JsonOption.given(spec);
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "info", description = "What was found: kernel version, memory backend, kallsyms, BTF, timings.")
    public static final class Info extends Sub {
        @Override
        int run(GuestKernel k, PrintWriter out) {
            ObjectNode o = Json.object().put("kernel", k.version()).put("backend", k.memory().backend().label())
                    .put("pauses_guest", k.memory().backend().pauses())
                    .put("image_start", Json.hex(k.image().start())).put("image_end", Json.hex(k.image().end()))
                    .put("symbols", k.symbols().size()).put("symbols_from", k.symbols().source())
                    .put("data_symbols", k.symbols().hasDataSymbols())
                    .put("btf", k.hasBtf()).put("types_from", k.typesFrom()).put("cpus", k.cpuCount());
            if (k.symbols() instanceof Kallsyms ks) {
                o.put("kallsyms_token_table", Json.hex(ks.tokenTableAddress()));
            }
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
                String textOnly = k.symbols().hasDataSymbols() ? "" : "; text only: KALLSYMS_ALL off";
                if (k.symbols() instanceof Kallsyms ks) {
                    out.printf(Locale.ROOT, "kallsyms: %d symbols (token table at 0x%x%s)%n", ks.size(),
                            ks.tokenTableAddress(), textOnly);
                } else {
                    out.printf(Locale.ROOT, "symbols: %d from %s%s%n", k.symbols().size(), k.symbols().source(), textOnly);
                }
                out.println("BTF: " + (k.hasBtf() ? k.btf().typeCount() + " types from " + k.typesFrom()
                        : "none (" + k.btfProblem() + ")"));
                out.printf(Locale.ROOT, "attach took %.0f ms (memory %.0f, image %.0f, kallsyms %.0f, BTF %.0f)%n",
                        k.timings().totalMs(), k.timings().memoryMs(), k.timings().imageMs(), k.timings().kallsymsMs(),
                        k.timings().btfMs());
            }
            return ExitCode.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "symbols", description = "Lists kernel symbols: all, or those starting with a prefix.")
    public static final class Symbols extends Sub {
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

    @Command(mixinStandardHelpOptions = true, name = "sym", description = "The address of a kernel symbol.")
    public static final class Sym extends Sub {
        @Parameters(paramLabel = "NAME", description = "symbol name (TAB completes in the shell)")
        String name;

        @Override
        int run(GuestKernel k, PrintWriter out) {
            Optional<Long> a = k.symbols().addressOf(name);
            if (a.isEmpty()) {
                spec.commandLine().getErr().println(Commands.who(spec) + ": no symbol '" + name + "'");
                return ExitCode.CANNOT_TEST;
            }
            if (json()) {
                out.println(Json.compact(Json.object().put("name", name).put("address", Json.hex(a.get()))));
            } else {
                out.printf("%016x %s%n", a.get(), name);
            }
            return ExitCode.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "addr", description = "Names an address: symbol+offset/size [module].")
    public static final class Addr extends Sub {
        @Parameters(paramLabel = "ADDR", description = "hex address, or symbol[+offset]")
        String address;

        @Override
        int run(GuestKernel k, PrintWriter out) {
            long a = parseAddress(k, address);
            String where = k.symbolize(a);
            String outside = null;
            if (where.startsWith("0x")) {
                boolean inImage = Long.compareUnsigned(a, k.image().start()) >= 0 && Long.compareUnsigned(a, k.image().end()) < 0;
                outside = inImage ? "in the kernel image (0x" + Long.toHexString(k.image().start()) + "..0x"
                        + Long.toHexString(k.image().end()) + ") but in no symbol"
                        : "outside the kernel image (0x" + Long.toHexString(k.image().start()) + "..0x"
                        + Long.toHexString(k.image().end()) + ") and every module";
            }
            if (json()) {
                ObjectNode o = Json.object().put("address", Json.hex(a)).put("symbol", outside == null ? where : null);
                k.symbols().lookup(a).map(SymbolOffset::offset).ifPresent(off -> o.put("offset", off));
                o.put("outside", outside);
                out.println(Json.compact(o));
            } else {
                out.println(outside == null ? where : where + ": " + outside);
            }
            return ExitCode.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "timers", description = "Per-CPU timer state, like /proc/timer_list.")
    public static final class Timers extends Sub {
        @Override
        int run(GuestKernel k, PrintWriter out) {
            TimerView t = k.timers();
            out.print(json() ? Json.compact(GuestFormat.timersJson(k, t)) + "\n" : GuestFormat.timersText(k, t));
            return ExitCode.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "tasks", description = "The task list: pid, comm, state, and how long D-state tasks have been off CPU.")
    public static final class Tasks extends Sub {
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

    @Command(mixinStandardHelpOptions = true, name = "btf", description = "A struct's layout from the guest's BTF, like pahole.")
    public static final class BtfStruct extends Sub {
        @Parameters(paramLabel = "STRUCT", description = "a struct name, e.g. tick_sched")
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

    @Command(mixinStandardHelpOptions = true, name = "cpus", description = "Per vCPU: RIP and symbol, IF, HLT, CPL, LAPIC timer.")
    public static final class Cpus extends Sub {
        @Override
        int run(GuestContext ctx, PrintWriter out) {
            // Registers and LAPIC come through QMP: without a readable kernel only the symbols are missing.
            List<CpuState> cpus = CpuState.read(ctx.qmp(), ctx.kernelOrNull());
            out.print(json() ? Json.compact(GuestFormat.cpusJson(cpus)) + "\n" : GuestFormat.cpusText(cpus));
            return ExitCode.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "jiffies", description = "Reads jiffies_64 from guest memory.")
    public static final class Jiffies extends Sub {
        @Override
        int run(GuestKernel k, PrintWriter out) {
            long j = k.jiffies();
            out.println(json() ? Json.compact(Json.object().put("jiffies", j)) : Long.toUnsignedString(j));
            return ExitCode.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "read",
            description = "Reads guest memory at an address or symbol: hex, 64-bit words (x/gx) or text.")
    public static final class Read extends Sub {
        @Parameters(index = "0", paramLabel = "ADDR", description = "hex address or symbol[+offset]")
        String address;

        @Parameters(index = "1", arity = "0..1", paramLabel = "LEN",
                description = "bytes, at most 1 MiB; for a symbol, its size by default: BTF's, else up to the next kallsyms symbol")
        Integer length;

        @Option(names = "--u64", description = "show 64-bit words like gdb's x/gx, with the symbols they point into")
        boolean u64;

        @Option(names = "--ascii", description = "show the bytes as text, non-printable ones as '.'")
        boolean ascii;

        @Option(names = "--cpu", paramLabel = "CPU", description = "for a per-CPU symbol: read that CPU's copy")
        Integer cpu;

        @Override
        int run(GuestKernel k, PrintWriter out) {
            if (u64 && ascii) {
                throw Commands.usage(spec, "either --u64 or --ascii, not both");
            }
            String symbol = address.replaceFirst("\\+.*", "");
            boolean named = k.symbols().addressOf(symbol).isPresent(); // as parseAddress: a symbol before hex
            int len;
            if (length != null) {
                len = length;
            } else if (named) {
                len = (int) Math.min(Values.symbolSize(k, symbol).orElseThrow(() -> Commands.usage(spec,
                        "the size of " + symbol + " is not known (no BTF type, no next symbol): give LEN")), 1 << 20);
            } else {
                throw Commands.usage(spec, "LEN is needed for an address (a symbol's size is known)");
            }
            if (len <= 0 || len > (1 << 20)) {
                throw new IllegalArgumentException("LEN must be 1..1048576, got " + len);
            }
            long a = parseAddress(k, address);
            if (cpu != null) {
                if (!named || !Values.isPerCpu(k, symbol)) {
                    throw Commands.usage(spec, "--cpu is for a per-CPU symbol; " + address + " is not one");
                }
                if (cpu < 0 || cpu >= k.cpuCount()) {
                    throw Commands.usage(spec, "--cpu " + cpu + ": the guest has CPUs 0.." + (k.cpuCount() - 1));
                }
                a += k.perCpuOffset(cpu);
            }
            if (u64) {
                len = Math.max(8, len & ~7);
            }
            byte[] b = k.memory().read(a, len);
            String backend = k.memory().backend().label();
            if (u64) {
                out.print(json() ? Json.compact(GuestFormat.wordsJson(k, a, b, backend)) + "\n" : GuestFormat.words(k, a, b));
            } else if (ascii) {
                out.print(json() ? Json.compact(GuestFormat.asciiJson(a, b, backend)) + "\n" : GuestFormat.ascii(a, b));
            } else {
                out.print(json() ? Json.compact(GuestFormat.hexJson(a, b, backend)) + "\n" : GuestFormat.hexDump(a, b));
            }
            return ExitCode.OK;
        }
    }

    /** Hex (with or without 0x) or a symbol name, optionally +offset. */
    static long parseAddress(GuestKernel k, String text) {
        return GuestFormat.parseAddress(k, text);
    }
}
