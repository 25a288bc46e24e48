package dev.tickwatch.boot.cluster;

import dev.tickwatch.util.IoErrors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one scheduler command ({@code sbatch}, {@code squeue}, {@code kubectl}, ...) to its end.
 * The runners take one so tests can play the scheduler; {@link #processes} is the real one.
 */
@FunctionalInterface
public interface Exec {

    /**
     * How long one scheduler command may take before it counts as hung: longer than the runners'
     * own waits inside one command (kubectl wait's poll, kubectl delete's 120 s).
     */
    Duration DEFAULT_TIMEOUT = Duration.ofSeconds(180);

    /**
     * How a command ended.
     *
     * @param exitCode its exit code
     * @param out      its standard output
     * @param err      its standard error
     */
    record Result(int exitCode, String out, String err) {

        public boolean ok() {
            return exitCode == 0;
        }

        /** The first line of standard error, else of standard output, for messages. */
        public String firstLine() {
            String s = err.isBlank() ? out : err;
            s = s.strip();
            int nl = s.indexOf('\n');
            return nl < 0 ? s : s.substring(0, nl);
        }
    }

    /**
     * Runs {@code command} (program and arguments, no shell) and waits for it.
     *
     * @throws ClusterException when it cannot start (not installed) or outlives its timeout
     */
    Result run(List<String> command) throws InterruptedException;

    /** Real processes, in the caller's environment (SLURM_CONF, KUBECONFIG pass through). */
    static Exec processes() {
        return processes(DEFAULT_TIMEOUT);
    }

    /** Real processes with a timeout each. */
    static Exec processes(Duration timeout) {
        return processes(timeout, Map.of());
    }

    /**
     * Real processes, with {@code env} added to the caller's environment (e.g. SLURM_CONF from
     * {@code slurm-local.sh start}, when this process was started without it).
     */
    static Exec processes(Duration timeout, Map<String, String> env) {
        Map<String, String> extra = Map.copyOf(env);
        return command -> {
            Path out = null;
            Path err = null;
            Process p = null;
            try {
                out = Files.createTempFile("tickwatch-exec-", ".out");
                err = Files.createTempFile("tickwatch-exec-", ".err");
                try {
                    ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile())
                            .redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
                    pb.environment().putAll(extra);
                    p = pb.start();
                } catch (IOException e) {
                    throw new ClusterException("cannot run " + command.get(0) + ": " + (e.getMessage() != null
                            && e.getMessage().contains("error=2") ? "not found on PATH" : IoErrors.reason(e)), e);
                }
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new ClusterException(String.join(" ", command) + ": no answer in "
                            + timeout.toSeconds() + " s");
                }
                return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new ClusterException("cannot run " + command.get(0) + ": " + IoErrors.reason(e), e);
            } finally {
                if (p != null && p.isAlive()) {
                    p.destroyForcibly();
                }
                delete(out);
                delete(err);
            }
        };
    }

    private static void delete(Path f) {
        if (f != null) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException ignored) {
                // a temp file left behind is harmless
            }
        }
    }
}
