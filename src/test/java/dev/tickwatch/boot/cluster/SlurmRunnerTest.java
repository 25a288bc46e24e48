package dev.tickwatch.boot.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.boot.loop.LoopResult;
import dev.tickwatch.boot.loop.Records;
import dev.tickwatch.boot.loop.Shard;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Slurm runner against a scheduler played in-process: what it submits, the batch script run
 * by bash for real, the step stopped on all shards by one shard's hang, usage errors, lost
 * shards, an interrupt.
 */
class SlurmRunnerTest {

    private static final List<String> ARGS = List.of("--boots", "4", "--parallel", "1", "--append",
            "console=ttyS0 it's quoted");
    private static final Shard S0 = new Shard(0, 2);
    private static final Shard S1 = new Shard(1, 2);

    @TempDir
    Path dir;

    private final List<String> log = new ArrayList<>();

    private SlurmRunner runner(FakeScheduler fake) {
        return SlurmRunner.builder().exec(fake).tickwatch(List.of("/opt/tw/bin/tickwatch")).poll(Duration.ZERO)
                .log(log::add).build();
    }

    @Test
    void submitsOneArrayWithTheScriptInTheWorkFolder() throws Exception {
        ShardFiles files = new ShardFiles(dir, 2);
        FakeScheduler fake = new FakeScheduler(c -> {
            if (c.get(0).equals("sbatch")) {
                return FakeScheduler.ok("4242;cluster\n");
            }
            FakeScheduler.append(files.results(0), Records.ok(S0, 4, 0, 3.5), Records.ok(S0, 4, 2, 3.5));
            FakeScheduler.append(files.results(1), Records.ok(S1, 4, 1, 3.5), Records.ok(S1, 4, 3, 3.5));
            FakeScheduler.exitCode(files, 0, 0);
            FakeScheduler.exitCode(files, 1, 0);
            return FakeScheduler.ok("");
        });
        LoopResult r = runner(fake).run(ARGS, 2, dir);

        List<String> sbatch = fake.commands.get(0);
        Path script = dir.toAbsolutePath().resolve("boot-loop.sbatch");
        assertEquals(List.of("sbatch", "--parsable", "--job-name=tickwatch-boot-loop", "--array=0-1",
                "--cpus-per-task=1", "--chdir=" + Path.of("").toAbsolutePath(),
                "--output=" + dir.toAbsolutePath().resolve("shard-%a.log"), script.toString()), sbatch);
        assertEquals(List.of("squeue", "-h", "-j", "4242", "-o", "%i %T"), fake.commands.get(1));
        assertEquals(List.of(), fake.named("scancel"));
        String s = Files.readString(script);
        assertTrue(s.startsWith("#!/bin/bash\n"), s);
        assertTrue(s.contains("i=${SLURM_ARRAY_TASK_ID:?"), s);
        assertTrue(s.contains("/opt/tw/bin/tickwatch boot-loop --boots 4 --parallel 1 --append 'console=ttyS0 it'\\''s quoted'"
                + " --shard \"$i/2\" --results \"$dir/shard-$i.jsonl\"\n"), s);
        assertEquals(LoopResult.Status.OK, r.status());
        assertEquals(4, r.records().size());
        assertEquals(0, r.missing());
    }

    @Test
    void theBatchScriptRunsTheShardAndKeepsItsExitCode() throws Exception {
        Path fakeTw = fakeTickwatch();
        SlurmRunner runner = SlurmRunner.builder().tickwatch(List.of(fakeTw.toString())).build();
        ShardFiles files = new ShardFiles(dir.resolve("work dir"), 2);
        files.clear();
        BootLoopArgs args = new BootLoopArgs(ARGS);
        Path script = files.dir().resolve("boot-loop.sbatch");
        Files.writeString(script, runner.script(args, files, runner.sbatchCommand(args, files)));

        assertEquals(0, bash(script, Map.of("SLURM_ARRAY_TASK_ID", "1", "FAKE_RC", "1")));
        assertEquals("1", Files.readString(files.exitCodeFile(1)).strip());
        assertEquals(List.of("boot-loop", "--boots", "4", "--parallel", "1", "--append", "console=ttyS0 it's quoted",
                "--shard", "1/2", "--results", files.results(1).toString()), Files.readAllLines(files.dir().resolve("args")));
        assertEquals(2, files.poll().size()); // boots 1 and 3

        // A usage error fails the task (and is kept for the runner); no index: not run as a shard.
        assertEquals(130, bash(script, Map.of("SLURM_ARRAY_TASK_ID", "0", "FAKE_RC", "130")));
        assertEquals("130", Files.readString(files.exitCodeFile(0)).strip());
        assertTrue(bash(script, Map.of("FAKE_RC", "0")) != 0);
    }

    @Test
    void oneShardsHangCancelsTheWholeArray() throws Exception {
        ShardFiles files = new ShardFiles(dir, 2);
        AtomicInteger squeue = new AtomicInteger();
        FakeScheduler fake = new FakeScheduler(c -> {
            switch (c.get(0)) {
                case "sbatch":
                    return FakeScheduler.ok("77\n");
                case "scancel":
                    return FakeScheduler.ok("");
                default:
                    int n = squeue.incrementAndGet();
                    if (n == 1) {
                        FakeScheduler.append(files.results(0), Records.ok(S0, 4, 0, 3.5));
                    } else if (n == 2) {
                        // The hang's line, then the shard ends on its own (exit 0: a result).
                        FakeScheduler.append(files.results(1), Records.hung(S1, 4, 1, "TIMER_STALL", "lost"));
                        FakeScheduler.exitCode(files, 1, 0);
                    } else if (n == 3) {
                        // Shard 0 being ended sees its QEMU killed under it: not a result.
                        FakeScheduler.append(files.results(0), Records.hung(S0, 4, 2, "QEMU_GONE", null));
                    }
                    // Shard 0 stays until cancelled; then one COMPLETING poll.
                    return FakeScheduler.ok(n <= 3 ? "77_0 " + (n == 3 ? "COMPLETING" : "RUNNING") + "\n" : "");
            }
        });
        LoopResult r = runner(fake).run(ARGS, 2, dir);

        assertEquals(List.of(List.of("scancel", "77")), fake.named("scancel"));
        int cancelAt = fake.commands.indexOf(List.of("scancel", "77"));
        assertEquals(3, cancelAt, fake.commands.toString()); // sbatch, squeue, squeue, scancel
        assertEquals(2, fake.commands.size() - cancelAt - 1, "waited until squeue showed the job gone");
        assertEquals(LoopResult.Status.HUNG, r.status());
        assertEquals(1, r.firstBad().boot());
        assertEquals(List.of(0, 1), r.records().stream().map(b -> b.boot()).toList(), "nothing read after the cancel");
        assertEquals(2, r.missing()); // boots 2 and 3: cancelled
        assertTrue(log.contains("1 hang: stopping every shard"), log.toString());
        assertTrue(log.stream().noneMatch(l -> l.contains("without an exit code")), log.toString());
    }

    @Test
    void withStopAfterTwoHangsOneHangLetsTheShardsEnd() throws Exception {
        ShardFiles files = new ShardFiles(dir, 2);
        FakeScheduler fake = new FakeScheduler(c -> {
            if (c.get(0).equals("sbatch")) {
                return FakeScheduler.ok("5\n");
            }
            FakeScheduler.append(files.results(1), Records.hung(S1, 4, 1, "TIMER_STALL", "lost"));
            FakeScheduler.exitCode(files, 0, 0);
            FakeScheduler.exitCode(files, 1, 0);
            return FakeScheduler.ok("");
        });
        SlurmRunner runner = SlurmRunner.builder().exec(fake).tickwatch(List.of("tw")).poll(Duration.ZERO)
                .stopAfterHangs(2).build();
        assertEquals(LoopResult.Status.HUNG, runner.run(ARGS, 2, dir).status());
        assertEquals(List.of(), fake.named("scancel"));
    }

    @Test
    void anOldHangInTheWorkFolderIsRemovedFirst() throws Exception {
        ShardFiles files = new ShardFiles(dir, 2);
        FakeScheduler.append(files.results(1), Records.hung(S1, 4, 1, "TIMER_STALL", "lost"));
        FakeScheduler.exitCode(files, 1, 130);
        FakeScheduler fake = new FakeScheduler(c -> {
            if (c.get(0).equals("sbatch")) {
                assertTrue(Files.notExists(files.results(1)) && Files.notExists(files.exitCodeFile(1)));
                return FakeScheduler.ok("6\n");
            }
            for (int b = 0; b < 4; b++) {
                FakeScheduler.append(files.results(b % 2), Records.ok(new Shard(b % 2, 2), 4, b, 3.5));
            }
            FakeScheduler.exitCode(files, 0, 0);
            FakeScheduler.exitCode(files, 1, 0);
            return FakeScheduler.ok("");
        });
        assertEquals(LoopResult.Status.OK, runner(fake).run(ARGS, 2, dir).status());
    }

    @Test
    void aShardsUsageErrorFailsTheStep() throws Exception {
        ShardFiles files = new ShardFiles(dir, 2);
        FakeScheduler fake = new FakeScheduler(c -> {
            if (c.get(0).equals("sbatch")) {
                return FakeScheduler.ok("8\n");
            }
            FakeScheduler.appendText(files.log(0), "tickwatch boot-loop: Unknown option: '--bogus'\n");
            FakeScheduler.exitCode(files, 0, 128);
            FakeScheduler.exitCode(files, 1, 128);
            return FakeScheduler.ok("");
        });
        ClusterException e = assertThrows(ClusterException.class, () -> runner(fake).run(ARGS, 2, dir));
        assertTrue(e.getMessage().startsWith("shard 0/2 failed with exit code 128 (a usage error):"), e.getMessage());
        assertTrue(e.getMessage().contains("Unknown option: '--bogus'"), e.getMessage());
    }

    @Test
    void aLostShardLeavesItsBootsMissing() throws Exception {
        ShardFiles files = new ShardFiles(dir, 2);
        FakeScheduler fake = new FakeScheduler(c -> {
            if (c.get(0).equals("sbatch")) {
                return FakeScheduler.ok("9\n");
            }
            FakeScheduler.append(files.results(0), Records.ok(S0, 4, 0, 3.5), Records.ok(S0, 4, 2, 3.5));
            FakeScheduler.exitCode(files, 0, 0);
            // Shard 1 was killed by Slurm (time limit): no records, no exit code.
            return FakeScheduler.ok("");
        });
        LoopResult r = runner(fake).run(ARGS, 2, dir);
        assertEquals(LoopResult.Status.CANNOT_TEST, r.status());
        assertEquals(2, r.missing());
        assertNull(r.firstBad());
        assertTrue(log.stream().anyMatch(l -> l.startsWith("shard 1/2 ended without an exit code")), log.toString());
    }

    @Test
    void aRefusedSubmissionSaysWhy() {
        FakeScheduler fake = new FakeScheduler(c -> new Exec.Result(1, "",
                "sbatch: error: Batch job submission failed: Requested node configuration is not available\n"));
        ClusterException e = assertThrows(ClusterException.class, () -> runner(fake).run(ARGS, 2, dir));
        assertEquals("sbatch refused the job (exit 1): sbatch: error: Batch job submission failed: Requested node"
                + " configuration is not available", e.getMessage());
        assertEquals(1, fake.commands.size());
    }

    @Test
    void anInterruptCancelsTheJobFirst() {
        AtomicInteger squeue = new AtomicInteger();
        FakeScheduler fake = new FakeScheduler(c -> {
            if (c.get(0).equals("sbatch")) {
                return FakeScheduler.ok("10\n");
            }
            if (c.get(0).equals("squeue") && squeue.incrementAndGet() == 2) {
                Thread.currentThread().interrupt(); // Ctrl-C while waiting
            }
            return FakeScheduler.ok(c.get(0).equals("squeue") && squeue.get() < 2 ? "10_0 RUNNING\n" : "");
        });
        assertThrows(InterruptedException.class, () -> runner(fake).run(ARGS, 2, dir));
        assertEquals(List.of(List.of("scancel", "10")), fake.named("scancel"));
    }

    @Test
    void theSchedulerGoneIsAnErrorAfterAFewTries() {
        FakeScheduler fake = new FakeScheduler(c -> c.get(0).equals("sbatch") ? FakeScheduler.ok("11\n")
                : c.get(0).equals("scancel") ? FakeScheduler.ok("")
                : new Exec.Result(1, "", "squeue: error: Unable to contact slurm controller (connect failure)\n"));
        ClusterException e = assertThrows(ClusterException.class, () -> runner(fake).run(ARGS, 2, dir));
        assertEquals("squeue failed 5 times in a row for job 11: squeue: error: Unable to contact slurm controller"
                + " (connect failure)", e.getMessage());
        assertEquals(1, fake.named("scancel").size(), "cancelled on the way out");
    }

    @Test
    void argumentsTheRunnerGivesAreRefused() {
        FakeScheduler fake = new FakeScheduler(c -> null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> runner(fake).run(List.of("--boots", "4", "--shard", "0/2"), 2, dir));
        assertTrue(e.getMessage().contains("--shard is the runner's to give"), e.getMessage());
        assertEquals(List.of(), fake.commands);
    }

    @Test
    void jobIdsAsSbatchPrintsThem() {
        assertEquals("123", SlurmRunner.parseJobId("123\n"));
        assertEquals("123", SlurmRunner.parseJobId("123;cluster"));
        assertThrows(ClusterException.class, () -> SlurmRunner.parseJobId("Submitted batch job 123"));
    }

    /** A tickwatch stand-in: its arguments one a line into args beside --results, a record per owned boot, exit $FAKE_RC. */
    private Path fakeTickwatch() throws Exception {
        Path f = dir.resolve("fake-tickwatch");
        Files.writeString(f, """
                #!/bin/bash
                results= shard= all=("$@")
                while [ $# -gt 0 ]; do
                  case "$1" in --results) results=$2; shift ;; --shard) shard=$2; shift ;; esac
                  shift
                done
                for a in "${all[@]}"; do printf '%s\\n' "$a"; done > "$(dirname "$results")/args"
                i=${shard%/*} n=${shard#*/}
                for ((b = i; b < 4; b += n)); do
                  printf '{"shard":"%s","boots_total":4,"boot":%d,"outcome":"OK","boot_s":3.5,"evidence":[]}\\n' \\
                    "$shard" "$b" >> "$results"
                done
                exit "$FAKE_RC"
                """);
        f.toFile().setExecutable(true);
        return f;
    }

    private static int bash(Path script, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().remove("SLURM_ARRAY_TASK_ID");
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "bash ended");
        return p.exitValue();
    }
}
