package dev.tickwatch.bisect;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * One step's build: {@code sh -c CMD} in the tree (or the revert check's worktree), its output in
 * a log file. {@code TICKWATCH_BISECT_REV} carries the revision. The running build can be ended
 * from a shutdown hook ({@link #stop()}), with everything it started.
 */
public final class Build {

    /** How a build went. */
    public record Result(boolean ok, int status, String reason, double seconds, Path log) {
    }

    private final String command;
    private final long timeoutS;
    private volatile Process current;

    /** @param timeoutS seconds a build may take, 0 for no limit */
    public Build(String command, long timeoutS) {
        this.command = command;
        this.timeoutS = timeoutS;
    }

    public String command() {
        return command;
    }

    /** Builds {@code sha} in {@code dir}; its output goes to {@code log} (created with its folder). */
    public Result run(Path dir, String sha, Path log) throws InterruptedException {
        long t0 = System.nanoTime();
        try {
            Files.createDirectories(log.toAbsolutePath().getParent());
            Files.writeString(log, "# tickwatch bisect: sh -c '" + command + "' in " + dir + " at " + sha + "\n");
            ProcessBuilder pb = new ProcessBuilder("sh", "-c", command).directory(dir.toFile())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().put("TICKWATCH_BISECT_REV", sha);
            Process p = pb.start();
            p.getOutputStream().close();
            current = p;
            try {
                boolean done = timeoutS > 0 ? p.waitFor(timeoutS, TimeUnit.SECONDS) : p.waitFor() >= Integer.MIN_VALUE;
                if (!done) {
                    kill(p);
                    return new Result(false, -1, "the build took longer than " + timeoutS + " s", seconds(t0), log);
                }
            } catch (InterruptedException e) {
                kill(p);
                throw e;
            } finally {
                current = null;
            }
            int st = p.exitValue();
            return new Result(st == 0, st, st == 0 ? null : "the build exited with status " + st, seconds(t0), log);
        } catch (IOException e) {
            return new Result(false, -1, "cannot run the build: " + e.getMessage(), seconds(t0), log);
        }
    }

    /** Ends the running build, if any, and all it started (Ctrl-C). */
    public void stop() {
        Process p = current;
        if (p != null) {
            kill(p);
        }
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
