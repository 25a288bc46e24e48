package dev.tickwatch.cli;

import dev.tickwatch.TickwatchException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code tickwatch} command tree. The JLine shell mounts the same tree, so commands write
 * only to the streams picocli hands them ({@code spec.commandLine().getOut()/getErr()}), never
 * to System.out.
 */
@Command(name = "tickwatch", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Watches Linux guests boot under QEMU and tells, from the outside, why a guest hung.",
        subcommands = {DemoCommand.class, BootLoopCommand.class, MergeCommand.class, WatchCommand.class,
            SnapshotCommand.class, ReportCommand.class, GuestCommand.class, GdbCommand.class, LabCommand.class,
            dev.tickwatch.shell.AttachCommand.class, ApplianceCommand.class, QmpCommand.class, RecordQmpCommand.class, RecordGdbCommand.class, BenchCommand.class,
            CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs one command line; returns its exit code (see {@link ExitCode}). */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = commandLine();
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
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
                c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for more information.");
            }
            c.getErr().flush();
            return ExitCode.USAGE;
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
