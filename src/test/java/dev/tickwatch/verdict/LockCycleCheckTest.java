package dev.tickwatch.verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.probe.KernelSample;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.probe.SampleJson;
import dev.tickwatch.util.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * SLEEP_DEADLOCK from the wait-for graph: the recorded lab sleep-deadlock series (tasks in D state,
 * far below the 30 s blocked-for threshold) with lock readings added to the samples that read the
 * task list. A cycle in two lock readings in a row decides at once; a cycle seen once, or two
 * readings that disagree, do not; recordings without lock readings are judged as before.
 */
class LockCycleCheckTest {

    static final long MA = 0xffffffffc0a02040L;
    static final long MB = 0xffffffffc0a02080L;

    static KernelSample.LockCycle abba(long second) {
        return new KernelSample.LockCycle(List.of(
                new KernelSample.LockEdge(94, "lab-mutex-ab/0", "mutex", second, "lab_mutex_b [tickwatch_lab]", 95,
                        "lab-mutex-ba/1"),
                new KernelSample.LockEdge(95, "lab-mutex-ba/1", "mutex", MA, "lab_mutex_a [tickwatch_lab]", 94,
                        "lab-mutex-ab/0")));
    }

    static Sample withCycles(Sample s, List<KernelSample.LockCycle> cycles) {
        KernelSample k = s.kernel();
        return new Sample(s.hostTimeNs(), s.wallTimeMs(), s.status(), s.consoleBytes(), s.lastMilestone(),
                s.consolePanic(), s.cpus(), new KernelSample(k.jiffies(), k.lastJiffiesUpdateNs(), k.tickDoTimerCpu(),
                        k.hz(), k.cpus(), k.blockedTasks(), k.wallClockNs(), cycles), s.sources(), s.qemuWaitNs());
    }

    /** The first 14 samples of the sleep-deadlock series (about 4.4 s), lock readings at those given. */
    static List<Sample> series(Map<Integer, List<KernelSample.LockCycle>> readings) throws IOException {
        List<Sample> base = JudgeTest.load("sleep-deadlock").subList(0, 14);
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < base.size(); i++) {
            out.add(readings.containsKey(i) ? withCycles(base.get(i), readings.get(i)) : base.get(i));
        }
        return out;
    }

    @Test
    void aCycleInTwoReadingsInARowIsASleepDeadlockWithTheCycleAsEvidence() throws IOException {
        List<Sample> s = series(Map.of(0, List.of(), 4, List.of(abba(MB)), 12, List.of(abba(MB))));
        List<Decision> all = JudgeTest.decisions(s, Thresholds.defaults());
        int first = -1;
        for (int i = 0; i < all.size() && first < 0; i++) {
            first = all.get(i).verdict() == Verdict.SLEEP_DEADLOCK ? i : -1;
        }
        assertEquals(12, first, "decided at the second reading that shows the cycle: " + all);
        Decision d = all.get(12);
        assertEquals(0.95, d.confidence());
        assertTrue(d.evidence().get(0).startsWith("a lock cycle in the wait-for graph, the same in two readings 2.2 s"
                + " apart: 2 tasks wait on each other's locks"), d.evidence().get(0));
        assertEquals(String.format("lab-mutex-ab/0 (pid 94) waits for mutex lab_mutex_b [tickwatch_lab] at 0x%x held by"
                + " lab-mutex-ba/1 (pid 95)", MB), d.evidence().get(1));
        assertEquals(String.format("lab-mutex-ba/1 (pid 95) waits for mutex lab_mutex_a [tickwatch_lab] at 0x%x held by"
                + " lab-mutex-ab/0 (pid 94)", MA), d.evidence().get(2));
        // Onset from the task list: the cycle's longest D-state wait (2.15 s at sample 12).
        assertEquals(2.15, (s.get(12).hostTimeNs() - d.onsetNs()) / 1e9, 0.01);
        assertTrue(d.onsetHow().startsWith("from the guest's task list"), d.onsetHow());
        // And it holds while the readings still show it.
        assertEquals(Verdict.SLEEP_DEADLOCK, all.get(13).verdict());
    }

    @Test
    void aCycleSeenOnceIsNotYetADeadlock() throws IOException {
        List<Sample> s = series(Map.of(0, List.of(), 4, List.of(), 12, List.of(abba(MB))));
        for (Decision d : JudgeTest.decisions(s, Thresholds.defaults())) {
            assertNotEquals(Verdict.SLEEP_DEADLOCK, d.verdict(), d.toString());
        }
        assertNull(Checks.lockCycle(s, s.get(s.size() - 1)));
    }

    @Test
    void twoReadingsWithDifferentCyclesDoNotAgree() throws IOException {
        List<Sample> s = series(Map.of(4, List.of(abba(MB + 0x40)), 12, List.of(abba(MB))));
        assertNull(Checks.lockCycle(s, s.get(s.size() - 1)));
    }

    @Test
    void aCycleThatIsGoneInTheNewestReadingNoLongerDecides() throws IOException {
        List<Sample> s = series(Map.of(0, List.of(abba(MB)), 4, List.of(abba(MB)), 12, List.of()));
        assertNull(Checks.lockCycle(s, s.get(s.size() - 1)));
    }

    @Test
    void aTaskWaitingOnItselfIsACycleToo() throws IOException {
        KernelSample.LockCycle self = new KernelSample.LockCycle(List.of(new KernelSample.LockEdge(93, "insmod", "mutex",
                MA, "lab_mutex_a [tickwatch_lab]", 93, "insmod")));
        List<Sample> s = series(Map.of(4, List.of(self), 12, List.of(self)));
        Decision d = Checks.lockCycle(s, s.get(s.size() - 1));
        assertEquals(Verdict.SLEEP_DEADLOCK, d.verdict());
        assertTrue(d.evidence().get(0).contains("1 task waits on each other's locks"), d.evidence().get(0));
        assertTrue(d.evidence().get(1).endsWith("held by insmod (pid 93) itself"), d.evidence().get(1));
    }

    @Test
    void recordingsWithoutLockReadingsAreJudgedByTheBlockedForThreshold() throws IOException {
        List<Sample> s = JudgeTest.load("sleep-deadlock");
        assertTrue(s.stream().allMatch(x -> x.kernel() == null || x.kernel().lockCycles() == null),
                "the recording predates lock readings");
        assertNull(Checks.lockCycle(s, s.get(s.size() - 1)));
        Decision d = Judge.judge(s, Thresholds.defaults());
        assertEquals(Verdict.SLEEP_DEADLOCK, d.verdict());
        assertTrue(d.evidence().get(0).contains("in D state for over 30 s"), d.evidence().get(0));
    }

    @Test
    void lockCyclesGoToJsonWithHexAddressesAndComeBack() throws IOException {
        Sample s = withCycles(JudgeTest.load("sleep-deadlock").get(12), List.of(abba(MB)));
        String json = Json.compact(SampleJson.toJson(s));
        assertTrue(json.contains("\"lock_cycles\":[{\"edges\":[{\"pid\":94,\"comm\":\"lab-mutex-ab/0\",\"kind\":\"mutex\","
                + "\"lock\":\"0xffffffffc0a02080\",\"lock_name\":\"lab_mutex_b [tickwatch_lab]\",\"owner_pid\":95,"), json);
        Sample back = SampleJson.fromJson(Json.MAPPER.readTree(json));
        assertEquals(s.kernel().lockCycles(), back.kernel().lockCycles());
        // A sample without them writes no key.
        assertTrue(!Json.compact(SampleJson.toJson(JudgeTest.load("sleep-deadlock").get(12))).contains("lock_cycles"));
    }
}
