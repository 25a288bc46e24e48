package dev.tickwatch.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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

    /** A batch member whose replies are {@code replies}; finishing records its name, or throws when told to. */
    private record Member(String name, CompletableFuture<Void> replies, boolean throwsOnFinish, List<String> finished,
            Map<String, AtomicInteger> finishes, AtomicInteger begun) implements Ticks.Batched {
        @Override
        public void begin(long dueNs) {
            begun.incrementAndGet();
        }

        @Override
        public void whenReady(Runnable r) {
            replies.whenComplete((v, e) -> r.run());
        }

        @Override
        public void finish() {
            finishes.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
            replies.join();
            if (throwsOnFinish) {
                throw new IllegalStateException("a tick that breaks its promise");
            }
            finished.add(name);
        }
    }

    @Test
    void aBatchFinishesEachTickAsItsRepliesComeAndNoneWaitsForOneThatDoesNotAnswer() {
        List<String> finished = new CopyOnWriteArrayList<>();
        Map<String, AtomicInteger> finishes = new ConcurrentHashMap<>();
        AtomicInteger begun = new AtomicInteger();
        CompletableFuture<Void> slow = new CompletableFuture<>();
        CompletableFuture<Void> late = new CompletableFuture<>();
        CompletableFuture<Void> silent = new CompletableFuture<>();
        List<Ticks.Batched> batch = List.of(
                new Member("silent", silent, false, finished, finishes, begun),
                new Member("slow", slow, false, finished, finishes, begun),
                new Member("broken", CompletableFuture.completedFuture(null), true, finished, finishes, begun),
                new Member("quick", CompletableFuture.completedFuture(null), false, finished, finishes, begun),
                new Member("late", late, false, finished, finishes, begun));
        Ticks.runBatchNow(batch);
        // The ticks whose replies are in finish first, though listed after two that wait, and one
        // whose finish throws does not end the batch.
        await().atMost(Duration.ofSeconds(10)).until(() -> finished.contains("quick"));
        assertEquals(5, begun.get(), "every member sent its commands before any finished");
        assertEquals(List.of("quick"), finished, "only the one with its replies in (the broken one threw)");
        slow.complete(null);
        await().atMost(Duration.ofSeconds(10)).until(() -> finished.contains("slow"));
        late.complete(null);
        await().atMost(Duration.ofSeconds(10)).until(() -> finished.contains("late"));
        assertEquals(List.of("quick", "slow", "late"), finished, "each as its replies came; the silent one still out");
        silent.complete(null);
        await().atMost(Duration.ofSeconds(10)).until(() -> finished.contains("silent"));
        // Each exactly once, whether the batch's thread finished it or a thread of its own did.
        await().during(Duration.ofMillis(100)).atMost(Duration.ofSeconds(5)).until(() -> finishes.values().stream()
                .allMatch(n -> n.get() == 1) && finishes.size() == 5);
    }
}
