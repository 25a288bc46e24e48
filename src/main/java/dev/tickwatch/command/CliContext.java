package dev.tickwatch.command;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.KernelFiles;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.probe.Console;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.QmpOptions;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The CLI's {@link GuestContext}: connects from the command's options (its own, else its group's)
 * when a command first asks, and closes what it opened when the command ends. A missing option is a
 * usage error, said as picocli says a missing required option.
 */
final class CliContext implements GuestContext {

    private final CommandSpec spec;
    private final CompletableFuture<Void> never = new CompletableFuture<>();
    private QmpClient qmp;
    private GuestKernel kernel;
    private Console console;
    private KernelFiles files;

    CliContext(CommandSpec spec) {
        this.spec = spec;
    }

    @Override
    public QmpClient qmp() {
        if (qmp == null) {
            qmp = QmpClient.connect(qmpEndpoint(), withConnectTimeout(QmpOptions.defaults()));
        }
        return qmp;
    }

    @Override
    public QmpClient qmp(QmpOptions options) {
        if (qmp != null) {
            throw new IllegalStateException("QMP is connected already");
        }
        qmp = QmpClient.connect(qmpEndpoint(), withConnectTimeout(options));
        return qmp;
    }

    private QmpOptions withConnectTimeout(QmpOptions options) {
        Double s = Mixins.nearest(spec, QmpOption.class, QmpOption::connectTimeoutSeconds).orElse(null);
        if (s == null) {
            return options;
        }
        if (!(s > 0)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--qmp-connect-timeout must be more than 0 seconds, got " + s);
        }
        return options.toBuilder().connectTimeout(java.time.Duration.ofMillis(Math.max(1, (long) (s * 1000)))).build();
    }

    @Override
    public Endpoint qmpEndpoint() {
        return Mixins.nearest(spec, QmpOption.class, QmpOption::endpoint)
                .orElseThrow(() -> missing(QmpOption.NAME + "=ADDR"));
    }

    @Override
    public Endpoint gdbEndpoint() {
        return Mixins.nearest(spec, GdbOption.class, GdbOption::endpoint).orElse(null);
    }

    /** The gdbstub's address; a usage error when not given. */
    Endpoint requiredGdbEndpoint() {
        Endpoint e = gdbEndpoint();
        if (e == null) {
            throw missing(GdbOption.NAME + "=ADDR");
        }
        return e;
    }

    @Override
    public Console console() {
        if (console == null) {
            console = Mixins.nearest(spec, ConsoleOption.class, ConsoleOption::file).map(Console::new).orElse(null);
        }
        return console;
    }

    @Override
    public GuestKernel kernel() {
        if (kernel == null) {
            GuestKernel k = GuestKernel.attach(qmp(),
                    BackendOption.parse(Mixins.nearest(spec, BackendOption.class, BackendOption::name).orElse(null)),
                    kernelFiles());
            kernel = k;
        }
        return kernel;
    }

    @Override
    public KernelFiles kernelFiles() {
        if (files == null) {
            files = KernelFilesOption.of(spec);
        }
        return files;
    }

    @Override
    public GuestKernel kernelOrNull() {
        try {
            return kernel();
        } catch (TickwatchException e) {
            return null;
        }
    }

    @Override
    public GuestKernel probeKernel() {
        return null;
    }

    @Override
    public CompletableFuture<?> stopRequested() {
        return never;
    }

    @Override
    public boolean cancelled() {
        return false;
    }

    @Override
    public Path snapshotFolder(CommandSpec command, Path out) {
        if (out == null) {
            throw new CommandLine.ParameterException(command.commandLine(), "Missing required option: '--out=DIR'");
        }
        return out;
    }

    @Override
    public Path reportFolder(CommandSpec command, Path dir) {
        if (dir == null) {
            throw new CommandLine.ParameterException(command.commandLine(), "Missing required parameter: 'DIR'");
        }
        return dir;
    }

    @Override
    public void snapshotTaken(Path bundle) {
        // The CLI printed the path; nothing to remember.
    }

    private CommandLine.ParameterException missing(String option) {
        return new CommandLine.ParameterException(spec.commandLine(), "Missing required option: '" + option + "'");
    }

    @Override
    public void close() {
        if (kernel != null) {
            kernel.close();
        }
        if (qmp != null) {
            qmp.close();
        }
    }
}
