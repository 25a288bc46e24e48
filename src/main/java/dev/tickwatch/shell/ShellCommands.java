package dev.tickwatch.shell;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.command.BtCommand;
import dev.tickwatch.command.ConnectionOption;
import dev.tickwatch.command.ErrorHandler;
import dev.tickwatch.command.HelpLayout;
import dev.tickwatch.command.ExitCode;
import dev.tickwatch.command.DmesgCommand;
import dev.tickwatch.command.GuestContext;
import dev.tickwatch.command.GuestReadings;
import dev.tickwatch.command.LocksCommand;
import dev.tickwatch.command.JsonOption;
import dev.tickwatch.command.PrintCommand;
import dev.tickwatch.command.QmpCommand;
import dev.tickwatch.command.ReportCommand;
import dev.tickwatch.command.ShellOnly;
import dev.tickwatch.command.SnapshotCommand;
import dev.tickwatch.command.VerdictFormat;
import dev.tickwatch.command.WatchCommand;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.util.Json;
import dev.tickwatch.verdict.Decision;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * The shell's command tree: the same command classes as the CLI's (from
 * {@code dev.tickwatch.command}), mounted at the top level and run on the attached session (this
 * root is their {@link GuestContext.Provider}), plus the shell's own commands, each marked
 * {@link ShellOnly}. Mounting removes the options that say where the guest is ({@code --qmp},
 * {@code --gdb}, {@code --console}, {@code --backend}: the session knows). Commands write only to
 * the writer picocli hands them (the shell's terminal); long ones (watch, verdict, the snapshot's
 * sampling) end when {@link ShellSession#cancelled()} completes (Ctrl-C) or QEMU goes away.
 *
 * <p>Completion reads positional parameter labels (see {@link ShellCompleter}): {@code NAME} and
 * {@code ADDR} complete kernel symbols, {@code CPU} vCPU numbers, {@code DIR} file names,
 * {@code COMMAND} shell commands ({@code help}) or the commands QEMU offers ({@code qmp}).
 */
@Command(name = "", description = "tickwatch shell: the running guest, looked at from outside",
        subcommands = {ShellCommands.Status.class, ProbeCommands.VerdictCmd.class, WatchCommand.class,
            GuestReadings.Cpus.class, GuestReadings.Timers.class, GuestReadings.Tasks.class, GuestReadings.Jiffies.class,
            GuestReadings.Sym.class, GuestReadings.Addr.class, GuestReadings.Read.class, PrintCommand.class, GuestReadings.Info.class,
            LocksCommand.class, GuestReadings.Symbols.class, GuestReadings.BtfStruct.class, DmesgCommand.class,
            GdbStubCommands.Regs.class, BtCommand.class, ProbeCommands.PokeCmd.class, SnapshotCommand.class, ReportCommand.class,
            ShellCommands.Pause.class, ShellCommands.Resume.class, QmpCommand.class, ProbeCommands.Hmp.class,
            ShellCommands.SetCmd.class, ShellCommands.Help.class, ShellCommands.Exit.class})
public final class ShellCommands implements GuestContext.Provider {

    final ShellSession session;

    ShellCommands(ShellSession session) {
        this.session = session;
    }

    /** The command tree over {@code session}, writing output to {@code out} and errors to {@code err}. */
    static CommandLine commandLine(ShellSession session, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new ShellCommands(session));
        cl.setOut(out);
        cl.setErr(err);
        ErrorHandler.install(cl, c -> "Try 'help" + (c.getParent() == null ? "" : " " + c.getCommandName()) + "'.");
        for (CommandLine sub : cl.getSubcommands().values()) {
            removeConnectionOptions(sub.getCommandSpec());
        }
        HelpLayout.install(cl);
        return cl;
    }

    /** The session is attached already: where-is-the-guest options would only mislead. */
    private static void removeConnectionOptions(CommandSpec spec) {
        for (CommandSpec mixin : spec.mixins().values()) {
            if (mixin.userObject() instanceof ConnectionOption) {
                for (OptionSpec o : mixin.options()) {
                    OptionSpec mounted = spec.findOption(o.longestName());
                    if (mounted != null) {
                        spec.remove(mounted);
                    }
                }
            }
        }
    }

    @Override
    public GuestContext context(CommandSpec spec) {
        return new SessionContext(session);
    }

    /** The shell's own commands: parent, session, help option, and a call that flushes. */
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

    /** {@code --json}: one compact line; else the text, ending in a line break. */
    static void print(PrintWriter out, boolean json, JsonNode j, String text) {
        if (json) {
            out.println(Json.compact(j));
        } else {
            out.print(text.endsWith("\n") || text.isEmpty() ? text : text + System.lineSeparator());
        }
    }

    // ---- state and verdicts ----

    @ShellOnly("the session's own state: run state, verdict, who paused, sockets, last snapshot")
    @Command(name = "status", description = "The guest's run state, verdict, vCPUs, console, memory and sockets.")
    static final class Status extends Sub {
        /** How long a quick verdict samples when this shell has none yet. */
        static final double QUICK_SECONDS = 1.5;

        @Option(names = "--no-verdict", description = "do not sample for a verdict when this shell has none yet")
        boolean noVerdict;

        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) throws InterruptedException {
            ShellSession s = session();
            s.refreshState();
            GuestKernel k = s.isGone() ? null : s.attachedKernel();
            Decision d = s.lastDecision();
            boolean quick = false;
            if (d == null && !noVerdict && !s.isGone()) {
                d = ProbeCommands.sample(s, QUICK_SECONDS, null).current();
                s.lastDecision(d);
                quick = d != null;
            }
            long ageMs = d == null ? 0 : System.currentTimeMillis() - s.lastDecisionWallMs();
            int cpus = s.isGone() ? -1 : s.cpuCount();
            String backend = k == null ? null : k.memory().backend().label();
            ObjectNode j = Json.object().put("status", s.runState()).put("qmp", s.qmpEndpoint().toString())
                    .put("gdb", s.gdbEndpoint() == null ? null : s.gdbEndpoint().toString())
                    .put("kernel", k == null ? null : k.version()).put("paused_by_you", s.pausedByUser())
                    .put("paused_at_attach", s.pausedAtAttach())
                    .put("vcpus", cpus < 0 ? null : cpus)
                    .put("console", s.console() == null ? null : s.console().file().toString())
                    .put("memory_backend", backend)
                    .put("last_snapshot", s.lastSnapshot() == null ? null : s.lastSnapshot().toString());
            if (d != null) {
                j.set("verdict", VerdictFormat.json(d, s.lastDecisionWallMs()).put("age_ms", ageMs).put("quick", quick));
            } else {
                j.putNull("verdict");
            }
            StringBuilder t = new StringBuilder();
            if (s.isGone()) {
                t.append("gone: QEMU went away (QMP connection closed)\n");
            } else {
                t.append(s.runState()).append(s.pausedByUser() ? " (paused by you)" : "")
                        .append(s.pausedAtAttach() ? "; was paused at attach" : "").append('\n');
            }
            t.append("verdict: ").append(d == null ? (s.isGone() ? "none" : noVerdict ? "none yet ('verdict' samples for one)"
                    : "none (no sample could be taken)")
                    : VerdictFormat.text(d, s.lastDecisionWallMs()) + (quick ? " [quick: " + QUICK_SECONDS + " s of samples]"
                            : String.format(Locale.ROOT, " [%.0f s ago; 'verdict' samples again]", ageMs / 1000.0)))
                    .append('\n');
            if (cpus >= 0) {
                t.append("vCPUs: ").append(cpus).append('\n');
            }
            t.append("console: ").append(s.console() == null ? "none (attach --console FILE for verdicts from it)"
                    : s.console().file()).append('\n');
            t.append("qmp: ").append(s.qmpEndpoint()).append('\n');
            t.append("gdbstub: ").append(s.gdbEndpoint() == null ? "none (regs needs --gdb; bt reads registers while running)" : s.gdbEndpoint()).append('\n');
            if (!s.isGone()) {
                t.append("kernel: ").append(k != null ? k.version()
                        : "not attached" + (s.kernelProblem() == null ? " yet" : ": " + s.kernelProblem())).append('\n');
                if (k != null) {
                    t.append("memory: ").append(backend).append(k.memory().backend().pauses() ? " (pauses the guest)"
                            : " (guest keeps running)").append('\n');
                }
            }
            if (s.lastSnapshot() != null) {
                t.append("last snapshot: ").append(s.lastSnapshot()).append('\n');
            }
            print(out, o.json(), j, t.toString());
        }
    }

    @ShellOnly("the shell's own settings")
    @Command(name = "set", description = "Shows the shell's settings, or changes one: 'set pager on|off'.")
    static final class SetCmd extends Sub {
        @Parameters(index = "0", arity = "0..1", paramLabel = "SETTING", completionCandidates = Settings.class,
                description = "pager")
        String setting;

        @Parameters(index = "1", arity = "0..1", paramLabel = "VALUE", completionCandidates = OnOff.class,
                description = "on or off")
        String value;

        @Override
        void run(PrintWriter out) {
            ShellSession s = session();
            if (setting == null) {
                out.println("pager " + (s.pager() ? "on" : "off")
                        + "    (pages output longer than the screen: space, enter, q)");
                return;
            }
            if (!setting.equals("pager")) {
                throw new IllegalArgumentException("set: no setting '" + setting + "' (settings: pager)");
            }
            if (value == null) {
                out.println("pager " + (s.pager() ? "on" : "off"));
                return;
            }
            switch (value.toLowerCase(Locale.ROOT)) {
                case "on" -> s.pager(true);
                case "off" -> s.pager(false);
                default -> throw new IllegalArgumentException("set pager: '" + value + "' (expected: on or off)");
            }
            out.println("pager " + (s.pager() ? "on" : "off"));
        }
    }

    static final class Settings implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return java.util.List.of("pager").iterator();
        }
    }

    static final class OnOff implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return java.util.List.of("on", "off").iterator();
        }
    }

    @ShellOnly("holds the guest paused for the session; leaving asks whether to keep it so")
    @Command(name = "pause", description = "Pauses the guest (QMP stop); 'exit' asks whether to leave it paused")
    static final class Pause extends Sub {
        @Override
        void run(PrintWriter out) {
            session().pauseByUser();
            out.println("paused");
        }
    }

    @ShellOnly("undoes the session's pause")
    @Command(name = "resume", description = "Resumes the guest (QMP cont)")
    static final class Resume extends Sub {
        @Override
        void run(PrintWriter out) {
            session().resumeByUser();
            out.println("running");
        }
    }

    // ---- the shell itself ----

    @ShellOnly("the shell's command list; the CLI has picocli's help command")
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
            // An alias is listed with its command, not as a command of its own.
            java.util.Set<CommandLine> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            for (CommandLine c : subs.values()) {
                if (!seen.add(c)) {
                    continue;
                }
                CommandSpec cs = c.getCommandSpec();
                String[] d = cs.usageMessage().description();
                out.printf(Locale.ROOT, "  %-9s %s%s%n", cs.name(), d.length == 0 ? "" : d[0],
                        cs.aliases().length == 0 ? "" : " [also: " + String.join(", ", cs.aliases()) + "]");
            }
            out.println("'help COMMAND' or 'COMMAND --help' shows its options; --json on the commands that print data.");
            out.println("A line may hold several commands (';'), pipe one into the host shell ('tasks | grep kworker'),");
            out.println("write it to a file ('timers > t.txt', '>>' appends) or run a host command ('!ls').");
        }
    }

    @ShellOnly("leaves the shell")
    @Command(name = "exit", aliases = "quit", description = "Leaves the shell; the guest is left as attach found it")
    static final class Exit extends Sub {
        @Override
        void run(PrintWriter out) {
            session().requestExit();
        }
    }
}
