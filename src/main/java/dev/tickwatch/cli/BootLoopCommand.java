package dev.tickwatch.cli;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.qemu.Accel;
import dev.tickwatch.qemu.Appliance;
import dev.tickwatch.qemu.KernelCache;
import dev.tickwatch.qemu.KernelFile;
import dev.tickwatch.qemu.QemuConfig;
import dev.tickwatch.boot.loop.BootListener;
import dev.tickwatch.boot.loop.BootLoop;
import dev.tickwatch.boot.loop.BootWatchers;
import dev.tickwatch.boot.loop.SnapshotOnHang;
import dev.tickwatch.boot.loop.JUnitReport;
import dev.tickwatch.boot.loop.LoopOptions;
import dev.tickwatch.boot.loop.LoopResult;
import dev.tickwatch.boot.loop.ResultsFile;
import dev.tickwatch.boot.loop.Shard;
import dev.tickwatch.boot.loop.WatchOptions;
import dev.tickwatch.lab.Lab;
import dev.tickwatch.lab.LabMode;
import dev.tickwatch.util.FileTrees;
import dev.tickwatch.util.Json;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ExitCode;
import dev.tickwatch.command.JsonOption;
import dev.tickwatch.command.KernelFilesOption;
import dev.tickwatch.guest.KernelFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch boot-loop}: issue 8. N boots on T workers until the first hang, with
 * bisect-safe exit codes (0 test ok, 1 a hang, 125 could not test, 128 usage), shards, a
 * JSON-lines results file and a JUnit report. The watcher comes from {@link BootWatchers}, the
 * hang handler is {@link SnapshotOnHang}: a diagnostic folder with a full snapshot inside.
 */
@CliOnly("boots guests of its own; the shell looks at one that runs")
@Command(name = "boot-loop", mixinStandardHelpOptions = true,
        description = {"Boots a guest N times on T parallel workers and stops at the first hang.",
            "Guest: the built-in appliance, or --kernel FILE [--initrd FILE] [--append CMDLINE] with --success REGEX.",
            "Exit: 0 test ok; 1 a boot hung; 125 could not test: QEMU did not start, the kernel is missing or"
                + " not a kernel, the firmware is stuck; 128 usage error. Safe for 'git bisect run'."})
final class BootLoopCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    BootOptions boot = new BootOptions();

    @Option(names = "--kernel", paramLabel = "FILE", description = "kernel image; by default the cached Debian cloud kernel with the built-in appliance")
    Path kernel;

    @Option(names = "--initrd", paramLabel = "FILE", description = "initramfs for --kernel")
    Path initrd;

    @Option(names = "--append", paramLabel = "CMDLINE", description = "kernel command line (default: '" + QemuConfig.DEFAULT_APPEND + "')")
    String append;

    @Option(names = {"-n", "--boots"}, paramLabel = "N", defaultValue = "100", description = "boots in the whole loop, all shards (default: ${DEFAULT-VALUE})")
    int boots;





    @Option(names = "--success", paramLabel = "REGEX", description = "console line meaning success, and QEMU must exit too; by default the appliance's"
                    + " 'tickwatch-init: done'")
    String success;

    // No defaultValue: picocli would apply it after the deprecated alias below set the field.
    @Option(names = "--console-silence", paramLabel = "S",
            description = "last resort: seconds of console silence that count as a hang when no verdict came"
                    + " (default: 60)")
    double consoleSilence = 60;

    /** Before --console-silence: watch's --stall is the TIMER_STALL threshold, so the name had two meanings. */
    @Option(names = "--stall", hidden = true, paramLabel = "S", description = "deprecated: --console-silence")
    void deprecatedStall(double s) {
        consoleSilence = s;
        deprecated = "--stall";
    }

    /** The deprecated option name given, or null. */
    String deprecated;


    @Option(names = "--keep-going", description = "count hangs instead of stopping at the first")
    boolean keepGoing;




    @Option(names = "--shard", paramLabel = "I/N", description = "run boots b with b mod N = I (0-based), e.g. $JOB_COMPLETION_INDEX/4")
    String shard;

    @Option(names = "--results", paramLabel = "FILE", description = "append one JSON line per boot (JSON lines)")
    Path results;

    @Option(names = "--junit", paramLabel = "FILE", description = "write a JUnit XML report, one testcase per boot")
    Path junit;

    @Option(names = "--diagnostics", paramLabel = "DIR", defaultValue = "tickwatch-hangs", description = "where hang diagnostics go (default: ${DEFAULT-VALUE})")
    Path diagnostics;


    @Option(names = "--target-rate", paramLabel = "R", description = "also print the boots needed to show the hang rate < R (95%%)")
    Double targetRate;

    @Mixin
    JsonOption jsonOption;

    /** Passed on to the watcher of every boot (and the hang's snapshot). */
    @Mixin
    KernelFilesOption kernelFiles;

    @Option(names = "--lab-mode", hidden = true, paramLabel = "MODE", description = "boot --lab-at runs this lab hang mode (tests, demo); the lab guest is always the cached kernel with the lab module")
    String labMode;

    @Option(names = "--lab-p-permille", hidden = true, paramLabel = "N", description = "with --lab-mode flaky: the chance of a hang in 1/1000")
    Integer labPermille;

    @Option(names = "--lab-at", hidden = true, paramLabel = "K", description = "0-based boot number that runs --lab-mode")
    Integer labAt;

    @Option(names = "--progress-interval", hidden = true, paramLabel = "S", defaultValue = "10", description = "seconds between plain progress lines")
    double progressInterval;

    @Override
    public Integer call() throws Exception {
        return runLoop("boot-loop", spec.commandLine().getOut(), spec.commandLine().getErr());
    }

    /** The loop with this object's settings; also used by {@code demo}. */
    int runLoop(String name, PrintWriter out, PrintWriter err) throws IOException, InterruptedException {
        if (deprecated != null) {
            err.println("tickwatch " + name + ": " + deprecated + " is deprecated here: it is --console-silence"
                    + " (watch's --stall is the TIMER_STALL threshold)");
            err.flush();
        }
        boolean json = jsonOption.json();
        WatchOptions watch;
        KernelFiles files = KernelFilesOption.of(spec);
        LoopOptions.Builder lo = LoopOptions.builder();
        Shard sh;
        LabMode mode = null;
        try {
            sh = shard == null ? Shard.WHOLE : Shard.parse(shard);
            if (labMode != null) {
                mode = LabMode.parse(labMode);
            }
            if (labPermille != null && mode != LabMode.FLAKY) {
                throw new IllegalArgumentException("--lab-p-permille goes with --lab-mode flaky");
            }
            if (labPermille != null) {
                Lab.flakyArg(labPermille);
            }
            if ((labMode == null) != (labAt == null)) {
                throw new IllegalArgumentException("--lab-mode and --lab-at go together");
            }
            if (initrd != null && kernel == null) {
                throw new IllegalArgumentException("--initrd needs --kernel");
            }
            if (targetRate != null && !(targetRate > 0 && targetRate < 1)) {
                throw new IllegalArgumentException("--target-rate: " + targetRate + " (expected: 0 < R < 1)");
            }
            watch = WatchOptions.builder()
                    .success(success == null ? WatchOptions.DEFAULT_SUCCESS : Pattern.compile(success, Pattern.MULTILINE))
                    .stall(Duration.ofMillis((long) (consoleSilence * 1000))).timeout(Duration.ofMillis((long) (boot.timeout * 1000)))
                    .kernelFiles(files).build();
            // Validate the numbers before anything is built: a usage error must stay 128.
            LoopOptions.builder().config(QemuConfig.builder().kernel(Path.of("/")).smp(boot.smp).memoryMiB(boot.memory).build())
                    .boots(boots).parallel(boot.parallel).load(boot.load).build();
            if (labAt != null && (labAt < 0 || labAt >= boots)) {
                throw new IllegalArgumentException("--lab-at: " + labAt + " (expected: 0 <= K < boots)");
            }
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }

        Path work = Files.createTempDirectory("tickwatch-loop-");
        Thread cleanup = new Thread(() -> FileTrees.deleteTree(work), "tickwatch-loop-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            String what;
            QemuConfig config;
            QemuConfig lab = null;
            try {
                if (kernel != null) {
                    // Before the first boot: a file QEMU rejects would fail every boot of the loop.
                    KernelFile.check(kernel);
                    if (initrd != null && !Files.isRegularFile(initrd)) {
                        throw new TickwatchException("initrd " + initrd + " not found");
                    }
                    if (initrd != null && !Files.isReadable(initrd)) {
                        throw new TickwatchException("initrd " + initrd + " is not readable (permission denied)");
                    }
                    QemuConfig.Builder b = QemuConfig.builder().kernel(kernel).initrd(initrd);
                    if (append != null) {
                        b.append(append);
                    }
                    config = b.smp(boot.smp).memoryMiB(boot.memory).accel(Accel.TCG).extraArgs(boot.qemuArgs).build();
                    what = kernel.getFileName().toString();
                } else {
                    KernelCache.Kernel k = KernelCache.standard().current();
                    Path img = Appliance.builder().build().write(work.resolve("initrd.gz"));
                    QemuConfig.Builder b = QemuConfig.builder().kernel(k.image()).initrd(img);
                    if (append != null) {
                        b.append(append);
                    }
                    config = b.smp(boot.smp).memoryMiB(boot.memory).accel(Accel.TCG).extraArgs(boot.qemuArgs).build();
                    what = "the appliance on " + k.abi();
                }
                if (mode != null) {
                    lab = Lab.config(mode, work, true, labPermille == null ? List.of() : List.of(Lab.flakyArg(labPermille)))
                            .smp(boot.smp).memoryMiB(boot.memory)
                            .extraArgs(boot.qemuArgs).build();
                    lo.lab(mode.label(), lab, labAt);
                }
            } catch (TickwatchException e) {
                err.println("tickwatch " + name + ": cannot test: " + e.getMessage());
                err.flush();
                return ExitCode.CANNOT_TEST;
            }
            LoopOptions options = lo.config(config).boots(boots).parallel(boot.parallel).shard(sh).jitter(boot.jitter)
                    .seed(boot.seed).keepGoing(keepGoing).load(boot.load).build();
            int mine = sh.boots(boots).size();
            PrintWriter progressOut = json ? err : out;
            progressOut.printf(Locale.ROOT, "%s: %d boot%s of %s%s on %d worker%s, %s vCPUs, TCG%s%s; a hang is a verdict (TIMER_STALL, SPIN_LOCKUP, ...), or %s s of console silence%n",
                    name, mine, mine == 1 ? "" : "s", what, sh.count() > 1 ? " (shard " + sh + " of " + boots + " boots)" : "",
                    boot.parallel, boot.parallel == 1 ? "" : "s", boot.jitter ? "1-" + boot.smp : Integer.toString(boot.smp),
                    boot.load > 0 ? ", " + boot.load + " load threads" : "", mode != null ? ", boot " + labAt + " runs lab " + mode.label() : "",
                    trim(consoleSilence));
            progressOut.flush();
            LoopResult r;
            try (ResultsFile rf = results == null ? null : ResultsFile.open(results);
                 Progress progress = new Progress(progressOut, name + ": ", System.console() != null, progressInterval)) {
                BootListener listener = rf == null ? progress : BootListener.all(rf, progress);
                BootLoop loop = new BootLoop(options, BootWatchers.create(watch), new SnapshotOnHang(diagnostics.toAbsolutePath(), boot.vmcore, files), listener);
                // Ctrl-C: the JVM exits 130 after its hooks; this one says how far the loop got first.
                Thread summary = new Thread(() -> {
                    progress.close();
                    err.println(progress.interrupted(results == null ? null : results.toAbsolutePath(),
                            diagnostics.toAbsolutePath()));
                    err.flush();
                }, "tickwatch-loop-interrupted");
                Runtime.getRuntime().addShutdownHook(summary);
                try {
                    r = loop.run();
                } finally {
                    try {
                        Runtime.getRuntime().removeShutdownHook(summary);
                    } catch (IllegalStateException shuttingDown) {
                        // the hook runs (or ran): the summary is printed
                    }
                }
            }
            if (junit != null) {
                JUnitReport.write(junit, "tickwatch." + name, r.records());
            }
            if (json) {
                out.println(Json.compact(LoopReport.json(r, targetRate)));
                out.flush();
                if (r.status() == LoopResult.Status.CANNOT_TEST) {
                    err.println("tickwatch " + name + ": cannot test: " + (r.cannotTest() != null
                            ? r.cannotTest().outcome().reason() : "no result for " + r.missing() + " boots"));
                    err.flush();
                }
                return LoopReport.exitCode(r);
            }
            return LoopReport.print(name, r, targetRate, out, err);
        } finally {
            FileTrees.deleteTree(work);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException ignored) {
                // shutting down: the hook deletes the folder (again, harmlessly)
            }
        }
    }

    private static String trim(double s) {
        return s == Math.rint(s) ? Long.toString((long) s) : Double.toString(s);
    }
}
