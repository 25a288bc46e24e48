package dev.tickwatch.boot.loop;

/**
 * Hears a loop's progress: the results file, the JUnit report, the status line. Calls are
 * serialized by the loop (never two at once), from worker threads; keep them short.
 */
public interface BootListener {

    /** Before the first boot: how many boots this process will run. */
    default void started(int bootsToRun) {
    }

    /** A boot ended with an outcome (boots discarded because the loop stopped are not reported). */
    void finished(BootRecord record);

    /** Several listeners as one. */
    static BootListener all(BootListener... ls) {
        return new BootListener() {
            @Override
            public void started(int n) {
                for (BootListener l : ls) {
                    l.started(n);
                }
            }

            @Override
            public void finished(BootRecord r) {
                for (BootListener l : ls) {
                    l.finished(r);
                }
            }
        };
    }
}
