package dev.tickwatch.verdict;

import dev.tickwatch.guest.log.LogJson;
import dev.tickwatch.probe.KernelSample;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.probe.VcpuSample;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the judge has seen of a series, carried in the {@link Decision} from one {@link Judge#next}
 * to the next, so that a call reads only the samples that came after the previous one. Opaque
 * outside this package.
 *
 * <p>Why: the checks ask of every sample questions about the whole history (was a panic ever
 * reported, did the kernel ever show life, where did the unbroken spin or idle run begin, at how
 * many places did it spin). A watch keeps a minute of history, 240 samples at 4 Hz, and reading
 * them all again at every tick is cheap for one guest and not for a hundred: bench watch-scale's
 * judge cost 45 us a call where the same series on a warm cache cost 8 us, the difference being
 * 24,000 samples that no cache holds. Each answer here is exactly what the scan it replaces gives
 * ({@code JudgeGoldenTest}: every decision over the corpus the same, sliding histories included).
 *
 * <p>Samples are numbered as they come ({@code seq}); a fact is the number of the newest sample
 * that has it, and it holds for a series while that sample is still in it. That is sound as long
 * as the caller does what {@code Watch} does: the next series is this one with its oldest samples
 * dropped and new ones appended. A series in which the newest sample seen here is not found (no
 * decision before, another series) is read in full.
 *
 * <p>Each one is filled in by {@link #of} and never changed after (the next call copies it), so a
 * decision handed from one sampling thread to the next carries it safely like its other fields.
 */
public final class Seen {

    /** A spin run keeps its places one by one up to this many; past it (a run that varied spins nowhere) the run is scanned. */
    private static final int MAX_PLACES = 64;

    private static final long NONE = -1;

    /** The newest sample: where the next series' new samples begin. */
    private Sample last;
    /** The number of the last sample, and of the series' first (its oldest kept). */
    private long lastSeq;
    private long firstSeq;
    // The newest sample with: a "panic" report; any report of the kernel's detectors; lock cycles
    // read; a task list read; jiffies > 0; a vCPU in the kernel (or a kernel reading, or a milestone).
    private long panic = NONE;
    private long report = NONE;
    private long locks = NONE;
    private long locksBefore = NONE;
    private long tasks = NONE;
    private long reading = NONE;
    private long kernel = NONE;
    /**
     * The kernel showed life (a milestone past "kernel", or jiffies changing between two readings)
     * while this sample is in the series: the milestone's own sample, or the reading before the change.
     */
    private long life = NONE;
    // The first sample of each unbroken run ending at the last one; NONE when the last is not in one.
    private long idleFrom = NONE;
    private long quietFrom = NONE;
    private long frozenFrom = NONE;
    private long[] spinFrom = new long[0];
    /** Per vCPU index, over its spin run: each place (function, or address) and the newest sample there; null when too many. */
    private Map<String, Long>[] places = newPlaces(0);

    private Seen() {
    }

    /** What there is to see in {@code series} (oldest first), reading only what {@code before} had not seen when it can. */
    static Seen of(Seen before, List<Sample> series) {
        Seen s = new Seen();
        int from = 0;
        int at = before == null ? -1 : before.find(series);
        if (at >= 0) {
            s.copy(before);
            s.firstSeq = before.lastSeq - at;
            from = at + 1;
        }
        for (int i = from; i < series.size(); i++) {
            s.add(series, i, s.firstSeq + i);
        }
        s.last = series.get(series.size() - 1);
        s.lastSeq = s.firstSeq + series.size() - 1;
        return s;
    }

    /** Where this one's last sample is in {@code series}: looked for from the end, as far back as host times allow; -1 if not there. */
    private int find(List<Sample> series) {
        for (int i = series.size() - 1; i >= 0; i--) {
            Sample x = series.get(i);
            if (x == last) {
                // More samples before it than there were: not the series this was made of.
                return i <= lastSeq - firstSeq ? i : -1;
            }
            if (x.hostTimeNs() < last.hostTimeNs()) {
                return -1;
            }
        }
        return -1;
    }

    private void copy(Seen b) {
        panic = b.panic;
        report = b.report;
        locks = b.locks;
        locksBefore = b.locksBefore;
        tasks = b.tasks;
        reading = b.reading;
        kernel = b.kernel;
        life = b.life;
        idleFrom = b.idleFrom;
        quietFrom = b.quietFrom;
        frozenFrom = b.frozenFrom;
        spinFrom = b.spinFrom.clone();
        places = b.places.clone(); // the maps themselves are copied before they change
    }

    private void add(List<Sample> series, int i, long seq) {
        Sample x = series.get(i);
        KernelSample k = x.kernel();
        if (k != null) {
            List<LogJson.Report> r = k.kernelReports();
            if (!r.isEmpty()) {
                report = seq;
                for (int j = 0; j < r.size(); j++) {
                    if (r.get(j).kind().equals("panic")) {
                        panic = seq;
                    }
                }
            }
            if (k.lockCycles() != null) {
                locksBefore = locks;
                locks = seq;
            }
            if (k.blockedTasks() != null) {
                tasks = seq;
            }
        }
        if (x.lastMilestone() != null || k != null || anyInKernelImage(x)) {
            kernel = seq;
        }
        // Judge.kernelShowedLife, one sample at a time.
        if (x.lastMilestone() != null && !x.lastMilestone().equals("kernel")) {
            life = seq;
        }
        if (k != null && k.jiffies() > 0) {
            if (reading != NONE && reading >= firstSeq && series.get((int) (reading - firstSeq)).kernel().jiffies() != k.jiffies()) {
                life = Math.max(life, reading);
            }
            reading = seq;
        }
        idleFrom = Checks.allIdle(x) ? from(idleFrom, seq) : NONE;
        quietFrom = (x.cpus().isEmpty() || Checks.allIdle(x)) && Checks.lapicIdle(x) ? from(quietFrom, seq) : NONE;
        // The run of readings with the same jiffies as the newest.
        boolean sameJiffies = k != null && frozenFrom != NONE && i > 0 && series.get(i - 1).kernel() != null
                && series.get(i - 1).kernel().jiffies() == k.jiffies();
        frozenFrom = k == null ? NONE : sameJiffies ? frozenFrom : seq;
        int n = x.cpus().size();
        if (n > spinFrom.length) {
            // Every sample before had fewer vCPUs: none of them spun on the new ones.
            int old = spinFrom.length;
            spinFrom = Arrays.copyOf(spinFrom, n);
            Arrays.fill(spinFrom, old, n, NONE);
            places = Arrays.copyOf(places, n);
        }
        for (int c = 0; c < spinFrom.length; c++) {
            if (!Checks.spinsHard(x, c)) {
                spinFrom[c] = NONE;
                places[c] = null;
                continue;
            }
            boolean fresh = spinFrom[c] == NONE;
            spinFrom[c] = from(spinFrom[c], seq);
            Map<String, Long> p = fresh ? new HashMap<>() : places[c];
            if (p != null) {
                p = fresh ? p : new HashMap<>(p);
                p.put(Checks.place(x.cpus().get(c)), seq);
                if (p.size() > MAX_PLACES) {
                    p = null;
                }
            }
            places[c] = p;
        }
    }

    private static long from(long run, long seq) {
        return run == NONE ? seq : run;
    }

    private static boolean anyInKernelImage(Sample x) {
        for (int j = 0; j < x.cpus().size(); j++) {
            if (x.cpus().get(j).inKernelImage()) {
                return true;
            }
        }
        return false;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Long>[] newPlaces(int n) {
        return (Map<String, Long>[]) new Map[n];
    }

    // ---- the answers, for the series this was made of

    private boolean in(long seq) {
        return seq != NONE && seq >= firstSeq;
    }

    private Sample at(List<Sample> series, long seq) {
        return in(seq) ? series.get((int) (seq - firstSeq)) : null;
    }

    /** The index where a run that began at {@code from} begins in the series: its first sample when it began before; the last's index when there is none. */
    private int runIndex(long from) {
        return (int) (from == NONE ? lastSeq - firstSeq : Math.max(from, firstSeq) - firstSeq);
    }

    /** Checks.firstPanicReport: the oldest "panic" report, or null; the series is read only when it has one. */
    LogJson.Report firstPanicReport(List<Sample> series) {
        return in(panic) ? Checks.firstPanicReport(series) : null;
    }

    /** Whether any sample has a report of the kernel's detectors. */
    boolean anyReport() {
        return in(report);
    }

    /** The newest sample with lock cycles read, and the one with them before it; null when none. */
    Sample newestLocks(List<Sample> series) {
        return at(series, locks);
    }

    Sample locksBefore(List<Sample> series) {
        return in(locks) ? at(series, locksBefore) : null;
    }

    /** The newest sample with a task list; null when none. */
    Sample newestTasks(List<Sample> series) {
        return at(series, tasks);
    }

    /** Checks.everKernel. */
    boolean everKernel() {
        return in(kernel);
    }

    /** Judge.kernelShowedLife. */
    boolean life() {
        return in(life);
    }

    /** Checks.onsetIndex for "every vCPU in HLT with IF=1". */
    int idleFrom() {
        return runIndex(idleFrom);
    }

    /** Checks.onsetIndex for "no vCPU or every vCPU idle, and every LAPIC timer known and unarmed". */
    int quietFrom() {
        return runIndex(quietFrom);
    }

    /** Checks.onsetIndex for "a kernel reading with the newest sample's jiffies". */
    int frozenFrom() {
        return runIndex(frozenFrom);
    }

    /** Checks.onsetIndex for "the vCPU at index {@code cpu} spins hard". */
    int spinFrom(int cpu) {
        return runIndex(cpu < spinFrom.length ? spinFrom[cpu] : NONE);
    }

    /** The places (Checks.place) the vCPU at index {@code cpu} was seen at over its spin run; -1 when not known (then scan). */
    int spinPlaces(int cpu) {
        if (cpu >= spinFrom.length || spinFrom[cpu] == NONE || places[cpu] == null) {
            return -1;
        }
        long from = Math.max(spinFrom[cpu], firstSeq);
        int n = 0;
        for (long seq : places[cpu].values()) {
            n += seq >= from ? 1 : 0;
        }
        return n;
    }

    @Override
    public String toString() {
        return "Seen[samples " + firstSeq + ".." + lastSeq + "]";
    }
}
