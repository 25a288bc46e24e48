package dev.tickwatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tickwatch bisect}'s command line: usage is 128, an unusable tree 125, before any boot. */
class BisectCommandTest {

    @TempDir
    Path dir;

    private Path tree() throws Exception {
        Path t = dir.resolve("t");
        Files.createDirectories(t);
        git(t, "init", "-q", "-b", "main");
        for (int i = 0; i < 3; i++) {
            Files.writeString(t.resolve("f"), i + "\n");
            git(t, "add", "-A");
            git(t, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c" + i);
        }
        return t;
    }

    private static void git(Path t, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("git", "-C", t.toString()));
        cmd.addAll(List.of(args));
        assertEquals(0, new ProcessBuilder(cmd).redirectErrorStream(true).start().waitFor());
    }

    private QmpCommandTest.Result bisect(Path t, String... more) {
        List<String> a = new ArrayList<>(List.of("bisect", "--repo", t.toString(), "--diagnostics", dir.resolve("d").toString()));
        a.addAll(List.of(more));
        return QmpCommandTest.run(a.toArray(String[]::new));
    }

    @Test
    void missingRevisionsAreUsage() throws Exception {
        QmpCommandTest.Result r = bisect(tree(), "--good", "HEAD~2");
        assertEquals(128, r.code(), r.err());
        assertTrue(r.err().contains("--good, --bad, --build and --kernel are needed"), r.err());
    }

    @Test
    void theKubernetesRunnerNeedsItsImage() throws Exception {
        QmpCommandTest.Result r = bisect(tree(), "--good", "HEAD~2", "--bad", "HEAD", "--build", "true", "--kernel", "k",
                "--runner", "k8s");
        assertEquals(128, r.code(), r.err());
        assertTrue(r.err().contains("--runner k8s needs --k8s-image IMAGE"), r.err());
    }

    @Test
    void goodAfterBadIsUsage() throws Exception {
        QmpCommandTest.Result r = bisect(tree(), "--good", "HEAD", "--bad", "HEAD~2", "--build", "true", "--kernel", "k");
        assertEquals(128, r.code(), r.err());
        assertTrue(r.err().contains("is not before --bad"), r.err());
    }

    @Test
    void aTreeWithLocalChangesCannotBeUsed() throws Exception {
        Path t = tree();
        Files.writeString(t.resolve("f"), "changed\n");
        QmpCommandTest.Result r = bisect(t, "--good", "HEAD~2", "--bad", "HEAD", "--build", "true", "--kernel", "k");
        assertEquals(125, r.code(), r.err());
        assertTrue(r.err().contains("has local changes to tracked files"), r.err());
    }

    @Test
    void notAGitTreeCannotBeUsed() throws Exception {
        Files.createDirectories(dir.resolve("plain"));
        QmpCommandTest.Result r = bisect(dir.resolve("plain"), "--good", "a", "--bad", "b", "--build", "true", "--kernel", "k");
        assertEquals(125, r.code(), r.err());
        assertTrue(r.err().contains("is not a git tree"), r.err());
    }

    @Test
    void aBuildThatMakesNoKernelIsCannotTestAndTheTreeIsReset() throws Exception {
        Path t = tree();
        QmpCommandTest.Result r = bisect(t, "--good", "HEAD~2", "--bad", "HEAD", "--build", "true", "--kernel", "no-such-kernel");
        assertEquals(125, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("the bad revision") && r.out().contains("cannot be used"), r.out());
        assertTrue(!Files.exists(t.resolve(".git/BISECT_START")), "git bisect state left");
    }

    @Test
    void resumeWithoutStateIsUsage() throws Exception {
        QmpCommandTest.Result r = bisect(tree(), "--resume");
        assertEquals(128, r.code(), r.err());
        assertTrue(r.err().contains("no bisection to resume"), r.err());
    }

    @Test
    void aBatchAsBootLoopArgumentsParsesAsBootLoop() {
        // What a cluster runner hands to its shards' boot-loop processes.
        dev.tickwatch.bisect.BootSettings s = new dev.tickwatch.bisect.BootSettings("console=ttyS0", "login:", 2, 2, 256,
                List.of("-cpu", "max"), 1, true, 20, 120, false);
        dev.tickwatch.bisect.BootPlan p = new dev.tickwatch.bisect.BootPlan("step 1", dir.resolve("vmlinuz"), dir.resolve("initrd.gz"),
                null, 20, 3, 42, false, dir.resolve("step-01"));
        List<String> args = new ArrayList<>(List.of("boot-loop"));
        args.addAll(s.bootLoopArgs(p));
        picocli.CommandLine.ParseResult r = Main.commandLine().parseArgs(args.toArray(String[]::new));
        picocli.CommandLine.ParseResult loop = r.subcommand();
        assertEquals("boot-loop", loop.commandSpec().name());
        assertEquals(Integer.valueOf(20), loop.matchedOptionValue("--boots", 0));
        assertEquals(Long.valueOf(42), loop.matchedOptionValue("--seed", 0L));
        assertEquals(dir.resolve("step-01/batch-003"), loop.matchedOptionValue("--diagnostics", Path.of("")));
        assertEquals(List.of("-cpu", "max"), loop.matchedOptionValue("--qemu-arg", List.of()));
        assertTrue(loop.hasMatchedOption("--jitter"));
        assertTrue(!loop.hasMatchedOption("--keep-going"));
    }
}
