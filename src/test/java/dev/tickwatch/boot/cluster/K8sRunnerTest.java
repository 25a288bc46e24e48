package dev.tickwatch.boot.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.boot.loop.LoopResult;
import dev.tickwatch.boot.loop.Records;
import dev.tickwatch.boot.loop.Shard;
import dev.tickwatch.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kubernetes runner: its Indexed Job checked against what batch/v1 requires of a Job (and
 * against samples/shards/k8s-indexed-job.yaml's choices), its shard script run by bash, a kubectl
 * dry run where kubectl has a server, and the step stopped by deleting the Job on a hang.
 */
class K8sRunnerTest {

    private static final List<String> ARGS = List.of("--boots", "6", "--parallel", "2", "--append", "console=ttyS0 a'b");
    private static final Path SAMPLE = Path.of("samples/shards/k8s-indexed-job.yaml");

    @TempDir
    Path dir;

    private final List<String> log = new ArrayList<>();

    private K8sRunner.Builder runner(FakeScheduler fake) {
        return K8sRunner.builder().exec(fake).image("registry.example.com/tickwatch:latest").poll(Duration.ZERO)
                .log(log::add);
    }

    private ObjectNode manifest(K8sRunner r, int shards) {
        return r.manifest(new BootLoopArgs(ARGS), new ShardFiles(dir, shards), "tickwatch-boot-loop-abc123");
    }

    @Test
    void theManifestIsAnIndexedBatchV1Job() {
        ObjectNode job = manifest(runner(new FakeScheduler(c -> null)).build(), 3);
        assertEquals("batch/v1", job.path("apiVersion").asText());
        assertEquals("Job", job.path("kind").asText());
        String name = job.path("metadata").path("name").asText();
        assertTrue(name.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?") && name.length() <= 63, name);
        JsonNode spec = job.path("spec");
        assertEquals("Indexed", spec.path("completionMode").asText());
        assertEquals(3, spec.path("completions").asInt());
        assertEquals(3, spec.path("parallelism").asInt());
        assertEquals(0, spec.path("backoffLimit").asInt());
        JsonNode pod = spec.path("template").path("spec");
        // A Job's pods may not restart Always; a podFailurePolicy needs Never.
        assertEquals("Never", pod.path("restartPolicy").asText());
        assertEquals(1, pod.path("containers").size());
        JsonNode c = pod.path("containers").get(0);
        assertEquals("boot-loop", c.path("name").asText());
        assertEquals("registry.example.com/tickwatch:latest", c.path("image").asText());
        assertEquals(List.of("/bin/bash", "-c"), strings(c.path("command")));
        assertEquals(1, c.path("args").size());
        String script = c.path("args").get(0).asText();
        assertTrue(script.contains("i=${JOB_COMPLETION_INDEX:?"), script);
        assertTrue(script.contains("tickwatch boot-loop --boots 6 --parallel 2 --append 'console=ttyS0 a'\\''b' --shard \"$i/3\""
                + " --results \"$dir/shard-$i.jsonl\""), script);
        assertEquals("2", c.path("resources").path("requests").path("cpu").asText());
        assertEquals("2Gi", c.path("resources").path("limits").path("memory").asText());
        // Every mount names a volume of the pod; the work folder is mounted at its own path.
        Set<String> volumes = new HashSet<>();
        pod.path("volumes").forEach(v -> volumes.add(v.path("name").asText()));
        c.path("volumeMounts").forEach(m -> assertTrue(volumes.contains(m.path("name").asText()), m.toString()));
        assertEquals(dir.toAbsolutePath().toString(), c.path("volumeMounts").get(0).path("mountPath").asText());
        assertEquals(dir.toAbsolutePath().toString(), pod.path("volumes").get(0).path("hostPath").path("path").asText());
        JsonNode rule = spec.path("podFailurePolicy").path("rules").get(0);
        assertEquals("FailJob", rule.path("action").asText());
        assertEquals("boot-loop", rule.path("onExitCodes").path("containerName").asText());
    }

    @Test
    void theManifestKeepsTheSamplesChoices() throws Exception {
        String sample = Files.readString(SAMPLE);
        for (String line : List.of("apiVersion: batch/v1", "kind: Job", "completionMode: Indexed", "backoffLimit: 0",
                "restartPolicy: Never", "- action: FailJob", "onExitCodes: {operator: In, values: [128, 255]}",
                "command: [\"/bin/bash\", \"-c\"]", "- name: boot-loop")) {
            assertTrue(sample.contains(line), "the sample still says " + line);
        }
        JsonNode rule = manifest(runner(new FakeScheduler(c -> null)).build(), 2).path("spec").path("podFailurePolicy")
                .path("rules").get(0).path("onExitCodes");
        assertEquals("In", rule.path("operator").asText());
        assertEquals("[128,255]", rule.path("values").toString());
    }

    @Test
    void aClaimReplacesTheHostPathAndHostFoldersAreMountedReadOnly() {
        ObjectNode job = manifest(runner(new FakeScheduler(c -> null)).claim("tickwatch-results")
                .hostPaths(List.of(Path.of("/srv/linux"))).parallelism(2).cpus(1).build(), 4);
        JsonNode pod = job.path("spec").path("template").path("spec");
        assertEquals(2, job.path("spec").path("parallelism").asInt());
        assertEquals("tickwatch-results", pod.path("volumes").get(0).path("persistentVolumeClaim").path("claimName").asText());
        assertTrue(pod.path("volumes").get(0).path("hostPath").isMissingNode());
        JsonNode m = pod.path("containers").get(0).path("volumeMounts").get(1);
        assertEquals("/srv/linux", m.path("mountPath").asText());
        assertTrue(m.path("readOnly").asBoolean());
        assertEquals("/srv/linux", pod.path("volumes").get(1).path("hostPath").path("path").asText());
        assertEquals("1", pod.path("containers").get(0).path("resources").path("limits").path("cpu").asText());
    }

    @Test
    void thePodsScriptRunsItsShardUnderBash() throws Exception {
        Path fake = dir.resolve("fake-tickwatch");
        Files.writeString(fake, "#!/bin/bash\necho \"fake: $*\"\nexit 1\n");
        fake.toFile().setExecutable(true);
        ObjectNode job = runner(new FakeScheduler(c -> null)).tickwatch(List.of(fake.toString())).build()
                .manifest(new BootLoopArgs(ARGS), new ShardFiles(dir.resolve("w"), 3), "x");
        Files.createDirectories(dir.resolve("w"));
        String script = job.path("spec").path("template").path("spec").path("containers").get(0).path("args").get(0).asText();
        ProcessBuilder pb = new ProcessBuilder("/bin/bash", "-c", script).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectErrorStream(true);
        pb.environment().put("JOB_COMPLETION_INDEX", "2");
        Process p = pb.start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "a hang is a result, not a failed pod");
        assertEquals("1", Files.readString(dir.resolve("w/shard-2.rc")).strip());
        // tee may still be writing when bash has exited
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(dir.resolve("w/shard-2.log"))
                && Files.readString(dir.resolve("w/shard-2.log")).contains("--shard 2/3 --results " + dir.resolve("w/shard-2.jsonl")));
    }

    @Test
    void aKubectlDryRunAcceptsTheManifest() throws Exception {
        assumeTrue(onPath("kubectl"), "kubectl is not installed");
        Path f = dir.resolve("job.json");
        Files.writeString(f, Json.pretty(manifest(runner(new FakeScheduler(c -> null)).build(), 2)));
        Exec.Result r = Exec.processes(Duration.ofSeconds(60)).run(List.of("kubectl", "apply", "--dry-run=client", "-f",
                f.toString()));
        // A client dry run still asks the server for the Job's schema: no cluster, no check.
        assumeFalse(r.err().contains("connection refused") || r.err().contains("no such host")
                || r.err().contains("unable to recognize") || r.err().contains("i/o timeout"),
                "kubectl has no server to check against: " + r.firstLine());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("job.batch/tickwatch-boot-loop-abc123 created (dry run)"), r.out());
    }

    @Test
    void aHangDeletesTheJobWithItsPods() throws Exception {
        ShardFiles files = new ShardFiles(dir, 2);
        AtomicInteger waits = new AtomicInteger();
        FakeScheduler fake = new FakeScheduler(c -> {
            if (c.get(1).equals("wait")) {
                if (c.get(2).equals("--for=condition=complete") && waits.incrementAndGet() == 2) {
                    FakeScheduler.append(files.results(0), Records.hung(new Shard(0, 2), 6, 2, "SPIN_LOCKUP", null));
                }
                return new Exec.Result(1, "", "error: timed out waiting for the condition on jobs/" + c.get(c.size() - 1) + "\n");
            }
            return c.get(1).equals("apply") ? FakeScheduler.ok("job.batch/x created\n") : null;
        });
        LoopResult r = runner(fake).build().run(ARGS, 2, dir);
        assertEquals(LoopResult.Status.HUNG, r.status());
        assertEquals(2, r.firstBad().boot());
        List<List<String>> apply = fake.named("apply");
        assertEquals(List.of(List.of("kubectl", "apply", "-f", dir.toAbsolutePath().resolve("job.json").toString())), apply);
        String name = Json.MAPPER.readTree(dir.resolve("job.json").toFile()).path("metadata").path("name").asText();
        assertTrue(name.startsWith("tickwatch-boot-loop-"), name);
        assertEquals(List.of(List.of("kubectl", "delete", "job/" + name, "--cascade=foreground", "--wait=true",
                "--ignore-not-found", "--timeout=120s")), fake.named("delete"));
        assertEquals(List.of("kubectl", "wait", "--for=condition=complete", "--timeout=0s", "job/" + name),
                fake.named("wait").get(0));
        assertEquals(List.of("kubectl", "delete"), fake.commands.get(fake.commands.size() - 1).subList(0, 2), "deleted last");
        assertTrue(log.contains("k8s: job " + name + " deleted with its pods"), log.toString());
    }

    @Test
    void aCompleteJobIsMergedAndDeleted() throws Exception {
        ShardFiles files = new ShardFiles(dir, 2);
        FakeScheduler fake = new FakeScheduler(c -> {
            if (c.get(1).equals("wait")) {
                for (int b = 0; b < 6; b++) {
                    FakeScheduler.append(files.results(b % 2), Records.ok(new Shard(b % 2, 2), 6, b, 4.0));
                }
                FakeScheduler.exitCode(files, 0, 0);
                FakeScheduler.exitCode(files, 1, 0);
            }
            return null;
        });
        LoopResult r = runner(fake).build().run(ARGS, 2, dir);
        assertEquals(LoopResult.Status.OK, r.status());
        assertEquals(6, r.stats().clean());
        assertEquals(1, fake.named("wait").size());
        assertEquals(1, fake.named("delete").size());
    }

    @Test
    void aFailedJobWithAUsageErrorFailsTheStep() throws Exception {
        ShardFiles files = new ShardFiles(dir, 2);
        FakeScheduler fake = new FakeScheduler(c -> {
            if (c.get(1).equals("wait") && c.get(2).equals("--for=condition=complete")) {
                FakeScheduler.exitCode(files, 1, 128);
                return new Exec.Result(1, "", "error: timed out waiting for the condition on jobs/x\n");
            }
            if (c.get(1).equals("get")) {
                return FakeScheduler.ok("PodFailurePolicy: Container boot-loop for pod x-1 failed with exit code 128");
            }
            return null;
        });
        ClusterException e = assertThrows(ClusterException.class, () -> runner(fake).build().run(ARGS, 2, dir));
        assertTrue(e.getMessage().startsWith("shard 1/2 failed with exit code 128"), e.getMessage());
        assertTrue(log.stream().anyMatch(l -> l.contains(" failed: PodFailurePolicy: ")), log.toString());
        assertEquals(1, fake.named("delete").size());
    }

    @Test
    void theImageIsRequired() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> K8sRunner.builder().build());
        assertTrue(e.getMessage().startsWith("image: none given"), e.getMessage());
    }

    private static List<String> strings(JsonNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static boolean onPath(String program) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, program)));
    }
}
