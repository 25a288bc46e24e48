package dev.tickwatch.cli;

import dev.tickwatch.bench.BenchCommand;
import dev.tickwatch.bench.RecordGdbCommand;
import dev.tickwatch.bench.RecordQmpCommand;
import dev.tickwatch.command.ErrorHandler;
import dev.tickwatch.command.ExitCode;
import dev.tickwatch.command.HelpLayout;
import dev.tickwatch.command.QmpCommand;
import dev.tickwatch.command.ReportCommand;
import dev.tickwatch.command.SnapshotCommand;
import dev.tickwatch.command.WatchCommand;
import dev.tickwatch.util.Logs;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code tickwatch} command tree. The shell ({@code attach}) mounts the same command classes
 * from {@code dev.tickwatch.command}; commands write only to the streams picocli hands them
 * ({@code spec.commandLine().getOut()/getErr()}), never to System.out.
 */
@Command(name = "tickwatch", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Watches Linux guests boot under QEMU and tells, from the outside, why a guest hung.",
        exitCodeListHeading = "Exit codes (every command; safe for 'git bisect run'):%n",
        exitCodeList = {"0:ok: healthy, test ok, done", "1:a hang verdict, and nothing else",
            "125:could not test: no connection, QEMU's error, QEMU did not start, not a kernel",
            "128:usage error: bisect stops"},
        footer = {"", "Not listed: record-qmp and record-gdb, which record the QMP and gdbstub transcripts"
                + " under protocols/ for the tests."},
        subcommands = {DemoCommand.class, BootLoopCommand.class, BisectCommand.class, MergeCommand.class, WatchCommand.class,
            SnapshotCommand.class, ReportCommand.class, GuestCommand.class, GdbCommand.class, LabCommand.class,
            AttachCommand.class, ApplianceCommand.class, QmpCommand.class, RecordQmpCommand.class, RecordGdbCommand.class,
            BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    @Option(names = "--verbose", description = "debug detail on stderr (every layer's FINE log records, stack traces)")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs one command line; returns its exit code (see {@link dev.tickwatch.command.ExitCode}). */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = commandLine();
        cl.setOut(out);
        cl.setErr(err);
        try {
            return cl.execute(args);
        } catch (RuntimeException | Error e) {
            // Picocli passes Errors through; the JVM would exit 1 for them, which reads as a hang.
            err.println("tickwatch: internal error: " + e);
            e.printStackTrace(err);
            err.flush();
            return ExitCode.CANNOT_TEST;
        }
    }

    public static CommandLine commandLine() {
        Main root = new Main();
        CommandLine cl = new CommandLine(root);
        // Help as wide as the terminal (80 columns when not a terminal), broken at spaces only.
        cl.setUsageHelpAutoWidth(true);
        HelpLayout.install(cl);
        ErrorHandler.install(cl, c -> "Try '" + c.getCommandSpec().qualifiedName() + " --help' for more information.");
        cl.setExecutionStrategy(parsed -> {
            // Once, before the command runs: log records as one line each on stderr.
            Logs.configure(System.err, root.verbose);
            return new CommandLine.RunLast().execute(parsed);
        });
        return cl;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"tickwatch " + (v == null ? "(development build)" : v)};
        }
    }
}
