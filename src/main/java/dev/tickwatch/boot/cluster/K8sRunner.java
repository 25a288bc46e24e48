package dev.tickwatch.boot.cluster;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.boot.loop.LoopResult;
import dev.tickwatch.util.IoErrors;
import dev.tickwatch.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * A step's boots as a Kubernetes Indexed Job, shaped as samples/shards/k8s-indexed-job.yaml: pod I
 * runs {@code --shard $JOB_COMPLETION_INDEX/N} and writes its JSON lines to a shared volume. The
 * volume is mounted in the pods at the work folder's own path, so the results appear here as
 * they are written: a hostPath of the work folder (a one-machine cluster: kind, minikube, k3s)
 * or a ReadWriteMany claim that this machine mounts at the work folder. The manifest is written
 * as {@code job.json} (JSON is YAML) and applied with {@code kubectl apply -f}; the runner then
 * alternates {@code kubectl wait --for=condition=complete --timeout=POLL} with reading the
 * results files, and the step's hang deletes the Job with its pods ({@code kubectl delete job
 * --cascade=foreground --wait}). A finished Job is deleted too: its results are on the volume.
 */
public final class K8sRunner implements ShardRunner {

    public static final Duration DEFAULT_POLL = Duration.ofSeconds(5);
    public static final String DEFAULT_MEMORY = "2Gi";
    static final String MANIFEST = "job.json";
    static final String CONTAINER = "boot-loop";
    static final String VOLUME = "work";
    static final String INDEX_VAR = "JOB_COMPLETION_INDEX";
    static final int MAX_WAIT_ERRORS = 5;

    private final Exec exec;
    private final String image;
    private final List<String> tickwatch;
    private final List<String> kubectl;
    private final String claim;
    private final List<Path> hostPaths;
    private final Integer cpus;
    private final String memory;
    private final Integer parallelism;
    private final String namePrefix;
    private final int stopAfterHangs;
    private final Duration poll;
    private final Duration deleteWait;
    private final Consumer<String> log;

    private K8sRunner(Builder b) {
        this.exec = b.exec;
        if (b.image == null) {
            throw new IllegalArgumentException("image: none given (the pods need Java 17, qemu-system-x86 and tickwatch)");
        }
        this.image = b.image;
        this.tickwatch = b.tickwatch;
        this.kubectl = b.kubectl;
        this.claim = b.claim;
        this.hostPaths = List.copyOf(b.hostPaths);
        this.cpus = b.cpus;
        this.memory = b.memory;
        this.parallelism = b.parallelism;
        this.namePrefix = b.namePrefix;
        this.stopAfterHangs = b.stopAfterHangs;
        this.poll = b.poll;
        this.deleteWait = b.deleteWait;
        this.log = b.log;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public LoopResult run(List<String> bootLoopArgs, int shards, Path workDir) throws InterruptedException {
        BootLoopArgs args = new BootLoopArgs(bootLoopArgs);
        ShardFiles files = new ShardFiles(workDir, shards);
        files.clear();
        String name = jobName(namePrefix);
        Path manifest = files.dir().resolve(MANIFEST);
        try {
            Files.writeString(manifest, Json.pretty(manifest(args, files, name)) + "\n");
        } catch (IOException e) {
            throw new ClusterException("cannot write " + manifest + ": " + IoErrors.reason(e), e);
        }
        Exec.Result r = exec.run(kubectl("apply", "-f", manifest.toString()));
        if (!r.ok()) {
            throw new ClusterException("kubectl apply refused the Job (exit " + r.exitCode() + "): " + r.firstLine());
        }
        log.accept("k8s: job " + name + ", " + shards + " shard" + (shards == 1 ? "" : "s") + " of " + args.boots()
                + " boots; shard files in " + files.dir());
        return ShardStep.run(new IndexedJob(name), files, args.boots(), stopAfterHangs, Duration.ZERO, log);
    }

    /** The Job: the sample's shape, with this step's command, size and volume. */
    ObjectNode manifest(BootLoopArgs args, ShardFiles files, String name) {
        int n = files.shards();
        String dir = files.dir().toString();
        ObjectNode job = Json.object().put("apiVersion", "batch/v1").put("kind", "Job");
        ObjectNode meta = job.putObject("metadata").put("name", name);
        meta.putObject("labels").put("app.kubernetes.io/name", "tickwatch").put("app.kubernetes.io/component", "boot-loop");
        ObjectNode spec = job.putObject("spec").put("completionMode", "Indexed").put("completions", n)
                .put("parallelism", parallelism != null ? Math.min(parallelism, n) : n).put("backoffLimit", 0);
        // As the sample: usage errors fail the Job at once; a hang or "cannot test" exits 0.
        ObjectNode rule = spec.putObject("podFailurePolicy").putArray("rules").addObject().put("action", "FailJob");
        rule.putObject("onExitCodes").put("containerName", CONTAINER).put("operator", "In").putArray("values")
                .add(128).add(255);
        ObjectNode template = spec.putObject("template");
        template.putObject("metadata").putObject("labels").put("app.kubernetes.io/name", "tickwatch")
                .put("app.kubernetes.io/component", "boot-loop");
        ObjectNode pod = template.putObject("spec").put("restartPolicy", "Never");
        ObjectNode c = pod.putArray("containers").addObject().put("name", CONTAINER).put("image", image)
                .put("workingDir", dir);
        c.putArray("command").add("/bin/bash").add("-c");
        c.putArray("args").add(ShardScript.render(tickwatch, args, n, INDEX_VAR, files.dir(),
                List.of("tickwatch K8sRunner: shard $" + INDEX_VAR + " of " + n + " of one " + args.boots()
                        + "-boot loop."), true));
        c.putArray("env").addObject().put("name", "SHARDS").put("value", Integer.toString(n));
        String cpu = Integer.toString(cpus != null ? cpus : args.parallel());
        ObjectNode res = c.putObject("resources");
        res.putObject("requests").put("cpu", cpu).put("memory", memory);
        res.putObject("limits").put("cpu", cpu).put("memory", memory);
        ArrayNode mounts = c.putArray("volumeMounts");
        ArrayNode volumes = pod.putArray("volumes");
        mounts.addObject().put("name", VOLUME).put("mountPath", dir);
        ObjectNode work = volumes.addObject().put("name", VOLUME);
        if (claim != null) {
            work.putObject("persistentVolumeClaim").put("claimName", claim);
        } else {
            work.putObject("hostPath").put("path", dir).put("type", "DirectoryOrCreate");
        }
        for (int i = 0; i < hostPaths.size(); i++) {
            String p = hostPaths.get(i).toAbsolutePath().toString();
            mounts.addObject().put("name", "host-" + i).put("mountPath", p).put("readOnly", true);
            volumes.addObject().put("name", "host-" + i).putObject("hostPath").put("path", p);
        }
        return job;
    }

    /** {@code PREFIX-xxxxxx}: unique per step, a DNS label (Indexed pods add {@code -I-xxxxx}). */
    static String jobName(String prefix) {
        return prefix + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 35), 36)
                .toLowerCase(Locale.ROOT);
    }

    private List<String> kubectl(String... more) {
        List<String> c = new ArrayList<>(kubectl);
        c.addAll(List.of(more));
        return c;
    }

    private final class IndexedJob implements ShardStep.Job {

        private final String name;
        private boolean deleted;
        private int errors;

        IndexedJob(String name) {
            this.name = name;
        }

        @Override
        public boolean finished() throws InterruptedException {
            Exec.Result r = exec.run(kubectl("wait", "--for=condition=complete", "--timeout=" + poll.toSeconds() + "s",
                    "job/" + name));
            if (r.ok()) {
                return true;
            }
            // Zero: look once. A failed Job (a shard's usage error, a pod lost) is finished too.
            Exec.Result f = exec.run(kubectl("wait", "--for=condition=failed", "--timeout=0s", "job/" + name));
            if (f.ok()) {
                Exec.Result why = exec.run(kubectl("get", "job/" + name, "-o",
                        "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}: "
                                + "{.status.conditions[?(@.type==\"Failed\")].message}"));
                log.accept("k8s: job " + name + " failed: " + why.out().strip());
                return true;
            }
            if (r.err().contains("timed out")) {
                errors = 0;
                return false;
            }
            if (++errors >= MAX_WAIT_ERRORS) {
                throw new ClusterException("kubectl wait failed " + errors + " times in a row for job " + name + ": "
                        + r.firstLine());
            }
            return false;
        }

        @Override
        public void cancel() throws InterruptedException {
            delete();
            log.accept("k8s: job " + name + " deleted with its pods");
        }

        @Override
        public void close() throws InterruptedException {
            if (!deleted) {
                delete();
            }
        }

        private void delete() throws InterruptedException {
            Exec.Result r = exec.run(kubectl("delete", "job/" + name, "--cascade=foreground", "--wait=true",
                    "--ignore-not-found", "--timeout=" + deleteWait.toSeconds() + "s"));
            if (!r.ok()) {
                throw new ClusterException("kubectl delete job/" + name + " failed: " + r.firstLine());
            }
            deleted = true;
        }
    }

    /** Settings; the image is required. */
    public static final class Builder {

        private Exec exec = Exec.processes();
        private String image;
        private List<String> tickwatch = List.of("tickwatch");
        private List<String> kubectl = List.of("kubectl");
        private String claim;
        private List<Path> hostPaths = List.of();
        private Integer cpus;
        private String memory = DEFAULT_MEMORY;
        private Integer parallelism;
        private String namePrefix = "tickwatch-boot-loop";
        private int stopAfterHangs = 1;
        private Duration poll = DEFAULT_POLL;
        private Duration deleteWait = Duration.ofSeconds(120);
        private Consumer<String> log = s -> { };

        private Builder() {
        }

        public Builder exec(Exec e) {
            this.exec = Objects.requireNonNull(e, "exec");
            return this;
        }

        /** The pods' image: Java 17, qemu-system-x86, busybox-static, tickwatch and its kernel cache. */
        public Builder image(String i) {
            this.image = Objects.requireNonNull(i, "image");
            return this;
        }

        /** How the pods run tickwatch (default {@code tickwatch}, on the image's PATH as in the sample). */
        public Builder tickwatch(List<String> command) {
            if (command.isEmpty()) {
                throw new IllegalArgumentException("tickwatch command: empty");
            }
            this.tickwatch = List.copyOf(command);
            return this;
        }

        /** kubectl and its global options, e.g. {@code [kubectl, --context, lab, -n, ci]}. */
        public Builder kubectl(List<String> command) {
            if (command.isEmpty()) {
                throw new IllegalArgumentException("kubectl command: empty");
            }
            this.kubectl = List.copyOf(command);
            return this;
        }

        /** The work folder is this ReadWriteMany claim (mounted here at the work folder), not a hostPath. */
        public Builder claim(String name) {
            this.claim = name;
            return this;
        }

        /** Host folders the pods also see at the same path, read-only (kernels built in a tree, the jar). */
        public Builder hostPaths(List<Path> paths) {
            this.hostPaths = List.copyOf(paths);
            return this;
        }

        /** CPUs per pod (default: the loop's --parallel). */
        public Builder cpus(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("cpus: " + n + " (expected: >= 1)");
            }
            this.cpus = n;
            return this;
        }

        public Builder memory(String quantity) {
            this.memory = Objects.requireNonNull(quantity, "memory");
            return this;
        }

        /** Pods at once (default: all shards). */
        public Builder parallelism(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("parallelism: " + n + " (expected: >= 1)");
            }
            this.parallelism = n;
            return this;
        }

        /** The Job's name before its random suffix: a DNS label of at most 40 characters. */
        public Builder namePrefix(String p) {
            if (!p.matches("[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?")) {
                throw new IllegalArgumentException("job name prefix: '" + p + "' (expected: lower-case letters,"
                        + " digits and '-', at most 40)");
            }
            this.namePrefix = p;
            return this;
        }

        /** As {@link SlurmRunner.Builder#stopAfterHangs}. */
        public Builder stopAfterHangs(int k) {
            if (k < 0) {
                throw new IllegalArgumentException("stop after hangs: " + k + " (expected: >= 0)");
            }
            this.stopAfterHangs = k;
            return this;
        }

        /** How long each {@code kubectl wait} waits before the results files are read again (whole seconds). */
        public Builder poll(Duration d) {
            if (d.isNegative()) {
                throw new IllegalArgumentException("poll: " + d + " (expected: >= 0)");
            }
            this.poll = d;
            return this;
        }

        public Builder deleteWait(Duration d) {
            this.deleteWait = Objects.requireNonNull(d, "deleteWait");
            return this;
        }

        public Builder log(Consumer<String> l) {
            this.log = Objects.requireNonNull(l, "log");
            return this;
        }

        public K8sRunner build() {
            return new K8sRunner(this);
        }
    }
}
