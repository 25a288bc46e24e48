package dev.tickwatch.boot.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.boot.loop.BootOutcome;
import dev.tickwatch.boot.loop.BootRecord;
import dev.tickwatch.boot.loop.LoopResult;
import dev.tickwatch.testing.Guests;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Slurm runner on a real one-node Slurm (samples/shards/slurm-local.sh; needs root and
 * Debian's slurm-wlm and munge: bin/setup --cluster). First with stand-in shards (bash, no QEMU)
 * to see scancel end a running task; then the appliance: 4 boots in 2 shards merge to 4 clean
 * boots, and a lab hang in one shard cancels the other one mid-loop. No QEMU is left after either.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SlurmRunnerIT {

    private static final Path REPO = Path.of("").toAbsolutePath();
    private static final Path SLURM_LOCAL = REPO.resolve("samples/shards/slurm-local.sh");
    private static final Path LOOP_DIRS = Path.of(System.getProperty("java.io.tmpdir"), "tickwatch-loop-");
    /** The appliance as in BootLoopIT (no_timer_check: the TCG guest's early timer check can fail on a loaded host). */
    private static final List<String> APPEND = List.of("--append", "console=ttyS0 panic=-1 no_timer_check");

    private static String slurmConf;

    @TempDir
    Path dir;

    private final List<String> log = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void startSlurm() throws Exception {
        String out = slurmLocal("start");
        assertTrue(out.startsWith("export SLURM_CONF="), out);
        slurmConf = out.strip().substring("export SLURM_CONF=".length());
    }

    @AfterAll
    static void stopSlurm() throws Exception {
        slurmLocal("stop");
        assertEquals("", pgrep("slurmctld") + pgrep("slurmd") + pgrep("munged"), "no daemon of slurm-local.sh left");
    }

    @AfterEach
    void noQemuLeft() {
        await().atMost(Duration.ofSeconds(30)).until(() -> Guests.qemuProcessesUsing(LOOP_DIRS).isEmpty());
    }

    private SlurmRunner.Builder runner() {
        return SlurmRunner.builder().exec(Exec.processes(Exec.DEFAULT_TIMEOUT, Map.of("SLURM_CONF", slurmConf)))
                .poll(Duration.ofMillis(500)).log(log::add);
    }

    @Test
    @Order(1)
    void scancelEndsTheOtherShardOnAHang() throws Exception {
        // Shard 1 reports a hang at once; shard 0 reports a clean boot and then would run for 5 minutes.
        Path fake = dir.resolve("fake-tickwatch");
        String hung = new BootRecord(new dev.tickwatch.boot.loop.Shard(1, 2), 4, 1, 0, 1, 2, null,
                BootOutcome.hung("TIMER_STALL", "lost", List.of("jiffies frozen"), 9.5), 1, 2, null).toJsonLine();
        Files.writeString(fake, "#!/bin/bash\n"
                + "while [ $# -gt 0 ]; do case \"$1\" in --results) r=$2; shift ;; --shard) s=$2; shift ;; esac; shift; done\n"
                + "if [ \"$s\" = 1/2 ]; then echo '" + hung + "' >> \"$r\"; exit 0; fi\n"
                + "echo '{\"shard\":\"0/2\",\"boots_total\":4,\"boot\":0,\"outcome\":\"OK\",\"boot_s\":3.5,\"evidence\":[]}' >> \"$r\"\n"
                + "exec sleep 300\n");
        fake.toFile().setExecutable(true);
        long t0 = System.nanoTime();
        LoopResult r = runner().tickwatch(List.of(fake.toString())).build()
                .run(List.of("--boots", "4", "--parallel", "1"), 2, dir.resolve("work"));
        assertEquals(LoopResult.Status.HUNG, r.status(), log.toString());
        assertEquals(1, r.firstBad().boot());
        assertEquals(List.of(0, 1), r.records().stream().map(BootRecord::boot).toList());
        assertTrue(log.stream().anyMatch(l -> l.endsWith(" cancelled")), log.toString());
        assertTrue(Files.notExists(dir.resolve("work/shard-0.rc")), "shard 0 did not end on its own");
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(120), "stopped early, not after the 300 s sleep");
        assertEquals("", pgrep("-f", "sleep 300"), "the cancelled shard's process is gone");
    }

    @Test
    @Order(2)
    void fourApplianceBootsInTwoShardsMergeToFourCleanBoots() throws Exception {
        List<String> args = new ArrayList<>(List.of("--boots", "4", "--parallel", "1",
                "--diagnostics", dir.resolve("hangs").toString()));
        args.addAll(APPEND);
        LoopResult r = runner().tickwatch(tickwatch()).build().run(args, 2, dir.resolve("work"));
        assertEquals(LoopResult.Status.OK, r.status(), log + "\n" + logs(dir.resolve("work")));
        assertEquals(4, r.stats().clean());
        assertEquals(List.of(0, 1, 2, 3), r.records().stream().map(BootRecord::boot).toList());
        assertEquals(List.of("0/2", "1/2", "0/2", "1/2"), r.records().stream().map(b -> b.shard().toString()).toList());
        assertEquals("0", Files.readString(dir.resolve("work/shard-0.rc")).strip());
        assertEquals("0", Files.readString(dir.resolve("work/shard-1.rc")).strip());
        assertFalse(log.stream().anyMatch(l -> l.endsWith(" cancelled")), log.toString());
    }

    @Test
    @Order(3)
    void aLabHangInOneShardCancelsTheOther() throws Exception {
        // Boot 1 (shard 1) hangs early; shard 0 has 20 boots to go, so it is still running when the hang is known.
        List<String> args = new ArrayList<>(List.of("--boots", "40", "--parallel", "1", "--lab-mode",
                "timer-stall-lost", "--lab-at", "1", "--console-silence", "8",
                "--diagnostics", dir.resolve("hangs").toString()));
        args.addAll(APPEND);
        LoopResult r = runner().tickwatch(tickwatch()).build().run(args, 2, dir.resolve("work"));
        assertEquals(LoopResult.Status.HUNG, r.status(), log + "\n" + logs(dir.resolve("work")));
        assertEquals(1, r.firstBad().boot());
        assertEquals("1/2", r.firstBad().shard().toString());
        assertTrue(r.missing() > 0, "shard 0 stopped before its 20 boots: " + r.records().size() + " records");
        assertTrue(log.stream().anyMatch(l -> l.endsWith(" cancelled")), log.toString());
        assertTrue(Files.notExists(dir.resolve("work/shard-0.rc")), "shard 0 was cancelled, it did not end on its own");
        assertNull(r.cannotTest(), "no boot counted as 'cannot test' because of the cancel");
        assertTrue(Files.isDirectory(dir.resolve("hangs")), "the hang's diagnostics");
    }

    /** The packaged jar (failsafe runs after package), else this JVM's class path. */
    private static List<String> tickwatch() throws IOException {
        try (var s = Files.list(REPO.resolve("target"))) {
            Path jar = s.filter(p -> p.getFileName().toString().matches("tickwatch-.*-all\\.jar")).findFirst().orElse(null);
            if (jar != null) {
                return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString());
            }
        }
        return NodeCommand.current();
    }

    private static String logs(Path work) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 2; i++) {
            Path f = work.resolve("shard-" + i + ".log");
            if (Files.exists(f)) {
                sb.append("--- ").append(f).append('\n').append(Files.readString(f));
            }
        }
        return sb.toString();
    }

    private static String slurmLocal(String verb) throws Exception {
        Process p = new ProcessBuilder(SLURM_LOCAL.toString(), verb).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "slurm-local.sh " + verb + " ended");
        assertEquals(0, p.exitValue(), "slurm-local.sh " + verb + ": " + out);
        return out;
    }

    private static String pgrep(String... args) throws Exception {
        List<String> c = new ArrayList<>(List.of("pgrep", "-a"));
        c.addAll(List.of(args));
        if (args.length == 1) {
            c.add(2, "-x");
        }
        Process p = new ProcessBuilder(c).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        return out.strip();
    }
}
