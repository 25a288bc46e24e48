package dev.tickwatch.cli;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.bisect.BisectReport;
import dev.tickwatch.bisect.BisectState;
import dev.tickwatch.bisect.Bisector;
import dev.tickwatch.bisect.ShardedStepRunner;
import dev.tickwatch.bisect.BootSettings;
import dev.tickwatch.bisect.Build;
import dev.tickwatch.bisect.GitBisect;
import dev.tickwatch.bisect.LocalStepRunner;
import dev.tickwatch.bisect.StepRunner;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ExitCode;
import dev.tickwatch.command.JsonOption;
import dev.tickwatch.util.Json;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch bisect}: issue 16. Drives real {@code git bisect} in the tree with planned,
 * stated confidence ({@link Bisector}); this class reads the command line, picks the runner,
 * installs the Ctrl-C hook (the build ended, the tree reset, the state kept for {@code --resume})
 * and prints the end.
 */
@CliOnly("builds and boots revisions of its own")
@Command(name = "bisect", mixinStandardHelpOptions = true, sortOptions = true,
        description = {"Bisects a rare hang with real git bisect, booting each revision until it hangs or N clean boots.",
            "First the bad revision is booted until it hangs k times; from its hang rate and the number of revisions,"
                + " N is planned so that the chance that any good verdict is wrong stays under --risk.",
            "Then the culprit's parent gets N boots again, and with --revert-check the culprit is reverted on top of bad.",
            "Paths of build outputs are relative to the tree, or absolute. Ctrl-C resets the tree; --resume goes on.",
            "Exit: 0 a culprit named; 125 no conclusion or the tree or the build cannot be used; 128 usage error.",
            "No conclusion: the bad revision never hung within --calibrate-timeout, or only skipped revisions were left."})
final class BisectCommand implements Callable<Integer> {

    /** The runners --runner accepts; only local is in this build. */
    static final List<String> RUNNERS = List.of("local", "slurm", "k8s");

    @Spec
    CommandSpec spec;

    @Mixin
    BootOptions boot = new BootOptions();

    @Option(names = "--repo", paramLabel = "DIR", defaultValue = ".", description = "the git tree (default: the current folder)")
    Path repo;

    @Option(names = "--good", paramLabel = "REV", description = "a revision that does not hang")
    String good;

    @Option(names = "--bad", paramLabel = "REV", description = "a revision that hangs, rarely")
    String bad;

    @Option(names = "--build", paramLabel = "CMD", description = "builds the checked-out revision: sh -c CMD in the tree;"
            + " a failure skips the revision; TICKWATCH_BISECT_REV holds its sha")
    String build;

    @Option(names = "--build-timeout", paramLabel = "S", defaultValue = "0", description = "seconds a build may take, 0 for no limit (default: ${DEFAULT-VALUE})")
    long buildTimeout;

    @Option(names = "--kernel", paramLabel = "PATH", description = "the kernel image the build writes")
    String kernel;

    @Option(names = "--initrd", paramLabel = "PATH", description = "the initramfs the build writes, if any")
    String initrd;

    @Option(names = "--vmlinux", paramLabel = "PATH", description = "the vmlinux the build writes: symbols and types for the hang's snapshot")
    String vmlinux;

    @Option(names = "--append", paramLabel = "CMDLINE", description = "kernel command line")
    String append;

    @Option(names = "--success", paramLabel = "REGEX", description = "console line meaning success; by default the appliance's 'tickwatch-init: done'")
    String success;








    @Option(names = "--console-silence", paramLabel = "S", defaultValue = "60",
            description = "last resort: seconds of console silence that count as a hang when no verdict came (default: ${DEFAULT-VALUE})")
    double consoleSilence;



    @Option(names = "--risk", paramLabel = "P", defaultValue = "0.01",
            description = "the chance that any good verdict is wrong, to stay under (default: ${DEFAULT-VALUE})")
    double risk;

    @Option(names = "--calibrate-hangs", paramLabel = "K", defaultValue = "3",
            description = "hangs of the bad revision that measure its rate (default: ${DEFAULT-VALUE})")
    int calibrateHangs;

    @Option(names = "--calibrate-timeout", paramLabel = "S", defaultValue = "14400",
            description = "seconds of boots the calibration may take; no hang in them means no conclusion (default: ${DEFAULT-VALUE})")
    double calibrateTimeout;

    @Option(names = "--boots-per-good", paramLabel = "N", description = "clean boots that make a step good, instead of the plan's; the stated risk follows from N")
    Long bootsPerGood;

    @Option(names = "--max-cannot-test", paramLabel = "N", defaultValue = "3",
            description = "boots that could not run before a revision is skipped (default: ${DEFAULT-VALUE})")
    int maxCannotTest;

    @Option(names = "--revert-check", description = "also revert the culprit on top of bad, in a temporary worktree, and boot that N times")
    boolean revertCheck;

    @Option(names = "--runner", paramLabel = "NAME", defaultValue = "local",
            description = "where the boots run: local, slurm or k8s (default: ${DEFAULT-VALUE})")
    String runner;

    @Option(names = "--slurm-conf", paramLabel = "FILE",
            description = "with --runner slurm: the cluster's slurm.conf when it is not the default (e.g. slurm-local.sh's)")
    Path slurmConf;

    @Option(names = "--node-tickwatch", paramLabel = "CMD",
            description = "with a cluster runner: how a node starts tickwatch, words split at spaces;"
                    + " by default this java and jar, for nodes that share this machine's files")
    String nodeTickwatch;

    @Option(names = "--k8s-image", paramLabel = "IMAGE", description = "with --runner k8s: the image the shard pods run")
    String k8sImage;

    @Option(names = "--shards", paramLabel = "N", defaultValue = "4", description = "with a cluster runner: shards per batch (default: ${DEFAULT-VALUE})")
    int shards;

    @Option(names = "--state", paramLabel = "FILE", description = "the state file; default: tickwatch-bisect.json in the tree's git folder")
    Path stateFile;

    @Option(names = "--resume", description = "go on with the bisection of the state file, after Ctrl-C, a crash or a reboot")
    boolean resume;

    @Option(names = "--diagnostics", paramLabel = "DIR", defaultValue = "tickwatch-bisect",
            description = "per revision: build log, boots, hang snapshots; the report at the end (default: ${DEFAULT-VALUE})")
    Path diagnostics;

    @Option(names = "--batch", hidden = true, paramLabel = "N", description = "boots per batch: the state is saved after each")
    Integer batch;

    @Mixin
    JsonOption jsonOption;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean json = jsonOption.json();
        PrintWriter progress = json ? err : out;
        usage(!RUNNERS.contains(runner), "--runner: '" + runner + "' (expected: local, slurm or k8s)");
        usage(!(risk > 0 && risk < 1), "--risk: " + risk + " (expected: 0 < P < 1)");
        usage(calibrateHangs < 1, "--calibrate-hangs: " + calibrateHangs + " (expected: >= 1)");
        usage(!(calibrateTimeout > 0), "--calibrate-timeout: " + calibrateTimeout + " (expected: > 0)");
        usage(bootsPerGood != null && bootsPerGood < 1, "--boots-per-good: " + bootsPerGood + " (expected: >= 1)");
        usage(boot.parallel < 1 || boot.parallel > 256, "--parallel: " + boot.parallel + " (expected: 1-256)");
        usage(boot.smp < 1, "--smp: " + boot.smp + " (expected: >= 1)");
        usage(batch != null && batch < 1, "--batch: " + batch + " (expected: >= 1)");
        usage(!(consoleSilence > 0) || boot.timeout < consoleSilence, "--timeout must be at least --console-silence, both > 0");
        usage(shards < 1, "--shards: " + shards + " (expected: >= 1)");
        if (!resume) {
            usage(good == null || bad == null || build == null || kernel == null,
                    "--good, --bad, --build and --kernel are needed (or --resume)");
        }
        BootSettings settings = new BootSettings(append, success, boot.parallel, boot.smp, boot.memory, boot.qemuArgs, boot.load, boot.jitter,
                consoleSilence, boot.timeout, boot.vmcore);
        StepRunner stepRunner = runner(runner, settings, shards);

        GitBisect git;
        BisectState state;
        Path file;
        try {
            git = GitBisect.open(repo.toAbsolutePath());
            file = stateFile != null ? stateFile.toAbsolutePath() : git.gitDir().resolve(BisectState.FILE);
            if (resume) {
                usage(!Files.isRegularFile(file), "--resume: no bisection to resume (no state file " + file + ")");
                state = BisectState.load(file);
                BisectState.Setup s = state.setup();
                usage(good != null && !git.resolve(good).equals(s.good()), "--good differs from the bisection being resumed (" + s.good() + ")");
                usage(bad != null && !git.resolve(bad).equals(s.bad()), "--bad differs from the bisection being resumed (" + s.bad() + ")");
                usage(build != null && !build.equals(s.build()), "--build differs from the bisection being resumed");
                usage(kernel != null && !kernel.equals(s.kernel()), "--kernel differs from the bisection being resumed");
            } else {
                if (Files.isRegularFile(file)) {
                    BisectState old = BisectState.load(file);
                    usage(old.phase() != BisectState.Phase.DONE, "a bisection is in progress (state " + file
                            + "): --resume it, or delete the file to start over");
                }
                if (git.bisecting()) {
                    err.println("tickwatch bisect: cannot test: a git bisect is already under way in " + git.tree()
                            + " (git bisect reset ends it)");
                    return ExitCode.CANNOT_TEST;
                }
                String g = git.resolve(good);
                String b = git.resolve(bad);
                long revisions = git.count(g, b);
                usage(revisions < 1, "--good " + good + " is not before --bad " + bad + " (no revision in good..bad)");
                usage(!git.isAncestor(g, b), "--good " + good + " is not an ancestor of --bad " + bad);
                state = new BisectState(new BisectState.Setup(g, b, build, kernel, initrd, vmlinux, risk, calibrateHangs,
                        calibrateTimeout, bootsPerGood, revertCheck, boot.seed, maxCannotTest,
                        batch != null ? batch : Math.max(8, 4 * boot.parallel)), revisions, System.currentTimeMillis());
            }
            if (git.hasLocalChanges()) {
                err.println("tickwatch bisect: cannot test: " + git.tree() + " has local changes to tracked files"
                        + " (git bisect would carry them into every revision): commit or stash them");
                return ExitCode.CANNOT_TEST;
            }
        } catch (TickwatchException e) {
            err.println("tickwatch bisect: cannot test: " + e.getMessage());
            return ExitCode.CANNOT_TEST;
        }

        Build b = new Build(state.setup().build(), buildTimeout);
        Bisector bisector = new Bisector(git, b, stepRunner, state, file, diagnostics.toAbsolutePath(), progress);
        Path tree = git.tree();
        Thread hook = new Thread(() -> {
            bisector.interrupt();
            err.println("tickwatch bisect: interrupted; the tree is reset, the state kept: tickwatch bisect --repo "
                    + tree + (stateFile != null ? " --state " + file : "") + " --resume");
            err.flush();
        }, "tickwatch-bisect-interrupted");
        Runtime.getRuntime().addShutdownHook(hook);
        Bisector.Outcome o;
        try {
            o = bisector.run();
        } catch (TickwatchException e) {
            err.println("tickwatch bisect: cannot test: " + e.getMessage());
            try {
                git.reset();
            } catch (TickwatchException ignored) {
                // said above; the state file is kept for --resume
            }
            return ExitCode.CANNOT_TEST;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs (or ran)
            }
        }
        if (json) {
            out.println(Json.compact(new BisectReport(o.state(), o.plan(), diagnostics.toAbsolutePath()).json(o.exitCode())));
        } else {
            out.println();
            out.print(o.reportText());
            out.println("report: " + o.report());
        }
        out.flush();
        return o.exitCode();
    }

    /**
     * The runner named by --runner: the boot-loop engine in this process, or each batch as
     * shards of a Slurm array job or a Kubernetes Indexed Job (the tree's build outputs must be on
     * a filesystem the nodes share).
     */
    private StepRunner runner(String name, BootSettings settings, int shards) {
        Objects.requireNonNull(settings, "settings");
        java.io.PrintWriter err = spec.commandLine().getErr();
        return switch (name) {
            case "local" -> new LocalStepRunner(settings, null);
            case "slurm" -> {
                var slurm = dev.tickwatch.boot.cluster.SlurmRunner.builder().log(m -> err.println("bisect: " + m));
                if (nodeTickwatch != null) {
                    slurm.tickwatch(List.of(nodeTickwatch.strip().split("\\s+")));
                }
                if (slurmConf != null) {
                    slurm.exec(dev.tickwatch.boot.cluster.Exec.processes(dev.tickwatch.boot.cluster.Exec.DEFAULT_TIMEOUT,
                            java.util.Map.of("SLURM_CONF", slurmConf.toAbsolutePath().toString())));
                }
                yield new ShardedStepRunner("slurm", slurm.build()::run, settings, shards);
            }
            case "k8s" -> {
                usage(k8sImage == null, "--runner k8s needs --k8s-image IMAGE (an image with Java, QEMU and tickwatch)");
                var k8s = dev.tickwatch.boot.cluster.K8sRunner.builder().image(k8sImage).log(m -> err.println("bisect: " + m));
                if (nodeTickwatch != null) {
                    k8s.tickwatch(List.of(nodeTickwatch.strip().split("\\s+")));
                }
                yield new ShardedStepRunner("k8s", k8s.build()::run, settings, shards);
            }
            default -> throw new CommandLine.ParameterException(spec.commandLine(), "--runner: '" + name
                    + "' (expected: local, slurm or k8s)");
        };
    }

    private void usage(boolean bad, String message) {
        if (bad) {
            throw new CommandLine.ParameterException(spec.commandLine(), message);
        }
    }

}
