package dev.tickwatch.bisect;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.boot.loop.BootLoop;
import dev.tickwatch.boot.loop.LoopResult;
import dev.tickwatch.guest.KernelFiles;
import dev.tickwatch.qemu.KernelFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * One bisection from start (or from its state file) to its report (issue 16, parts 1-4). First
 * the bad revision is built and booted until it hangs {@code k} times (the calibration), then the
 * {@link Planner}'s N is fixed; then {@code git bisect} picks revisions, each is built (a failed
 * build is a skip) and booted in batches: the first hang makes it bad at once, N clean boots good,
 * too many boots that could not run a skip. The culprit's parent gets N boots again, and with
 * the revert check the culprit is reverted on top of bad in a temporary worktree and booted N
 * times. The state is saved after every batch; a batch cut short by Ctrl-C is not counted.
 *
 * <p>Exit codes: 0 a culprit; 125 no conclusion (the bad revision never hung in the calibration's
 * time, or only skipped revisions were left) or the tree or the build cannot be used. Never 1:
 * across tickwatch 1 means a hang verdict and nothing else.
 */
public final class Bisector {

    public static final int OK = 0;
    public static final int NO_CONCLUSION = 125;
    public static final int CANNOT_TEST = 125;

    /** How it ended: the exit code and the report as written to the diagnostics folder. */
    public record Outcome(int exitCode, BisectState state, BisectPlan plan, String reportText, Path report) {
    }

    private final GitBisect git;
    private final Build build;
    private final StepRunner runner;
    private final BisectState state;
    private final Path stateFile;
    private final Path diagnostics;
    private final PrintWriter out;
    private BisectPlan plan;
    private volatile boolean interrupted;
    private volatile Path worktree;

    public Bisector(GitBisect git, Build build, StepRunner runner, BisectState state, Path stateFile, Path diagnostics,
            PrintWriter out) {
        this.git = git;
        this.build = build;
        this.runner = runner;
        this.state = state;
        this.stateFile = stateFile;
        this.diagnostics = diagnostics.toAbsolutePath();
        this.out = out;
    }

    public BisectPlan plan() {
        return plan;
    }

    /** Runs the bisection to its end (or the next interrupt, then {@link InterruptedException}). */
    public Outcome run() throws InterruptedException {
        // A bisection a crash left in the tree is started over; the state file replays its verdicts.
        git.reset();
        git.start();
        save();
        BisectState.Setup s = state.setup();
        if (state.phase() == BisectState.Phase.CALIBRATE) {
            Integer exit = calibrate();
            if (exit != null) {
                return finish(exit);
            }
            state.phase(BisectState.Phase.BISECT);
            save();
        }
        if (state.calibration() == null || state.calibration().tally().hangs() == 0) {
            return finish(NO_CONCLUSION);
        }
        Tally cal = state.calibration().tally();
        plan = Planner.plan(new Planner.Calibration(cal.boots(), cal.hangs()), state.revisions(), s.risk(),
                s.bootsPerGood(), cal.bootsPerMin());
        say("plan: " + plan.text(runner.name()));
        if (state.phase() == BisectState.Phase.BISECT) {
            Integer exit = bisect();
            if (exit != null) {
                return finish(exit);
            }
        }
        if (state.phase() == BisectState.Phase.PARENT) {
            parentCheck();
            state.phase(s.revertCheck() ? BisectState.Phase.REVERT : BisectState.Phase.DONE);
            save();
        }
        if (state.phase() == BisectState.Phase.REVERT) {
            revertCheck();
            state.phase(BisectState.Phase.DONE);
            save();
        }
        return finish(state.culprit() != null ? OK : NO_CONCLUSION);
    }

    /** Ctrl-C (from a shutdown hook): ends the build, removes the revert worktree, resets the tree. */
    public void interrupt() {
        interrupted = true;
        build.stop();
        Path wt = worktree;
        if (wt != null) {
            try {
                git.removeWorktree(wt);
            } catch (TickwatchException ignored) {
                // the reset below still runs; git worktree prune tidies up later
            }
        }
        git.resetAndClose();
    }

    // ---------------------------------------------------------------- calibration

    private Integer calibrate() throws InterruptedException {
        BisectState.Setup s = state.setup();
        BisectState.Revision r = state.calibration();
        if (r == null) {
            r = new BisectState.Revision("calibrate", 0, s.bad(), git.subject(s.bad()), Tally.EMPTY, null, null, Double.NaN);
        }
        git.checkout(s.bad());
        Path dir = diagnostics.resolve("calibrate-" + shortSha(s.bad()));
        Files3 files = buildAt(git.tree(), s.bad(), dir);
        r = r.built(files.buildS);
        if (files.problem != null) {
            state.calibration(r.decided("untested", files.problem));
            save();
            say("calibrate: the bad revision " + shortSha(s.bad()) + " cannot be used: " + files.problem);
            return CANNOT_TEST;
        }
        say(String.format(Locale.ROOT, "calibrate: booting the bad revision %s until it hangs %d times (at most %s)",
                shortSha(s.bad()), s.calibrateHangs(), BisectPlan.duration(s.calibrateTimeoutS())));
        Tally t = r.tally();
        while (t.hangs() < s.calibrateHangs() && t.wallS() < s.calibrateTimeoutS()) {
            if (t.cannotTest() > s.maxCannotTest()) {
                state.calibration(r.with(t).decided("untested", t.cannotTest() + " boots could not run"));
                save();
                say("calibrate: the bad revision cannot be booted: " + t.cannotTest() + " boots could not run");
                return CANNOT_TEST;
            }
            LoopResult lr = batch("calibrate " + shortSha(s.bad()), s.bad(), files, s.batch(), t.batches(), true, dir);
            t = t.plus(lr);
            r = r.with(t);
            state.calibration(r);
            save();
            say(String.format(Locale.ROOT, "calibrate: %d hang%s in %,d boots (%s)%s", t.hangs(), t.hangs() == 1 ? "" : "s",
                    t.boots(), BisectPlan.duration(t.wallS()), t.cannotTest() > 0 ? ", " + t.cannotTest() + " could not run" : ""));
        }
        state.calibration(r.decided(t.hangs() > 0 ? "hung" : "clean", null));
        save();
        if (t.hangs() == 0) {
            say(String.format(Locale.ROOT, "calibrate: the bad revision did not hang in %,d boots (%s): no conclusion is possible"
                    + " (a longer --calibrate-timeout, or is it bad?)", t.boots(), BisectPlan.duration(t.wallS())));
            state.phase(BisectState.Phase.DONE);
            save();
            return NO_CONCLUSION;
        }
        if (t.hangs() < s.calibrateHangs()) {
            say(String.format(Locale.ROOT, "calibrate: only %d of %d hangs within --calibrate-timeout: the rate's interval is wider,"
                    + " and N larger", t.hangs(), s.calibrateHangs()));
        }
        return null;
    }

    // ---------------------------------------------------------------- bisection

    private Integer bisect() throws InterruptedException {
        BisectState.Setup s = state.setup();
        GitBisect.Answer a = replay();
        while (true) {
            switch (a.kind()) {
                case FOUND -> {
                    state.culprit(a.culprit(), List.of(a.culprit()));
                    state.phase(BisectState.Phase.PARENT);
                    save();
                    say("first bad commit: " + a.culprit() + " " + git.subject(a.culprit()));
                    return null;
                }
                case ONLY_SKIPPED -> {
                    state.culprit(null, a.candidates());
                    state.phase(BisectState.Phase.DONE);
                    save();
                    say("only skipped revisions are left: the first bad commit is one of " + a.candidates().size() + ": "
                            + String.join(" ", a.candidates().stream().map(Bisector::shortSha).toList()));
                    return NO_CONCLUSION;
                }
                case NEXT -> {
                    BisectState.Revision pending = state.pendingStep();
                    BisectState.Revision step;
                    if (pending != null) {
                        if (!pending.sha().equals(a.next())) {
                            throw new BisectException("cannot resume: git picks " + a.next() + " but the step in progress was "
                                    + pending.sha() + " (the history changed?)");
                        }
                        step = pending;
                        say(String.format(Locale.ROOT, "step %d %s: resuming after %,d boots", step.index(), shortSha(step.sha()),
                                step.tally().boots()));
                    } else {
                        step = new BisectState.Revision("step", state.steps().size() + 1, a.next(), git.subject(a.next()),
                                Tally.EMPTY, null, null, Double.NaN);
                        state.step(step);
                        save();
                    }
                    step = runStep(step);
                    a = git.mark(step.verdict(), step.sha());
                    say(stepLine(step));
                    if (a.kind() == GitBisect.Answer.Kind.NEXT) {
                        plan = plan.withBootsPerMin(measuredBootsPerMin());
                        int left = Math.max(1, a.stepsLeft());
                        say(String.format(Locale.ROOT, "plan: %d revision%s left, ~%d step%s: %s", a.left(), a.left() == 1 ? "" : "s",
                                left, left == 1 ? "" : "s", plan.timeText(left)));
                    }
                }
                default -> throw new BisectException("git bisect did not pick a revision: " + GitBisect.firstLine(a.text()));
            }
        }
    }

    /** A fresh {@code git bisect}: bad, good, then every verdict of the state, as given. */
    private GitBisect.Answer replay() {
        BisectState.Setup s = state.setup();
        git.mark("bad", s.bad());
        GitBisect.Answer a = git.mark("good", s.good());
        for (BisectState.Revision r : state.steps()) {
            if (!r.pending()) {
                a = git.mark(r.verdict(), r.sha());
            }
        }
        return a;
    }

    private BisectState.Revision runStep(BisectState.Revision step) throws InterruptedException {
        BisectState.Setup s = state.setup();
        if (!git.head().equals(step.sha())) {
            throw new BisectException("git bisect checked out " + git.head() + ", not " + step.sha());
        }
        Path dir = diagnostics.resolve(String.format(Locale.ROOT, "step-%02d-%s", step.index(), shortSha(step.sha())));
        Files3 files = buildAt(git.tree(), step.sha(), dir);
        step = step.built(files.buildS);
        if (files.problem != null) {
            step = step.decided("skip", files.problem);
            state.step(step);
            save();
            return step;
        }
        step = boot(step, files, dir, "step " + step.index() + " " + shortSha(step.sha()));
        BisectState.Revision decided = step.tally().hangs() > 0 ? step.decided("bad", null)
                : step.tally().boots() >= plan.bootsPerGood() ? step.decided("good", null)
                : step.decided("skip", step.tally().cannotTest() + " boots could not run");
        state.step(decided);
        save();
        return decided;
    }

    /** Boots {@code r} until its first hang, N clean boots, or too many that could not run. */
    private BisectState.Revision boot(BisectState.Revision r, Files3 files, Path dir, String label) throws InterruptedException {
        BisectState.Setup s = state.setup();
        Tally t = r.tally();
        while (t.hangs() == 0 && t.boots() < plan.bootsPerGood() && t.cannotTest() <= s.maxCannotTest()) {
            int n = (int) Math.min(s.batch(), plan.bootsPerGood() - t.boots());
            LoopResult lr = batch(label, r.sha(), files, n, t.batches(), false, dir);
            t = t.plus(lr);
            r = r.with(t);
            store(r);
            say(String.format(Locale.ROOT, "%s: %,d of %,d boots, %d hang%s%s", label, t.boots(), plan.bootsPerGood(), t.hangs(),
                    t.hangs() == 1 ? "" : "s", t.cannotTest() > 0 ? ", " + t.cannotTest() + " could not run" : ""));
        }
        return r;
    }

    private void store(BisectState.Revision r) {
        switch (r.role()) {
            case "step" -> state.step(r);
            case "parent" -> state.parent(r);
            case "revert" -> state.revert(r);
            default -> state.calibration(r);
        }
        save();
    }

    private LoopResult batch(String label, String sha, Files3 files, int boots, int batchNo, boolean keepGoing, Path dir)
            throws InterruptedException {
        // Each batch its own seed, from the bisection's, the revision and the batch number: a resumed
        // step never reruns the boots of a batch it already counted.
        long seed = BootLoop.seedOf(state.setup().seed() ^ Long.parseUnsignedLong(sha.substring(0, 15), 16), batchNo);
        BootPlan p = new BootPlan(label, files.kernel, files.initrd, files.kernelFiles, boots, batchNo, seed, keepGoing, dir);
        LoopResult r = runner.run(p);
        if (interrupted || shuttingDown()) {
            // Ctrl-C ended the QEMUs under this batch: what it saw says nothing about the revision.
            throw new InterruptedException("interrupted");
        }
        if (r.records().isEmpty() && boots > 0) {
            // Not one boot came back (a cluster whose shards cannot start tickwatch): going on
            // would batch forever without a verdict.
            throw new BisectException("the runner ran none of the " + boots + " boots of batch " + batchNo + " ("
                    + label + "); the batch's logs are in " + dir);
        }
        return r;
    }

    // ---------------------------------------------------------------- checks

    private void parentCheck() throws InterruptedException {
        String culprit = state.culprit();
        String parent = git.parent(culprit);
        BisectState.Revision r = state.parent();
        if (parent == null) {
            state.parent(new BisectState.Revision("parent", 0, null, null, Tally.EMPTY, "untested", "the culprit is a root commit", Double.NaN));
            return;
        }
        if (r == null) {
            r = new BisectState.Revision("parent", 0, parent, git.subject(parent), Tally.EMPTY, null, null, Double.NaN);
        }
        say(String.format(Locale.ROOT, "parent check: %s gets %,d boots again", shortSha(parent), plan.bootsPerGood()));
        git.checkout(parent);
        Path dir = diagnostics.resolve("parent-" + shortSha(parent));
        Files3 files = buildAt(git.tree(), parent, dir);
        r = r.built(files.buildS);
        if (files.problem != null) {
            state.parent(r.decided("untested", files.problem));
            save();
            return;
        }
        r = boot(r, files, dir, "parent " + shortSha(parent));
        state.parent(r.decided(r.tally().hangs() > 0 ? "hung" : r.tally().boots() >= plan.bootsPerGood() ? "clean" : "untested",
                r.tally().hangs() == 0 && r.tally().boots() < plan.bootsPerGood() ? r.tally().cannotTest() + " boots could not run" : null));
        save();
    }

    private void revertCheck() throws InterruptedException {
        BisectState.Setup s = state.setup();
        String culprit = state.culprit();
        BisectState.Revision r = state.revert();
        if (r == null) {
            r = new BisectState.Revision("revert", 0, s.bad(), "revert " + shortSha(culprit) + " on " + shortSha(s.bad()),
                    Tally.EMPTY, null, null, Double.NaN);
        }
        Path wt;
        try {
            wt = Files.createTempDirectory("tickwatch-revert-");
        } catch (IOException e) {
            throw new BisectException("cannot create a temporary worktree: " + e.getMessage(), e);
        }
        worktree = wt;
        try {
            git.addWorktree(wt, s.bad());
            if (!git.revertIn(wt, culprit)) {
                state.revert(r.decided("untested", "the culprit does not revert cleanly on " + shortSha(s.bad())));
                save();
                return;
            }
            say(String.format(Locale.ROOT, "revert check: %s reverted on %s, in a temporary worktree, gets %,d boots",
                    shortSha(culprit), shortSha(s.bad()), plan.bootsPerGood()));
            Path dir = diagnostics.resolve("revert-" + shortSha(culprit));
            Files3 files = buildAt(wt, s.bad(), dir);
            r = r.built(files.buildS);
            if (files.problem != null) {
                state.revert(r.decided("untested", files.problem));
                save();
                return;
            }
            r = boot(r, files, dir, "revert " + shortSha(culprit));
            state.revert(r.decided(r.tally().hangs() > 0 ? "hung" : r.tally().boots() >= plan.bootsPerGood() ? "clean" : "untested",
                    null));
            save();
        } finally {
            worktree = null;
            if (!interrupted) {
                git.removeWorktree(wt);
            }
        }
    }

    // ---------------------------------------------------------------- build, files, end

    /** A built revision's files, or why it cannot be booted. */
    private record Files3(Path kernel, Path initrd, KernelFiles kernelFiles, double buildS, String problem) {
    }

    private Files3 buildAt(Path tree, String sha, Path dir) throws InterruptedException {
        BisectState.Setup s = state.setup();
        Build.Result br = build.run(tree, sha, dir.resolve("build.log"));
        if (interrupted) {
            throw new InterruptedException("interrupted");
        }
        if (!br.ok()) {
            return new Files3(null, null, null, br.seconds(), br.reason() + " (log: " + br.log() + ")");
        }
        Path kernel = tree.resolve(s.kernel());
        Path initrd = s.initrd() == null ? null : tree.resolve(s.initrd());
        Path vmlinux = s.vmlinux() == null ? null : tree.resolve(s.vmlinux());
        try {
            KernelFile.check(kernel);
        } catch (TickwatchException e) {
            return new Files3(null, null, null, br.seconds(), "the build made no usable kernel: " + e.getMessage());
        }
        if (initrd != null && !Files.isRegularFile(initrd)) {
            return new Files3(null, null, null, br.seconds(), "the build made no initrd at " + initrd);
        }
        KernelFiles kf = vmlinux != null && Files.isRegularFile(vmlinux) ? KernelFiles.of(vmlinux, null) : KernelFiles.NONE;
        return new Files3(kernel, initrd, kf, br.seconds(), null);
    }

    private Outcome finish(int exit) {
        BisectReport report = new BisectReport(state, plan, diagnostics);
        String text = report.text();
        Path file = diagnostics.resolve(BisectReport.FILE);
        try {
            Files.createDirectories(diagnostics);
            Files.writeString(diagnostics.resolve("bisect-log.txt"), git.log());
            Files.writeString(file, text);
            Files.writeString(diagnostics.resolve(BisectReport.JSON_FILE), dev.tickwatch.util.Json.pretty(report.json(exit)) + "\n");
        } catch (IOException e) {
            throw new BisectException("cannot write the report to " + diagnostics + ": " + e.getMessage(), e);
        }
        git.reset();
        return new Outcome(exit, state, plan, text, file);
    }

    private double measuredBootsPerMin() {
        double boots = 0;
        double wall = 0;
        List<BisectState.Revision> all = new java.util.ArrayList<>(state.steps());
        if (state.calibration() != null) {
            all.add(state.calibration());
        }
        for (BisectState.Revision r : all) {
            boots += r.tally().boots();
            wall += r.tally().wallS();
        }
        return wall > 0 ? boots * 60 / wall : Double.NaN;
    }

    static String stepLine(BisectState.Revision r) {
        Tally t = r.tally();
        String what = switch (r.verdict()) {
            case "bad" -> "bad: " + t.verdictText() + " after " + String.format(Locale.ROOT, "%,d", t.boots()) + " boot"
                    + (t.boots() == 1 ? "" : "s");
            case "good" -> "good: " + String.format(Locale.ROOT, "%,d clean boots, rate < %s (95 %%)", t.boots(), BisectPlan.sci(t.upper95()));
            default -> "skip: " + r.reason();
        };
        return String.format(Locale.ROOT, "step %d %s %s", r.index(), shortSha(r.sha()), what);
    }

    private void save() {
        if (interrupted || shuttingDown()) {
            return;
        }
        state.save(stateFile);
    }

    private void say(String line) {
        out.println("bisect: " + line);
        out.flush();
    }

    static String shortSha(String sha) {
        return sha == null ? "-" : sha.substring(0, Math.min(12, sha.length()));
    }

    /** Whether the JVM is shutting down (Ctrl-C): hooks can no longer be added then. */
    static boolean shuttingDown() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }
}
