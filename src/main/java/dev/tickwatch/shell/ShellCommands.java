package dev.tickwatch.shell;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.cli.ExitCode;
import dev.tickwatch.cli.GuestFormat;
import dev.tickwatch.cli.VerdictFormat;
import dev.tickwatch.gdb.GdbThread;
import dev.tickwatch.gdb.Registers;
import dev.tickwatch.guest.CpuState;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.TaskInfo;
import dev.tickwatch.guest.TimerView;
import dev.tickwatch.guest.sym.SymbolOffset;
import dev.tickwatch.monitor.Poke;
import dev.tickwatch.monitor.Watch;
import dev.tickwatch.probe.Probe;
import dev.tickwatch.probe.ProbeOptions;
import dev.tickwatch.snapshot.ReportText;
import dev.tickwatch.snapshot.Snapshot;
import dev.tickwatch.snapshot.SnapshotRequest;
import dev.tickwatch.snapshot.StackScan;
import dev.tickwatch.util.Json;
import dev.tickwatch.verdict.Decision;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * The shell's command tree: one picocli tree gives parsing, help and (through
 * {@link ShellCompleter}) completion. Commands write only to the writer picocli hands them (the
 * shell's terminal), never to System.out; long ones (watch, verdict, the snapshot's sampling) end
 * when {@link ShellSession#cancelled()} completes (Ctrl-C) or QEMU goes away.
 *
 * <p>Completion reads positional parameter labels: {@code NAME} and {@code ADDR} complete kernel
 * symbols, {@code CPU} vCPU numbers, {@code DIR} file names, {@code COMMAND} shell commands,
 * {@code QMP-COMMAND} the commands QEMU offers.
 */
@Command(name = "", description = "tickwatch shell: the running guest, looked at from outside",
        subcommands = {ShellCommands.Status.class, ShellCommands.VerdictCmd.class, ShellCommands.WatchCmd.class,
            ShellCommands.Cpus.class, ShellCommands.Timers.class, ShellCommands.Tasks.class, ShellCommands.Jiffies.class,
            ShellCommands.Sym.class, ShellCommands.Addr.class, ShellCommands.Read.class, ShellCommands.Regs.class,
            ShellCommands.Bt.class, ShellCommands.PokeCmd.class, ShellCommands.SnapshotCmd.class, ShellCommands.Report.class,
            ShellCommands.Pause.class, ShellCommands.Resume.class, ShellCommands.Qmp.class, ShellCommands.Hmp.class,
            ShellCommands.Help.class, ShellCommands.Exit.class})
public final class ShellCommands {

    final ShellSession session;

    ShellCommands(ShellSession session) {
        this.session = session;
    }

    /** The command tree over {@code session}, writing to {@code out}. */
    static CommandLine commandLine(ShellSession session, PrintWriter out) {
        CommandLine cl = new CommandLine(new ShellCommands(session));
        cl.setOut(out);
        cl.setErr(out);
        cl.setExitCodeExceptionMapper(t -> ExitCode.FAILED);
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            // A TickwatchException is a message for the user, one line; anything else is our bug.
            if (ex instanceof TickwatchException || ex instanceof IllegalArgumentException) {
                line.getErr().println("tickwatch: " + ex.getMessage());
            } else {
                line.getErr().println("tickwatch: internal error: " + ex);
                ex.printStackTrace(line.getErr());
            }
            line.getErr().flush();
            return ExitCode.FAILED;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("tickwatch: " + ex.getMessage());
            if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, c.getErr())) {
                c.getErr().println("Try 'help" + (c.getParent() == null ? "" : " " + c.getCommandName()) + "'.");
            }
            c.getErr().flush();
            return ExitCode.USAGE;
        });
        return cl;
    }

    /** {@code --json} on the commands that print data. */
    static final class JsonOption {
        @Option(names = "--json", description = "print JSON")
        boolean json;
    }

    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        ShellCommands root;

        @Spec
        CommandSpec spec;

        @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help")
        boolean help;

        ShellSession session() {
            return root.session;
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        abstract void run(PrintWriter out) throws Exception;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = out();
            try {
                run(out);
            } finally {
                out.flush();
            }
            return ExitCode.OK;
        }
    }

    static void print(PrintWriter out, boolean json, JsonNode j, String text) {
        if (json) {
            out.println(Json.compact(j));
        } else {
            out.print(text.endsWith("\n") || text.isEmpty() ? text : text + System.lineSeparator());
        }
    }

    // ---- state and verdicts ----

    @Command(name = "status", description = "The guest's run state, the sockets, the kernel")
    static final class Status extends Sub {
        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) {
            ShellSession s = session();
            s.refreshState();
            GuestKernel k = s.isGone() ? null : s.attachedKernel();
            ObjectNode j = Json.object().put("status", s.runState()).put("qmp", s.qmpEndpoint().toString())
                    .put("gdb", s.gdbEndpoint() == null ? null : s.gdbEndpoint().toString())
                    .put("kernel", k == null ? null : k.version()).put("paused_by_you", s.pausedByUser())
                    .put("paused_at_attach", s.pausedAtAttach())
                    .put("last_snapshot", s.lastSnapshot() == null ? null : s.lastSnapshot().toString());
            StringBuilder t = new StringBuilder();
            if (s.isGone()) {
                t.append("gone: QEMU went away (QMP connection closed)\n");
            } else {
                t.append(s.runState()).append(s.pausedByUser() ? " (paused by you)" : "")
                        .append(s.pausedAtAttach() ? "; was paused at attach" : "").append('\n');
            }
            t.append("qmp: ").append(s.qmpEndpoint()).append('\n');
            t.append("gdbstub: ").append(s.gdbEndpoint() == null ? "none (regs and bt need --gdb)" : s.gdbEndpoint()).append('\n');
            if (!s.isGone()) {
                t.append("kernel: ").append(k != null ? k.version()
                        : "not attached" + (s.kernelProblem() == null ? " yet" : ": " + s.kernelProblem())).append('\n');
            }
            if (s.lastSnapshot() != null) {
                t.append("last snapshot: ").append(s.lastSnapshot()).append('\n');
            }
            print(out, o.json, j, t.toString());
        }
    }

    /** Samples with a fresh {@link Watch} until {@code seconds} pass, QEMU goes, or Ctrl-C; null seconds: no limit. */
    static Watch sample(ShellSession s, Double seconds, java.util.function.Consumer<Decision> onChange)
            throws InterruptedException {
        Watch w = new Watch(new Probe(s.qmp(), s.console(), ProbeOptions.defaults(), s.kernelOrNull()),
                Watch.Options.defaults());
        if (onChange != null) {
            w.onChange(onChange);
        }
        w.start();
        CompletableFuture<Object> stop = CompletableFuture.anyOf(w.end(), s.goneFuture(), s.cancelled());
        try {
            if (seconds == null) {
                stop.get();
            } else {
                stop.get(Math.round(seconds * 1000), TimeUnit.MILLISECONDS);
            }
        } catch (TimeoutException e) {
            // The sampling time is over: the usual way.
        } catch (ExecutionException e) {
            // Sampling kept failing: the latest decision, if any, is still the answer.
        }
        w.close();
        return w;
    }

    @Command(name = "verdict", description = "Samples for a few seconds and decides (TIMER_STALL, SPIN_LOCKUP, ...)")
    static final class VerdictCmd extends Sub {
        @Option(names = "--for", paramLabel = "SECONDS", defaultValue = "3",
                description = "sample this long (default: ${DEFAULT-VALUE})")
        double seconds;

        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) throws InterruptedException {
            if (seconds <= 0 || seconds > 3600) {
                throw new IllegalArgumentException("--for must be within (0, 3600]");
            }
            Watch w = sample(session(), seconds, null);
            Decision d = w.current();
            if (session().cancelled().isDone()) {
                out.println("(interrupted)");
            }
            if (d == null) {
                throw new TickwatchException("no verdict: no sample was taken");
            }
            long wall = System.currentTimeMillis();
            print(out, o.json, VerdictFormat.json(d, wall), VerdictFormat.text(d, wall));
        }
    }

    @Command(name = "watch", description = "Prints a verdict line at every change, until Ctrl-C")
    static final class WatchCmd extends Sub {
        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) throws InterruptedException {
            sample(session(), null, d -> {
                long wall = System.currentTimeMillis();
                synchronized (out) {
                    out.println(o.json ? Json.compact(VerdictFormat.json(d, wall)) : VerdictFormat.text(d, wall));
                    out.flush();
                }
            });
            if (session().cancelled().isDone()) {
                out.println("(watch stopped)");
            }
        }
    }

    // ---- the guest kernel ----

    @Command(name = "cpus", description = "Per vCPU: RIP and symbol, IF, HLT, CPL, LAPIC timer (no pause)")
    static final class Cpus extends Sub {
        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) {
            List<CpuState> cpus = CpuState.read(session().qmp(), session().kernelOrNull());
            print(out, o.json, GuestFormat.cpusJson(cpus), GuestFormat.cpusText(cpus));
        }
    }

    @Command(name = "timers", description = "Per-CPU timer state, like /proc/timer_list")
    static final class Timers extends Sub {
        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) {
            GuestKernel k = session().kernel();
            TimerView t = k.timers();
            print(out, o.json, o.json ? GuestFormat.timersJson(k, t) : null, o.json ? "" : GuestFormat.timersText(k, t));
        }
    }

    @Command(name = "tasks", description = "The task list (pid, comm, state; how long D-state tasks have been off CPU)")
    static final class Tasks extends Sub {
        @Option(names = "--state", paramLabel = "S", description = "only tasks in this state letter (e.g. D)")
        String state;

        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) {
            List<TaskInfo> tasks = session().kernel().tasks().stream()
                    .filter(t -> state == null || String.valueOf(t.state()).equals(state)).toList();
            print(out, o.json, o.json ? GuestFormat.tasksJson(tasks) : null, o.json ? "" : GuestFormat.tasksText(tasks));
        }
    }

    @Command(name = "jiffies", description = "jiffies_64, read from guest memory")
    static final class Jiffies extends Sub {
        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) {
            long j = session().kernel().jiffies();
            print(out, o.json, Json.object().put("jiffies", j), Long.toUnsignedString(j));
        }
    }

    @Command(name = "sym", description = "The address of a kernel symbol")
    static final class Sym extends Sub {
        @Parameters(paramLabel = "NAME", description = "symbol name (TAB completes)")
        String name;

        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) {
            Optional<Long> a = session().kernel().symbols().addressOf(name);
            if (a.isEmpty()) {
                throw new TickwatchException("no symbol '" + name + "'");
            }
            print(out, o.json, Json.object().put("name", name).put("address", Json.hex(a.get())),
                    String.format(Locale.ROOT, "%016x %s", a.get(), name));
        }
    }

    @Command(name = "addr", description = "Names an address: symbol+offset/size [module]")
    static final class Addr extends Sub {
        @Parameters(paramLabel = "ADDR", description = "hex address, or symbol[+offset]")
        String address;

        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) {
            GuestKernel k = session().kernel();
            long a = GuestFormat.parseAddress(k, address);
            String where = k.symbolize(a);
            ObjectNode j = Json.object().put("address", Json.hex(a)).put("symbol", where);
            k.symbols().lookup(a).map(SymbolOffset::offset).ifPresent(off -> j.put("offset", off));
            print(out, o.json, j, where);
        }
    }

    @Command(name = "read", description = "Reads guest memory as a hex dump (no pause)")
    static final class Read extends Sub {
        @Parameters(index = "0", paramLabel = "ADDR", description = "hex address, or symbol[+offset]")
        String address;

        @Parameters(index = "1", paramLabel = "LEN", description = "bytes (at most 65536)")
        int length;

        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) {
            if (length <= 0 || length > 65536) {
                throw new IllegalArgumentException("LEN must be 1..65536, got " + length);
            }
            GuestKernel k = session().kernel();
            long a = GuestFormat.parseAddress(k, address);
            byte[] b = k.memory().read(a, length);
            print(out, o.json, o.json ? GuestFormat.hexJson(a, b, k.memory().backend().label()) : null,
                    o.json ? "" : GuestFormat.hexDump(a, b));
        }
    }

    // ---- through the gdbstub ----

    private static final String[][] OOPS_ROWS = {{"rax", "rbx", "rcx"}, {"rdx", "rsi", "rdi"}, {"rbp", "r8", "r9"},
        {"r10", "r11", "r12"}, {"r13", "r14", "r15"}};

    static List<Registers> select(List<Registers> all, Integer cpu) {
        if (cpu == null) {
            return all;
        }
        for (Registers r : all) {
            if (r.thread().cpuIndex() == cpu) {
                return List.of(r);
            }
        }
        throw new IllegalArgumentException("no CPU " + cpu + " (the guest has " + all.size() + ")");
    }

    private static String reg(Registers r, String name) {
        return r.has(name) ? String.format(Locale.ROOT, "%016x", r.get(name)) : "?";
    }

    @Command(name = "regs", description = "Exact registers through the gdbstub, like an oops (pauses only inside the command)")
    static final class Regs extends Sub {
        @Parameters(arity = "0..1", paramLabel = "CPU", description = "one vCPU (default: all)")
        Integer cpu;

        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) {
            session().requireGdb("regs");
            GuestKernel k = session().kernelOrNull();
            List<Registers> regs = session().withGdbPause("regs", g -> select(g.registersOfAll(), cpu));
            ArrayNode a = Json.MAPPER.createArrayNode();
            StringBuilder t = new StringBuilder();
            for (Registers r : regs) {
                ObjectNode c = a.addObject().put("cpu", r.thread().cpuIndex());
                ObjectNode rj = c.putObject("registers");
                for (String n : Registers.X86_64_STATE) {
                    if (r.has(n)) {
                        rj.put(n, Json.hex(r.get(n)));
                    }
                }
                long rip = r.get("rip");
                int cpl = r.has("cs") ? (int) (r.get("cs") & 3) : 0;
                String sym = k != null && cpl == 0 ? k.symbolize(rip) : null;
                c.put("rip_symbol", sym);
                t.append(String.format(Locale.ROOT, "CPU%d RIP: %04x:%s%n", r.thread().cpuIndex(),
                        r.has("cs") ? r.get("cs") : 0, sym != null ? sym + " (" + reg(r, "rip") + ")" : reg(r, "rip")));
                t.append(String.format(Locale.ROOT, "RSP: %04x:%s EFLAGS: %08x%n", r.has("ss") ? r.get("ss") : 0,
                        reg(r, "rsp"), r.has("eflags") ? r.get("eflags") : 0));
                for (String[] row : OOPS_ROWS) {
                    List<String> cells = new ArrayList<>();
                    for (String n : row) {
                        cells.add(String.format(Locale.ROOT, "%s: %s", n.toUpperCase(Locale.ROOT).replaceFirst("^R(\\d)$", "R0$1"),
                                reg(r, n)));
                    }
                    t.append(String.join(" ", cells)).append('\n');
                }
                t.append(String.format(Locale.ROOT, "FS: %s GS: %s KERNEL_GS: %s%n", reg(r, "fs_base"), reg(r, "gs_base"),
                        reg(r, "k_gs_base")));
                t.append(String.format(Locale.ROOT, "CR0: %s CR2: %s CR3: %s CR4: %s%n", reg(r, "cr0"), reg(r, "cr2"),
                        reg(r, "cr3"), reg(r, "cr4")));
            }
            print(out, o.json, a, t.toString());
        }
    }

    @Command(name = "bt", description = "Kernel stack scan through the gdbstub: text addresses on the stack, '?' as unreliable")
    static final class Bt extends Sub {
        @Parameters(arity = "0..1", paramLabel = "CPU", description = "one vCPU (default: all)")
        Integer cpu;

        @Mixin
        JsonOption o;

        private record Trace(Registers regs, int cpl, StackScan.Stack stack) {
        }

        @Override
        void run(PrintWriter out) {
            session().requireGdb("bt");
            GuestKernel k = session().kernel();
            // Registers and every stack from one pause: one instant, as the snapshot does it.
            List<Trace> traces = session().withGdbPause("bt", g -> {
                List<Trace> ts = new ArrayList<>();
                for (Registers r : select(g.registersOfAll(), cpu)) {
                    int cpl = r.has("cs") ? (int) (r.get("cs") & 3) : 0;
                    GdbThread thread = r.thread();
                    ts.add(new Trace(r, cpl, StackScan.read(thread.cpuIndex(), r.get("rsp"), cpl, k, (addr, len) -> {
                        g.selectThread(thread);
                        return g.readMemory(addr, len);
                    })));
                }
                return ts;
            });
            ArrayNode a = Json.MAPPER.createArrayNode();
            StringBuilder t = new StringBuilder();
            for (Trace tr : traces) {
                long rip = tr.regs().get("rip");
                String sym = tr.cpl() == 0 ? k.symbolize(rip) : null;
                ObjectNode c = a.addObject().put("cpu", tr.regs().thread().cpuIndex()).put("rip", Json.hex(rip))
                        .put("rip_symbol", sym).put("rsp", Json.hex(tr.stack().rsp())).put("bytes", tr.stack().bytes())
                        .put("note", tr.stack().note());
                ArrayNode e = c.putArray("entries");
                t.append(String.format(Locale.ROOT, "CPU%d RIP: %s (%016x) RSP: %016x%n", tr.regs().thread().cpuIndex(),
                        sym == null ? "(user mode)" : sym, rip, tr.stack().rsp()));
                if (!tr.stack().entries().isEmpty()) {
                    t.append(String.format(Locale.ROOT,
                            "Call Trace (scan of %d stack bytes; '?' as in the kernel's unreliable entries):%n", tr.stack().bytes()));
                }
                for (StackScan.Entry en : tr.stack().entries()) {
                    e.addObject().put("at", Json.hex(en.at())).put("address", Json.hex(en.address()))
                            .put("symbol", en.symbol()).put("reliable", false);
                    t.append(" ? ").append(en.symbol()).append('\n');
                }
                if (tr.stack().note() != null) {
                    t.append(" (").append(tr.stack().note()).append(")\n");
                }
            }
            print(out, o.json, a, t.toString());
        }
    }

    // ---- acting on the guest ----

    static final class PokeKinds implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("nmi", "key").iterator();
        }
    }

    @Command(name = "poke", description = "Knocks once (an NMI to every vCPU, or a key press) and says whether the guest answered")
    static final class PokeCmd extends Sub {
        @Parameters(paramLabel = "nmi|key", completionCandidates = PokeKinds.class, description = "nmi or key")
        String kind;

        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) throws InterruptedException {
            Poke.Kind k;
            try {
                k = Poke.Kind.parse(kind);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("poke: '" + kind + "' (expected: nmi or key)");
            }
            Poke.Result r = Poke.poke(session().qmp(), session().console(), k, Duration.ofSeconds(1));
            ObjectNode j = Json.object().put("poke", kind.toLowerCase(Locale.ROOT)).put("responded", r.responded());
            r.evidence().forEach(j.putArray("evidence")::add);
            print(out, o.json, j, "poke " + kind.toLowerCase(Locale.ROOT) + ": "
                    + (r.responded() ? "the guest answered" : "no answer") + ": " + String.join("; ", r.evidence()));
        }
    }

    @Command(name = "snapshot", description = "Samples, then captures the moment into a folder (snapshot.json, report.txt, ...)")
    static final class SnapshotCmd extends Sub {
        @Option(names = "--vmcore", description = "also dump guest memory (the VM pauses meanwhile)")
        boolean vmcore;

        @Option(names = "--out", paramLabel = "DIR", defaultValue = ".",
                description = "folder the snapshot folder is created in (default: the current folder)")
        Path dir;

        @Option(names = "--sample-for", paramLabel = "SECONDS", defaultValue = "3",
                description = "watch this long first, for a verdict (default: ${DEFAULT-VALUE})")
        double sampleFor;

        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) throws InterruptedException {
            ShellSession s = session();
            s.qmp();
            Watch w = sample(s, sampleFor, null);
            if (s.cancelled().isDone()) {
                out.println("(interrupted: no snapshot taken)");
                return;
            }
            Decision d = w.current();
            Snapshot.Result r = Snapshot.capture(SnapshotRequest.builder(s.qmp(), dir).gdb(s.gdbEndpoint())
                    .console(s.console()).kernel(w.probe().kernel()).watched(w.history(), d).vmcore(vmcore).build());
            s.lastSnapshot(r.bundle());
            ObjectNode j = Json.object().put("bundle", r.bundle().toString()).put("verdict", d == null ? null : d.verdict().name());
            print(out, o.json, j, String.format(Locale.ROOT, "%s%n(%s; VM paused %.0f ms; 'report' shows report.txt)",
                    r.bundle(), d == null ? "no verdict" : d.verdict(), r.timings().pauseMs()));
        }
    }

    @Command(name = "report", description = "Shows a snapshot's report.txt (default: the last snapshot); works after QEMU is gone")
    static final class Report extends Sub {
        @Parameters(arity = "0..1", paramLabel = "DIR", description = "a snapshot folder")
        Path dir;

        @Override
        void run(PrintWriter out) throws IOException {
            Path d = dir != null ? dir : session().lastSnapshot();
            if (d == null) {
                throw new TickwatchException("no snapshot taken in this shell: 'report DIR', or 'snapshot' first");
            }
            Path json = d.resolve("snapshot.json");
            if (!Files.isRegularFile(json)) {
                throw new TickwatchException(json + " not found");
            }
            out.print(ReportText.render(Json.MAPPER.readTree(Files.readString(json))));
        }
    }

    @Command(name = "pause", description = "Pauses the guest (QMP stop); 'exit' asks whether to leave it paused")
    static final class Pause extends Sub {
        @Override
        void run(PrintWriter out) {
            session().pauseByUser();
            out.println("paused");
        }
    }

    @Command(name = "resume", description = "Resumes the guest (QMP cont)")
    static final class Resume extends Sub {
        @Override
        void run(PrintWriter out) {
            session().resumeByUser();
            out.println("running");
        }
    }

    @Command(name = "qmp", description = "One raw QMP command; prints QEMU's reply as JSON")
    static final class Qmp extends Sub {
        @Parameters(index = "0", paramLabel = "QMP-COMMAND", description = "e.g. query-status")
        String command;

        @Parameters(index = "1", arity = "0..1", paramLabel = "JSON", description = "arguments, a JSON object")
        String arguments;

        @Override
        void run(PrintWriter out) throws IOException {
            JsonNode args = null;
            if (arguments != null) {
                try {
                    args = Json.MAPPER.readTree(arguments);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalArgumentException("JSON arguments: " + e.getOriginalMessage());
                }
                if (!args.isObject()) {
                    throw new IllegalArgumentException("JSON arguments must be an object, got: " + arguments);
                }
            }
            out.println(Json.compact(session().qmp().execute(command, args)));
        }
    }

    @Command(name = "hmp", description = "One HMP (human monitor) command line, e.g. 'hmp info registers'")
    static final class Hmp extends Sub {
        @Option(names = "--cpu", paramLabel = "CPU", description = "the vCPU the command runs on (default: QEMU's, CPU 0)")
        Integer cpu;

        @Parameters(arity = "1..*", paramLabel = "WORD")
        List<String> words;

        @Override
        void run(PrintWriter out) {
            String text = session().qmp().hmp(String.join(" ", words), cpu == null ? -1 : cpu);
            out.print(text.replace("\r\n", "\n"));
        }
    }

    // ---- the shell itself ----

    @Command(name = "help", description = "Lists the commands, or shows one command's options")
    static final class Help extends Sub {
        @Parameters(arity = "0..1", paramLabel = "COMMAND")
        String command;

        @Override
        void run(PrintWriter out) {
            Map<String, CommandLine> subs = spec.commandLine().getParent().getSubcommands();
            if (command != null) {
                CommandLine sub = subs.get(command);
                if (sub == null) {
                    throw new IllegalArgumentException("no command '" + command + "' (try 'help')");
                }
                sub.usage(out);
                return;
            }
            out.println("Commands (TAB completes commands, options, symbols and CPUs; Ctrl-C stops a command):");
            for (Map.Entry<String, CommandLine> e : subs.entrySet()) {
                String[] d = e.getValue().getCommandSpec().usageMessage().description();
                out.printf(Locale.ROOT, "  %-9s %s%n", e.getKey(), d.length == 0 ? "" : d[0]);
            }
            out.println("'help COMMAND' or 'COMMAND --help' shows its options; --json on the commands that print data.");
        }
    }

    @Command(name = "exit", aliases = "quit", description = "Leaves the shell; the guest is left as attach found it")
    static final class Exit extends Sub {
        @Override
        void run(PrintWriter out) {
            session().requestExit();
        }
    }
}
