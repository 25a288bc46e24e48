package dev.tickwatch.bisect;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.cli.Main;
import dev.tickwatch.testing.Guests;
import dev.tickwatch.util.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tickwatch bisect} end to end: real git, real builds, real TCG boots of the lab's flaky
 * guest (issue 16). A history of 20 commits; the build copies the kernel and initramfs that
 * {@code tickwatch appliance --lab-mode flaky --p-permille P} wrote, P being the commit's file
 * {@code permille}: 0 before the culprit, 250 from it. The boots per good step are given
 * ({@code --boots-per-good 20}): a bad revision passes 20 boots at 25 % with 0.75^20 = 0.3 %,
 * so with about two bad steps this test names a wrong culprit in about 0.6 % of its runs; the
 * planned N (about 100 at this calibration) would take far longer. About 80 boots: 4-5 minutes
 * at --parallel 2 on two cores.
 *
 * <p>The latent-bug history (2 % before, 25 % from the culprit): about 4 minutes more. A good
 * step before the culprit hangs in its 20 boots with 1 - 0.98^20 = 33 %, so the named commit may
 * be earlier than the culprit; the test holds the parent check to saying so either way.
 */
class BisectIT {

    private static final int CULPRIT = 11;
    private static final String APPEND = "console=ttyS0 panic=0 no_timer_check";

    @TempDir
    Path dir;

    @AfterEach
    void noQemuLeft() {
        await().atMost(Duration.ofSeconds(15)).until(() -> Guests.qemuProcessesUsing(dir).isEmpty());
    }

    /** The flaky guests for each rate, written once by the real appliance command. */
    private Path prebuilt(int... permilles) {
        Path pre = dir.resolve("prebuilt");
        for (int p : permilles) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), "appliance", "--lab-mode", "flaky",
                    "--p-permille", Integer.toString(p), "--out", pre.resolve(Integer.toString(p)).toString());
            assertEquals(0, code, out + " " + err);
        }
        return pre;
    }

    /** 20 commits; commit i's build makes the flaky guest with {@code before} permille before the culprit, {@code after} from it. */
    private List<String> history(Path tree, int before, int after) throws Exception {
        Files.createDirectories(tree);
        git(tree, "init", "-q", "-b", "main");
        List<String> shas = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Files.writeString(tree.resolve("change-" + i), i + "\n");
            if (i == 0 || i == CULPRIT) {
                Files.writeString(tree.resolve("permille"), (i >= CULPRIT ? after : before) + "\n");
            }
            git(tree, "add", "-A");
            git(tree, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "commit " + i);
            shas.add(git(tree, "rev-parse", "HEAD").strip());
        }
        return shas;
    }

    private static String build(Path pre) {
        return "mkdir -p out && cp \"" + pre + "\"/$(cat permille)/vmlinuz \"" + pre + "\"/$(cat permille)/initrd.gz out/";
    }

    private List<String> args(Path tree, List<String> shas, Path pre, String... more) {
        return args(tree, shas, pre, 2, more);
    }

    private List<String> args(Path tree, List<String> shas, Path pre, int parallel, String... more) {
        List<String> a = new ArrayList<>(List.of("bisect", "--repo", tree.toString(), "--good", shas.get(0), "--bad", shas.get(19),
                "--build", build(pre), "--kernel", "out/vmlinuz", "--initrd", "out/initrd.gz", "--append", APPEND,
                "--boots-per-good", "20", "--parallel", Integer.toString(parallel), "--console-silence", "20", "--timeout", "120",
                "--diagnostics", dir.resolve("diag").toString(), "--json"));
        a.addAll(List.of(more));
        return a;
    }

    private static void assertTreeReset(Path tree, List<String> shas) throws Exception {
        assertEquals("refs/heads/main", git(tree, "symbolic-ref", "HEAD").strip());
        assertEquals(shas.get(19), git(tree, "rev-parse", "HEAD").strip());
        assertFalse(Files.exists(tree.resolve(".git/BISECT_START")), "git bisect state left in the tree");
    }

    record Result(int code, String out, String err) {
    }

    private static Result run(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args.toArray(String[]::new));
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void namesTheCulpritOfAOneInFourHang() throws Exception {
        Path pre = prebuilt(0, 250);
        Path tree = dir.resolve("tree");
        List<String> shas = history(tree, 0, 250);
        Result r = run(args(tree, shas, pre));
        assertEquals(0, r.code(), r.err());
        JsonNode o = Json.MAPPER.readTree(r.out());
        assertEquals(shas.get(CULPRIT), o.path("culprit").asText(), r.err());
        assertEquals("commit " + CULPRIT, o.path("culprit_subject").asText());
        assertTrue(r.err().contains("bisect: first bad commit: " + shas.get(CULPRIT) + " commit " + CULPRIT), r.err());
        JsonNode parent = o.path("state").path("parent");
        assertEquals(shas.get(CULPRIT - 1), parent.path("sha").asText());
        assertEquals("clean", parent.path("verdict").asText(), r.err());
        assertEquals(20, parent.path("tally").path("boots").asInt());
        // Every bad step hung with the lab's verdict, and left its diagnostics.
        for (JsonNode s : o.path("state").path("steps")) {
            if (s.path("verdict").asText().equals("bad")) {
                assertTrue(s.path("tally").path("verdicts").has("TIMER_STALL"), s.toString());
                assertTrue(Files.isDirectory(Path.of(s.path("tally").path("first_hang").asText())), s.toString());
            }
        }
        String report = Files.readString(dir.resolve("diag").resolve(BisectReport.FILE));
        assertTrue(report.contains("first bad commit: " + shas.get(CULPRIT) + " commit " + CULPRIT), report);
        assertTreeReset(tree, shas);
    }

    /**
     * The same bisection with every batch as a Slurm array job of 2 shards, on a one-node Slurm
     * brought up by samples/shards/slurm-local.sh (bin/setup --cluster installs it).
     */
    @Test
    void namesTheSameCulpritThroughSlurm() throws Exception {
        Path script = Path.of("samples/shards/slurm-local.sh").toAbsolutePath();
        String started = sh(script.toString(), "start");
        assertTrue(started.startsWith("export SLURM_CONF="), started);
        String conf = started.strip().substring("export SLURM_CONF=".length());
        try {
            Path pre = prebuilt(0, 250);
            Path tree = dir.resolve("tree-slurm");
            List<String> shas = history(tree, 0, 250);
            // One worker a shard: the node has 2 CPUs, and each shard asks for --parallel of them,
            // so both shards of a batch run at once.
            // The nodes start the packaged jar (this JVM's class path is failsafe's booter).
            Path jar;
            try (var jars = java.nio.file.Files.list(Path.of("target"))) {
                jar = jars.filter(f -> f.getFileName().toString().endsWith("-all.jar")).findFirst().orElseThrow().toAbsolutePath();
            }
            String node = Path.of(System.getProperty("java.home"), "bin", "java") + " -jar " + jar;
            Result r = run(args(tree, shas, pre, 1, "--runner", "slurm", "--shards", "2", "--slurm-conf", conf,
                    "--node-tickwatch", node));
            assertEquals(0, r.code(), r.err());
            JsonNode o = Json.MAPPER.readTree(r.out());
            assertEquals(shas.get(CULPRIT), o.path("culprit").asText(), r.err());
            assertTrue(r.err().contains("bisect: first bad commit: " + shas.get(CULPRIT) + " commit " + CULPRIT), r.err());
            assertTreeReset(tree, shas);
        } finally {
            sh(script.toString(), "stop");
        }
    }

    private static String sh(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), String.join(" ", command) + " ended");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
        return out;
    }

    @Test
    void aLatentBugBeforeTheCulpritIsNotHidden() throws Exception {
        Path pre = prebuilt(20, 250);
        Path tree = dir.resolve("tree");
        List<String> shas = history(tree, 20, 250);
        Result r = run(args(tree, shas, pre));
        assertEquals(0, r.code(), r.err());
        JsonNode o = Json.MAPPER.readTree(r.out());
        int named = shas.indexOf(o.path("culprit").asText());
        assertTrue(named >= 1, r.out());
        // Either the parent's boots caught the older hang, or the report says that they only bound it.
        String verdict = o.path("state").path("parent").path("verdict").asText();
        String statement = o.path("statement").toString();
        assertTrue(verdict.equals("hung") && statement.contains("the hang is older than the culprit")
                || verdict.equals("clean") && statement.contains("that bounds, it does not prove, a latent bug"), statement);
        // Which of the two it was, for the log: both are right answers, with different odds.
        System.out.println("latent-bug bisection: named commit " + named + " (first p = 0.25 commit: " + CULPRIT + "), parent "
                + verdict + " after " + o.path("state").path("parent").path("tally").path("boots").asInt() + " boots");
        assertTreeReset(tree, shas);
    }

    @Test
    void ctrlCThenResumeNamesTheSameCulpritAndRepeatsNoStep() throws Exception {
        Path pre = prebuilt(0, 250);
        Path tree = dir.resolve("tree");
        List<String> shas = history(tree, 0, 250);
        Path state = tree.resolve(".git").resolve(BisectState.FILE);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args(tree, shas, pre));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
        BisectState mid;
        try {
            // Mid-way: once a step has its verdict, Ctrl-C (SIGTERM runs the same hooks as SIGINT).
            await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(200))
                    .until(() -> Files.exists(state) && BisectState.load(state).steps().stream().anyMatch(s -> !s.pending()));
            child.destroy();
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the bisect JVM did not exit");
        } finally {
            child.destroyForcibly();
        }
        String log = Files.readString(dir.resolve("child.log"));
        assertTrue(log.contains("interrupted; the tree is reset, the state kept"), log);
        await().atMost(Duration.ofSeconds(15)).until(() -> Guests.qemuProcessesUsing(dir).isEmpty());
        assertTreeReset(tree, shas);
        mid = BisectState.load(state);
        assertEquals(BisectState.Phase.BISECT, mid.phase());
        List<BisectState.Revision> decided = mid.steps().stream().filter(s -> !s.pending()).toList();

        List<String> resume = new ArrayList<>(List.of("bisect", "--repo", tree.toString(), "--resume", "--parallel", "2",
                "--append", APPEND, "--console-silence", "20", "--timeout", "120", "--diagnostics", dir.resolve("diag").toString(),
                "--json"));
        Result r = run(resume);
        assertEquals(0, r.code(), r.err());
        JsonNode o = Json.MAPPER.readTree(r.out());
        assertEquals(shas.get(CULPRIT), o.path("culprit").asText(), r.err());
        BisectState end = BisectState.fromJson(o.path("state"));
        // The steps decided before Ctrl-C are kept as they were, and no revision is a step twice.
        assertEquals(decided, end.steps().subList(0, decided.size()));
        assertEquals(end.steps().size(), end.steps().stream().map(BisectState.Revision::sha).distinct().count());
        assertEquals(mid.calibration().tally(), end.calibration().tally(), "the calibration is not booted again");
        assertTreeReset(tree, shas);
    }

    static String git(Path t, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("git", "-C", t.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
        return out;
    }
}
