package dev.tickwatch.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The shared sampling pool: ticks that block (a QEMU that does not answer) do not hold up the others. */
class TicksTest {

    @Test
    void blockedTicksOnEveryThreadStillLetAnotherTickRun() throws Exception {
        int blockers = Ticks.BASE + 2;
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocked = new CountDownLatch(blockers);
        CountDownLatch ran = new CountDownLatch(1);
        try {
            for (int i = 0; i < blockers; i++) {
                Ticks.run(() -> {
                    blocked.countDown();
                    try {
                        release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            Ticks.run(ran::countDown);
            // More blockers than the pool's base: only growth lets all of them and the last tick run.
            assertTrue(blocked.await(30, TimeUnit.SECONDS), "every blocker got a thread; waiting: " + blocked.getCount());
            assertTrue(ran.await(30, TimeUnit.SECONDS), "the quick tick ran beside them");
            assertEquals(1, release.getCount(), "the blockers were still blocked meanwhile");
            assertTrue(Ticks.threads() > Ticks.BASE, "grew past " + Ticks.BASE + ": " + Ticks.threads());
        } finally {
            release.countDown();
        }
    }
}
