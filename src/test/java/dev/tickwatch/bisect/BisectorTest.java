package dev.tickwatch.bisect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.boot.loop.BootOutcome;
import dev.tickwatch.boot.loop.BootRecord;
import dev.tickwatch.boot.loop.LoopResult;
import dev.tickwatch.boot.loop.Shard;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bisection against a real git tree in a temporary folder: commits whose "build" writes a
 * file with the bzImage magic and the commit's hang rate, and a fake runner that hangs each boot
 * with that rate, drawn from the batch's seed. No QEMU; real git bisect, real builds (sh -c).
 */
class BisectorTest {

    /** Writes out/vmlinuz (HdrS at 0x202, as KernelFile checks) and out/rate; fails where a file 'broken' is. */
    static final String BUILD = "mkdir -p out && { head -c 514 /dev/zero; printf HdrS; } > out/vmlinuz && cp rate out/rate"
            + " && test ! -e broken";

    @TempDir
    Path dir;

    /** Boots that hang with the revision's rate (out/rate, in 1/1000); 6 s each on a fake clock. */
    static final class FakeRunner implements StepRunner {
        long clockMs = 1_000_000;
        int batches;
        long boots;
        long lastBatchBoots;
        BootPlan lastPlan;
        IntConsumer onBatch = b -> { };

        @Override
        public LoopResult run(BootPlan plan) {
            int permille;
            try {
                permille = Integer.parseInt(Files.readString(plan.kernel().getParent().resolve("rate")).strip());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            SplittableRandom rnd = new SplittableRandom(plan.seed());
            List<BootRecord> rs = new ArrayList<>();
            for (int i = 0; i < plan.boots(); i++) {
                boolean hang = rnd.nextInt(1000) < permille;
                long start = clockMs;
                clockMs += 6000;
                BootOutcome o = hang ? BootOutcome.hung("TIMER_STALL", "lost", List.of("fake"), 3.0) : BootOutcome.ok(6.0);
                rs.add(new BootRecord(Shard.WHOLE, plan.boots(), i, 0, plan.seed(), 2, null, o, start, clockMs,
                        hang ? plan.diagnostics().resolve("boot-" + i).toString() : null));
                if (hang && !plan.keepGoing()) {
                    break;
                }
            }
            batches++;
            boots += rs.size();
            lastBatchBoots = rs.size();
            lastPlan = plan;
            onBatch.accept(batches);
            return LoopResult.of(rs, plan.boots());
        }

        @Override
        public String name() {
            return "fake";
        }
    }

    record Repo(Path tree, List<String> shas) {
    }

    /** 20 commits: commit i has rate 0 before {@code culprit}, {@code permille} from it; 'broken' in {@code broken}. */
    Repo repo(int culprit, int permille, List<Integer> broken) throws Exception {
        Path t = dir.resolve("tree");
        Files.createDirectories(t);
        git(t, "init", "-q", "-b", "main");
        List<String> shas = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Files.writeString(t.resolve("c" + i), i + "\n");
            if (i == 0 || i == culprit) {
                Files.writeString(t.resolve("rate"), (i >= culprit ? permille : 0) + "\n");
            }
            if (broken.contains(i)) {
                Files.writeString(t.resolve("broken"), "");
            } else {
                Files.deleteIfExists(t.resolve("broken"));
            }
            git(t, "add", "-A");
            git(t, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "commit " + i);
            shas.add(git(t, "rev-parse", "HEAD").strip());
        }
        Files.writeString(t.resolve(".gitignore"), "");
        return new Repo(t, shas);
    }

    static String git(Path t, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("git", "-C", t.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
        return out;
    }

    static BisectState.Setup setup(Repo r, boolean revert, Long n, double calibrateTimeoutS) {
        return new BisectState.Setup(r.shas().get(0), r.shas().get(19), BUILD, "out/vmlinuz", null, null, 0.01, 3,
                calibrateTimeoutS, n, revert, 1, 3, 8);
    }

    record Run(Bisector.Outcome outcome, String out) {
    }

    Run bisect(Repo r, BisectState state, FakeRunner runner, AtomicReference<Bisector> self) throws Exception {
        GitBisect git = GitBisect.open(r.tree());
        StringWriter sw = new StringWriter();
        Bisector b = new Bisector(git, new Build(state.setup().build(), 60), runner, state,
                git.gitDir().resolve(BisectState.FILE), dir.resolve("diag"), new PrintWriter(sw, true));
        if (self != null) {
            self.set(b);
        }
        return new Run(b.run(), sw.toString());
    }

    static BisectState fresh(Repo r, BisectState.Setup s) {
        return new BisectState(s, 19, 0);
    }

    private void assertTreeReset(Repo r) throws Exception {
        assertEquals("refs/heads/main", git(r.tree(), "symbolic-ref", "HEAD").strip());
        assertFalse(Files.exists(r.tree().resolve(".git/BISECT_START")), "git bisect state left");
        assertEquals(r.shas().get(19), git(r.tree(), "rev-parse", "HEAD").strip());
    }

    @Test
    void namesTheCulpritAndChecksItsParent() throws Exception {
        Repo r = repo(11, 250, List.of());
        FakeRunner fr = new FakeRunner();
        Run run = bisect(r, fresh(r, setup(r, false, null, 3600)), fr, null);
        Bisector.Outcome o = run.outcome();
        assertEquals(Bisector.OK, o.exitCode(), run.out());
        assertEquals(r.shas().get(11), o.state().culprit());
        assertTrue(run.out().contains("first bad commit: " + r.shas().get(11) + " commit 11"), run.out());
        assertTrue(o.reportText().contains("first bad commit: " + r.shas().get(11) + " commit 11"), o.reportText());
        assertTrue(run.out().contains("bisect: plan: bad hangs " + o.plan().calibrationHangs() + " in "), run.out());
        assertTrue(o.plan().risk() <= 0.01);
        // Every verdict agrees with the commit's rate: good before the culprit, bad from it.
        for (BisectState.Revision s : o.state().steps()) {
            int i = r.shas().indexOf(s.sha());
            assertEquals(i >= 11 ? "bad" : "good", s.verdict(), "commit " + i);
            if (s.verdict().equals("good")) {
                assertEquals(o.plan().bootsPerGood(), s.tally().boots());
            }
        }
        assertEquals(r.shas().get(10), o.state().parent().sha());
        assertEquals("clean", o.state().parent().verdict());
        assertEquals(o.plan().bootsPerGood(), o.state().parent().tally().boots());
        assertTrue(o.reportText().contains("that bounds, it does not prove, a latent bug before the culprit"), o.reportText());
        assertTrue(Files.isRegularFile(dir.resolve("diag").resolve(BisectReport.FILE)));
        assertTrue(Files.readString(dir.resolve("diag/bisect-log.txt")).contains("# first bad commit: [" + r.shas().get(11)));
        assertTrue(Files.isRegularFile(dir.resolve("diag/step-01-" + o.state().steps().get(0).sha().substring(0, 12) + "/build.log")));
        assertTreeReset(r);
        // The state says done; every boot the runner ran is counted once.
        BisectState saved = BisectState.load(r.tree().resolve(".git").resolve(BisectState.FILE));
        assertEquals(BisectState.Phase.DONE, saved.phase());
        assertEquals(fr.boots, total(saved));
    }

    @Test
    void aFailedBuildIsSkipped() throws Exception {
        Repo r = repo(11, 250, List.of(12, 13, 14, 15, 16, 17, 18));
        Run run = bisect(r, fresh(r, setup(r, false, null, 3600)), new FakeRunner(), null);
        Bisector.Outcome o = run.outcome();
        assertEquals(Bisector.OK, o.exitCode(), run.out());
        assertEquals(r.shas().get(11), o.state().culprit());
        List<BisectState.Revision> skipped = o.state().steps().stream().filter(s -> "skip".equals(s.verdict())).toList();
        assertFalse(skipped.isEmpty(), run.out());
        for (BisectState.Revision s : skipped) {
            assertTrue(s.reason().startsWith("the build exited with status 1"), s.reason());
            assertTrue(r.shas().indexOf(s.sha()) >= 12);
        }
        assertTreeReset(r);
    }

    @Test
    void aBadRevisionThatNeverHangsIsNoConclusion() throws Exception {
        Repo r = repo(11, 0, List.of());
        FakeRunner fr = new FakeRunner();
        Run run = bisect(r, fresh(r, setup(r, false, null, 120)), fr, null);
        assertEquals(Bisector.NO_CONCLUSION, run.outcome().exitCode(), run.out());
        assertEquals(24, fr.boots, "batches of 8 until 120 s of 6 s boots");
        assertTrue(run.outcome().reportText().contains("no conclusion: the bad revision did not hang in 24 boots"), run.outcome().reportText());
        assertTreeReset(r);
    }

    @Test
    void aBrokenBadRevisionCannotBeUsed() throws Exception {
        Repo r = repo(11, 250, List.of(19));
        Run run = bisect(r, fresh(r, setup(r, false, null, 3600)), new FakeRunner(), null);
        assertEquals(Bisector.CANNOT_TEST, run.outcome().exitCode(), run.out());
        assertTreeReset(r);
    }

    @Test
    void theRevertCheckRunsInATemporaryWorktree() throws Exception {
        Repo r = repo(11, 250, List.of());
        Run run = bisect(r, fresh(r, setup(r, true, 40L, 3600)), new FakeRunner(), null);
        Bisector.Outcome o = run.outcome();
        assertEquals(Bisector.OK, o.exitCode(), run.out());
        assertEquals("clean", o.state().revert().verdict(), run.out());
        assertEquals(40, o.state().revert().tally().boots());
        assertTrue(o.reportText().contains("Revert of the culprit on top of bad: 0 hangs in 40 boots"), o.reportText());
        assertEquals(1, git(r.tree(), "worktree", "list").strip().lines().count(), "the temporary worktree is gone");
        assertTreeReset(r);
    }

    @Test
    void interruptedThenResumedCountsNoBootTwiceAndRepeatsNoStep() throws Exception {
        Repo r = repo(11, 250, List.of());
        // The same bisection without interruption, for comparison.
        Run whole = bisect(r, fresh(r, setup(r, false, null, 3600)), new FakeRunner(), null);
        Files.delete(r.tree().resolve(".git").resolve(BisectState.FILE));

        FakeRunner fr = new FakeRunner();
        AtomicReference<Bisector> self = new AtomicReference<>();
        // Ctrl-C during the second batch of the steps: the hook resets the tree while the batch
        // runs. Counted by what the batch is for, not by its number: the seeds come from the
        // commits' SHAs, new each run, and calibration takes 3 batches or more (one in 116 runs, 6+).
        java.util.concurrent.atomic.AtomicInteger stepBatches = new java.util.concurrent.atomic.AtomicInteger();
        fr.onBatch = b -> {
            if (fr.lastPlan.diagnostics().getFileName().toString().startsWith("step-") && stepBatches.incrementAndGet() == 2) {
                self.get().interrupt();
            }
        };
        assertThrows(InterruptedException.class, () -> bisect(r, fresh(r, setup(r, false, null, 3600)), fr, self));
        assertTreeReset(r);
        Path stateFile = r.tree().resolve(".git").resolve(BisectState.FILE);
        BisectState mid = BisectState.load(stateFile);
        assertEquals(BisectState.Phase.BISECT, mid.phase());
        assertEquals(fr.boots - fr.lastBatchBoots, total(mid), "the interrupted batch is not counted");
        long before = fr.boots - fr.lastBatchBoots;

        fr.onBatch = b -> { };
        long ranBefore = fr.boots;
        Run resumed = bisect(r, mid, fr, null);
        assertEquals(Bisector.OK, resumed.outcome().exitCode(), resumed.out());
        assertEquals(r.shas().get(11), resumed.outcome().state().culprit());
        BisectState end = resumed.outcome().state();
        // No step repeated, and the same steps, boots and verdicts as the bisection never interrupted.
        assertEquals(end.steps().stream().map(BisectState.Revision::sha).distinct().count(), end.steps().size());
        assertEquals(rows(whole.outcome().state()), rows(end));
        assertEquals(before + (fr.boots - ranBefore), total(end));
        assertTreeReset(r);
    }

    private static List<String> rows(BisectState s) {
        List<String> out = new ArrayList<>();
        for (BisectState.Revision r : s.steps()) {
            out.add(r.index() + " " + r.sha() + " " + r.verdict() + " " + r.tally().boots() + " " + r.tally().hangs());
        }
        out.add("parent " + s.parent().sha() + " " + s.parent().tally().boots());
        return out;
    }

    private static long total(BisectState s) {
        long n = s.calibration() == null ? 0 : s.calibration().tally().boots();
        for (BisectState.Revision r : s.steps()) {
            n += r.tally().boots();
        }
        if (s.parent() != null) {
            n += s.parent().tally().boots();
        }
        if (s.revert() != null) {
            n += s.revert().tally().boots();
        }
        return n;
    }

    @Test
    void theStateFileRoundTrips() throws Exception {
        Repo r = repo(11, 250, List.of());
        BisectState s = fresh(r, setup(r, true, 40L, 3600));
        s.calibration(new BisectState.Revision("calibrate", 0, r.shas().get(19), "commit 19",
                new Tally(12, 3, 1, 2, 72.5, java.util.Map.of("TIMER_STALL", 3L), "/d/boot-3"), "hung", null, 1.5));
        s.step(new BisectState.Revision("step", 1, r.shas().get(9), "commit 9", Tally.EMPTY, null, null, Double.NaN));
        s.phase(BisectState.Phase.BISECT);
        Path f = dir.resolve("state.json");
        s.save(f);
        BisectState back = BisectState.load(f);
        assertEquals(s.toJson(), back.toJson());
        assertNotNull(back.pendingStep());
        assertEquals(Long.valueOf(40), back.setup().bootsPerGood());
        try (var files = Files.list(dir)) {
            assertEquals(List.of("state.json"), files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".") || n.endsWith(".json")).toList());
        }
    }
}
