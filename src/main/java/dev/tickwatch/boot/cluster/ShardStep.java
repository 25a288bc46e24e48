package dev.tickwatch.boot.cluster;

import dev.tickwatch.boot.loop.BootRecord;
import dev.tickwatch.boot.loop.LoopResult;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.function.Consumer;

/**
 * The part both runners share: watch the shard files while the job runs, cancel it on the step's
 * hang, wait until it is gone, check the shards' exit codes, merge. The scheduler is behind
 * {@link Job}.
 */
final class ShardStep {

    /** One submitted job, as the step loop sees it. */
    interface Job {
        /** True once no shard runs or waits any more; may block up to the poll interval itself. */
        boolean finished() throws InterruptedException;

        /** Ends every shard; returns once none runs (or throws). */
        void cancel() throws InterruptedException;

        /** Called last, whatever happened (e.g. delete a finished Kubernetes Job). */
        default void close() throws InterruptedException {
        }
    }

    private ShardStep() {
    }

    /**
     * @param stopAfterHangs cancel once the shards reported this many hangs (0: never, let them end)
     * @param sleep          pause between polls when {@link Job#finished} does not block itself
     */
    static LoopResult run(Job job, ShardFiles files, int expectedBoots, int stopAfterHangs, Duration sleep,
            Consumer<String> log) throws InterruptedException {
        boolean cancelled = false;
        try {
            while (true) {
                for (BootRecord r : files.poll()) {
                    if (r.outcome().isBad()) {
                        log.accept("shard " + r.shard() + ": boot " + r.boot() + " " + r.outcome().kind() + ": "
                                + r.outcome().verdict());
                    }
                }
                if (stopAfterHangs > 0 && files.bad() >= stopAfterHangs) {
                    log.accept(files.bad() + " hang" + (files.bad() == 1 ? "" : "s") + ": stopping every shard");
                    cancelled = true;
                    job.cancel();
                    break;
                }
                if (job.finished()) {
                    break;
                }
                if (!sleep.isZero()) {
                    Thread.sleep(sleep.toMillis());
                }
            }
        } catch (InterruptedException e) {
            // Cancel with the flag cleared (waitFor would throw at once), then report the interrupt.
            Thread.interrupted();
            if (!cancelled) {
                cancelQuietly(job, log);
            }
            throw e;
        } catch (RuntimeException | Error e) {
            if (!cancelled) {
                cancelQuietly(job, log);
            }
            throw e;
        } finally {
            job.close();
        }
        if (!cancelled) {
            // What the shards wrote between the last look and their end. After a cancel, nothing
            // more is read: a shard being ended may report the boot that its own end killed.
            files.poll();
        }
        for (int i = 0; i < files.shards(); i++) {
            OptionalInt rc = files.exitCode(i);
            if (rc.isPresent() && rc.getAsInt() >= 128) {
                String tail = files.logTail(i, 5);
                throw new ClusterException("shard " + i + "/" + files.shards() + " failed with exit code " + rc.getAsInt()
                        + " (a usage error)" + (tail.isEmpty() ? "; no log in " + files.log(i) : ":\n" + tail));
            }
            if (rc.isEmpty() && !cancelled) {
                log.accept("shard " + i + "/" + files.shards() + " ended without an exit code (killed, out of time, its"
                        + " node lost?): its boots without a record count as missing; see " + files.log(i));
            }
        }
        return files.merge(expectedBoots).result();
    }

    private static void cancelQuietly(ShardStep.Job job, Consumer<String> log) {
        try {
            job.cancel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.accept("could not cancel the job: " + e.getMessage());
        }
    }
}
