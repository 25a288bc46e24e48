package dev.tickwatch.verdict;

import dev.tickwatch.probe.Sample;
import dev.tickwatch.util.Fmt;
import java.util.List;

/**
 * When a state began, and how that is known. A watch sees only its own window: a state already
 * there at its first sample began at some unknown time before, so that sample is only a lower
 * bound. A frozen clock says more: the guest's wall clock ({@code tk_core.timekeeper.xtime_sec})
 * stops at the last timekeeping update, so while jiffies stand still it dates the freeze in the
 * guest's own terms (QEMU's RTC starts the guest on the host's UTC, so the two clocks agree to
 * about a second; an estimate that is later than the first frozen sample, or days away, is not
 * trusted).
 *
 * @param ns         host time (System.nanoTime) of the onset
 * @param how        how it was estimated, for the decision and the report
 * @param lowerBound the state began at {@code ns} or before
 */
record Onset(long ns, String how, boolean lowerBound) {

    static final String FROM_WALL_CLOCK = "from the guest's frozen wall clock (tk_core.timekeeper.xtime_sec, its last"
            + " timekeeping update)";
    static final String LOWER_BOUND = "lower bound: the first sample of this watch (the state was already there)";
    private static final long SLACK_NS = 1_500_000_000L;
    private static final long FURTHEST_NS = 7L * 24 * 3600 * 1_000_000_000L;

    /** The onset of a state first seen in {@code first}; {@code clockFrozen}: the guest's clock stood still since. */
    static Onset of(List<Sample> series, Sample first, Sample last, boolean clockFrozen) {
        if (first != series.get(0)) {
            return new Onset(first.hostTimeNs(), Decision.FROM_SAMPLES, false);
        }
        if (clockFrozen) {
            for (int i = series.size() - 1; i >= 0; i--) {
                Sample s = series.get(i);
                if (s.kernel() != null && s.kernel().wallClockNs() != null) {
                    long guestWallNs = s.kernel().wallClockNs();
                    long ns = s.hostTimeNs() - (s.wallTimeMs() * 1_000_000L - guestWallNs);
                    if (guestWallNs > 0 && ns <= first.hostTimeNs() + SLACK_NS && ns >= s.hostTimeNs() - FURTHEST_NS) {
                        return new Onset(Math.min(ns, first.hostTimeNs()), FROM_WALL_CLOCK, false);
                    }
                    break;
                }
            }
        }
        return new Onset(first.hostTimeNs(), LOWER_BOUND, true);
    }

    /** How long the state lasts at {@code last}: {@code 2.8 s}, {@code >= 2.8 s}, or the guest clock's estimate. */
    String duration(Sample first, Sample last) {
        long seen = last.hostTimeNs() - first.hostTimeNs();
        if (how.equals(FROM_WALL_CLOCK) && first.hostTimeNs() - ns > SLACK_NS) {
            return Fmt.format("about %.1f s by the guest's frozen wall clock (%s seen by this watch)",
                    (last.hostTimeNs() - ns) / 1e9, Ktime.seconds(seen, true));
        }
        return Ktime.seconds(seen, lowerBound);
    }
}
