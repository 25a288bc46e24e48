package dev.tickwatch.boot.cluster;

import dev.tickwatch.boot.loop.LoopResult;
import dev.tickwatch.util.IoErrors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A step's boots as a Slurm job array: {@code sbatch --parsable --array=0-(N-1)} of a batch script
 * written to the work folder ({@code boot-loop.sbatch}, task I runs {@code --shard
 * $SLURM_ARRAY_TASK_ID/N}), then {@code squeue} every poll interval while the shards' results
 * files are read; the step's hang cancels the whole array ({@code scancel JOBID}) and the runner
 * waits until Slurm has ended every task. The scheduler is reached through {@link Exec}, in the
 * caller's environment (SLURM_CONF). Nodes and this machine share the work folder.
 */
public final class SlurmRunner implements ShardRunner {

    public static final Duration DEFAULT_POLL = Duration.ofSeconds(2);
    /** How long a cancelled array may take to go (Slurm's KillWait is 30 s by default). */
    public static final Duration DEFAULT_CANCEL_WAIT = Duration.ofSeconds(120);
    /** squeue failures in a row before the scheduler counts as gone (slurmctld restarts take a few). */
    static final int MAX_QUEUE_ERRORS = 5;
    static final String SCRIPT = "boot-loop.sbatch";
    private static final Pattern JOB_ID = Pattern.compile("^(\\d+)(?:;\\S+)?$");

    private final Exec exec;
    private final List<String> tickwatch;
    private final String partition;
    private final Integer cpusPerTask;
    private final String timeLimit;
    private final List<String> sbatchArgs;
    private final Path chdir;
    private final int stopAfterHangs;
    private final Duration poll;
    private final Duration cancelWait;
    private final Consumer<String> log;

    private SlurmRunner(Builder b) {
        this.exec = b.exec;
        this.tickwatch = List.copyOf(b.tickwatch);
        this.partition = b.partition;
        this.cpusPerTask = b.cpusPerTask;
        this.timeLimit = b.timeLimit;
        this.sbatchArgs = List.copyOf(b.sbatchArgs);
        this.chdir = b.chdir.toAbsolutePath();
        this.stopAfterHangs = b.stopAfterHangs;
        this.poll = b.poll;
        this.cancelWait = b.cancelWait;
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
        List<String> sbatch = sbatchCommand(args, files);
        Path script = files.dir().resolve(SCRIPT);
        try {
            Files.writeString(script, script(args, files, sbatch));
        } catch (IOException e) {
            throw new ClusterException("cannot write " + script + ": " + IoErrors.reason(e), e);
        }
        Exec.Result r = exec.run(sbatch);
        if (!r.ok()) {
            throw new ClusterException("sbatch refused the job (exit " + r.exitCode() + "): " + r.firstLine());
        }
        String jobId = parseJobId(r.out());
        log.accept("slurm: job " + jobId + ", " + shards + " shard" + (shards == 1 ? "" : "s") + " of "
                + args.boots() + " boots; shard files in " + files.dir());
        return ShardStep.run(new ArrayJob(jobId), files, args.boots(), stopAfterHangs, poll, log);
    }

    /** The submission: every option on the command line, the script last. */
    List<String> sbatchCommand(BootLoopArgs args, ShardFiles files) {
        List<String> c = new ArrayList<>(List.of("sbatch", "--parsable", "--job-name=tickwatch-boot-loop",
                "--array=0-" + (files.shards() - 1),
                "--cpus-per-task=" + (cpusPerTask != null ? cpusPerTask : args.parallel()),
                "--chdir=" + chdir, "--output=" + files.dir().resolve("shard-%a.log")));
        if (partition != null) {
            c.add("--partition=" + partition);
        }
        if (timeLimit != null) {
            c.add("--time=" + timeLimit);
        }
        c.addAll(sbatchArgs);
        c.add(files.dir().resolve(SCRIPT).toString());
        return c;
    }

    String script(BootLoopArgs args, ShardFiles files, List<String> sbatch) {
        List<String> header = List.of("Written by tickwatch (SlurmRunner): shard $SLURM_ARRAY_TASK_ID of "
                + files.shards() + " of one " + args.boots() + "-boot loop.",
                "Submitted as: " + String.join(" ", sbatch.stream().map(ShardScript::quote).toList()));
        return ShardScript.render(tickwatch, args, files.shards(), "SLURM_ARRAY_TASK_ID", files.dir(), header, false);
    }

    /** {@code sbatch --parsable} prints {@code JOBID} or {@code JOBID;CLUSTER}. */
    static String parseJobId(String out) {
        Matcher m = JOB_ID.matcher(out.strip());
        if (!m.matches()) {
            throw new ClusterException("sbatch printed no job id: '" + out.strip() + "'");
        }
        return m.group(1);
    }

    /** The array as squeue shows it. */
    private final class ArrayJob implements ShardStep.Job {

        private final String id;
        private int errors;

        ArrayJob(String id) {
            this.id = id;
        }

        @Override
        public boolean finished() throws InterruptedException {
            // -h: no header; one line per pending range or running task, COMPLETING included
            // (its processes are still being ended). A purged job id is an error meaning "gone".
            Exec.Result r = exec.run(List.of("squeue", "-h", "-j", id, "-o", "%i %T"));
            if (r.ok()) {
                errors = 0;
                return r.out().isBlank();
            }
            if (r.err().contains("Invalid job id")) {
                return true;
            }
            if (++errors >= MAX_QUEUE_ERRORS) {
                throw new ClusterException("squeue failed " + errors + " times in a row for job " + id + ": "
                        + r.firstLine());
            }
            return false;
        }

        @Override
        public void cancel() throws InterruptedException {
            Exec.Result r = exec.run(List.of("scancel", id));
            if (!r.ok() && !r.err().contains("Invalid job id") && !r.err().contains("already completing")) {
                throw new ClusterException("scancel " + id + " failed: " + r.firstLine());
            }
            log.accept("slurm: job " + id + " cancelled");
            Instant until = Instant.now().plus(cancelWait);
            while (!finished()) {
                if (Instant.now().isAfter(until)) {
                    throw new ClusterException("job " + id + " still in squeue " + cancelWait.toSeconds()
                            + " s after scancel");
                }
                if (!poll.isZero()) {
                    Thread.sleep(poll.toMillis());
                }
            }
        }
    }

    /** Settings; defaults: this process's tickwatch, the default partition, CPUs = the loop's --parallel. */
    public static final class Builder {

        private Exec exec = Exec.processes();
        private List<String> tickwatch = NodeCommand.current();
        private String partition;
        private Integer cpusPerTask;
        private String timeLimit;
        private List<String> sbatchArgs = List.of();
        private Path chdir = Path.of("").toAbsolutePath();
        private int stopAfterHangs = 1;
        private Duration poll = DEFAULT_POLL;
        private Duration cancelWait = DEFAULT_CANCEL_WAIT;
        private Consumer<String> log = s -> { };

        private Builder() {
        }

        /** The process runner (tests: a fake scheduler). */
        public Builder exec(Exec e) {
            this.exec = Objects.requireNonNull(e, "exec");
            return this;
        }

        /** How nodes run tickwatch, e.g. {@code [/shared/tickwatch/bin/tickwatch]}; absolute paths. */
        public Builder tickwatch(List<String> command) {
            if (command.isEmpty()) {
                throw new IllegalArgumentException("tickwatch command: empty");
            }
            this.tickwatch = List.copyOf(command);
            return this;
        }

        public Builder partition(String p) {
            this.partition = p;
            return this;
        }

        /** CPUs per shard (default: the loop's {@code --parallel}). */
        public Builder cpusPerTask(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("cpus per task: " + n + " (expected: >= 1)");
            }
            this.cpusPerTask = n;
            return this;
        }

        /** Slurm's {@code --time} for each shard, e.g. {@code 24:00:00}; default: the partition's. */
        public Builder timeLimit(String t) {
            this.timeLimit = t;
            return this;
        }

        /** More sbatch options, e.g. {@code --mem=2G}, {@code --account=x}. */
        public Builder sbatchArgs(List<String> a) {
            this.sbatchArgs = List.copyOf(a);
            return this;
        }

        /** The shards' working folder (default: this process's), so relative paths mean the same there. */
        public Builder chdir(Path dir) {
            this.chdir = Objects.requireNonNull(dir, "chdir");
            return this;
        }

        /**
         * Cancel every shard once they reported this many hangs in all (default 1: the first hang
         * decides a bisect step; k with {@code --keep-going} to calibrate a rate); 0 never cancels.
         */
        public Builder stopAfterHangs(int k) {
            if (k < 0) {
                throw new IllegalArgumentException("stop after hangs: " + k + " (expected: >= 0)");
            }
            this.stopAfterHangs = k;
            return this;
        }

        public Builder poll(Duration d) {
            if (d.isNegative()) {
                throw new IllegalArgumentException("poll: " + d + " (expected: >= 0)");
            }
            this.poll = d;
            return this;
        }

        public Builder cancelWait(Duration d) {
            this.cancelWait = Objects.requireNonNull(d, "cancelWait");
            return this;
        }

        /** Progress lines (job id, hangs, cancel, lost shards); default: none. */
        public Builder log(Consumer<String> l) {
            this.log = Objects.requireNonNull(l, "log");
            return this;
        }

        public SlurmRunner build() {
            return new SlurmRunner(this);
        }
    }
}
