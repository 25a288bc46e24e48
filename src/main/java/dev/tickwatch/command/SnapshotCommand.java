package dev.tickwatch.command;

import dev.tickwatch.probe.Console;
import dev.tickwatch.watch.Watch;
import dev.tickwatch.probe.Probe;
import dev.tickwatch.probe.ProbeOptions;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.snapshot.Snapshot;
import dev.tickwatch.snapshot.SnapshotRequest;
import dev.tickwatch.util.Json;
import dev.tickwatch.verdict.Decision;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch snapshot}: watches a running guest for a few seconds to have a sample series
 * and a verdict, then captures everything about that moment into a bundle folder and prints
 * its path. The shell's context supplies a default folder and remembers the bundle for
 * {@code report}.
 */
@Command(name = "snapshot", mixinStandardHelpOptions = true, modelTransformer = QmpOption.Required.class,
        description = {"Captures a guest's state into a folder, with reports for LKML and a browser.",
            "The folder holds snapshot.json, report.txt (for LKML), report.html (with plots), console.log,"
                + " and with --vmcore a kdump-compressed vmcore. Samples first (--sample-for) to have a verdict;"
                + " pauses the VM only inside the gdbstub capture (and the dump), and always leaves it running"
                + " if it ran. Prints the folder's path."})
public final class SnapshotCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    QmpOption qmp;

    @Mixin
    GdbOption gdb;

    @Mixin
    ConsoleOption console;

    @Mixin
    KernelFilesOption kernelFiles;

    @Option(names = "--vmcore", description = "also dump guest memory with dump-guest-memory (the VM pauses meanwhile)")
    boolean vmcore;

    @Option(names = "--vmcore-format", defaultValue = "kdump-zlib", paramLabel = "FORMAT",
            description = "kdump-zlib (default, for crash) or elf")
    String vmcoreFormat;

    @Option(names = "--sample-for", defaultValue = "3", paramLabel = "SECONDS",
            description = "watch this long before capturing (default: ${DEFAULT-VALUE})")
    double sampleFor;

    @Option(names = "--lab-mode", paramLabel = "MODE", description = "the hang-lab mode, for the report's reproduce section")
    String labMode;

    @Option(names = "--out", paramLabel = "DIR",
            description = "folder the snapshot folder is created in; required on the command line; the shell's default:"
                    + " $XDG_STATE_HOME/tickwatch/snapshots, else ~/.local/state/tickwatch/snapshots")
    Path out;

    @Mixin
    JsonOption jsonOption;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        if (sampleFor < 0 || sampleFor > 3600) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--sample-for must be within 0..3600");
        }
        if (!vmcoreFormat.equals("kdump-zlib") && !vmcoreFormat.equals("elf")) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--vmcore-format: '" + vmcoreFormat + "' (expected: kdump-zlib or elf)");
        }
        GuestContext ctx = GuestContext.open(spec);
        // Before anything connects: a missing --out is a usage error, with nothing to close yet.
        Path folder = ctx.snapshotFolder(spec, out);
        boolean json = jsonOption.json();
        try (ctx;
                Watch watch = new Watch(new Probe(ctx.qmp(), ctx.console(),
                        ProbeOptions.builder().kernelFiles(ctx.kernelFiles()).build(), ctx.probeKernel()),
                        Watch.Options.defaults())) {
            QmpClient q = ctx.qmp();
            Console con = ctx.console();
            watch.start();
            try {
                // Sampling ends early only if the guest goes away (or, in the shell, at Ctrl-C).
                java.util.concurrent.CompletableFuture.anyOf(watch.end(), ctx.stopRequested())
                        .get(Math.round(sampleFor * 1000), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                // The usual way: the sampling time is over.
            } catch (ExecutionException e) {
                spec.commandLine().getErr().println(Commands.who(spec) + ": sampling failed: " + e.getCause().getMessage()
                        + "; capturing anyway");
            }
            if (ctx.cancelled()) {
                o.println("(interrupted: no snapshot taken)");
                o.flush();
                return ExitCode.OK;
            }
            Decision d = watch.current();
            SnapshotRequest req = SnapshotRequest.builder(q, folder).gdb(ctx.gdbEndpoint()).console(con)
                    .kernel(watch.probe().kernel() != null || ctx.kernelFiles().isEmpty() ? watch.probe().kernel()
                            : ctx.kernelOrNull()).watched(watch.history(), d)
                    .environment(new SnapshotRequest.Environment(null, null, labMode))
                    .vmcore(vmcore).vmcoreFormat(vmcoreFormat).build();
            Snapshot.Result r = Snapshot.capture(req);
            ctx.snapshotTaken(r.bundle());
            if (json) {
                var j = Json.object().put("bundle", r.bundle().toString())
                        .put("verdict", d == null ? null : d.verdict().name());
                j.putObject("timings_ms").put("capture", r.timings().captureMs()).put("pause", r.timings().pauseMs())
                        .put("vmcore", r.timings().vmcoreMs()).put("write", r.timings().writeMs())
                        .put("total", r.timings().totalMs());
                o.println(Json.compact(j));
            } else {
                o.println(r.bundle());
                spec.commandLine().getErr().println(String.format(Locale.ROOT,
                        "%s: %s; captured in %.0f ms (VM paused %.0f ms)%s, written in %.0f ms",
                        Commands.who(spec), d == null ? "no verdict" : d.verdict(), r.timings().captureMs(), r.timings().pauseMs(),
                        vmcore ? String.format(Locale.ROOT, ", vmcore %.0f ms", r.timings().vmcoreMs()) : "",
                        r.timings().writeMs()));
            }
            o.flush();
            return ExitCode.OK;
        }
    }

}
