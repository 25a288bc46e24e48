package dev.tickwatch.verdict;

import dev.tickwatch.util.Fmt;

/**
 * Guest ktime values (ns of CLOCK_MONOTONIC) as evidence reads them. A kernel whose clock stopped
 * early, or a per-CPU field read before it was set, holds sentinels and garbage: KTIME_MAX (nothing
 * armed), 0 (never set), negative or overflowed values. Those are clues in themselves and are named,
 * never turned into durations (a stall in early init once read "expires_next 9223372014.4 s in the
 * past").
 */
public final class Ktime {

    /** Longer than any uptime (about 100 years): a value past it overflowed. */
    static final long IMPLAUSIBLE_NS = 100L * 365 * 24 * 3600 * 1_000_000_000L;

    private Ktime() {
    }

    /** Whether {@code ns} can be a moment of a running kernel's monotonic clock (not a sentinel, not garbage). */
    public static boolean plausible(long ns) {
        return ns > 0 && ns < IMPLAUSIBLE_NS;
    }

    /** Null for a plausible value; else what it is, e.g. {@code "KTIME_MAX: nothing armed"}. */
    public static String sentinel(long ns) {
        if (ns == Long.MAX_VALUE) {
            return "KTIME_MAX: nothing armed";
        }
        if (ns == 0) {
            return "0: never set";
        }
        if (ns < 0) {
            return "negative (" + ns + " ns): unset or overflowed";
        }
        if (ns >= IMPLAUSIBLE_NS) {
            return "overflowed (" + ns + " ns, beyond any uptime)";
        }
        return null;
    }

    /** {@code 12.345678901 s} for a plausible value, else its {@link #sentinel} name. */
    public static String text(long ns) {
        String s = sentinel(ns);
        return s != null ? s : Fmt.format("%d.%09d s", ns / 1_000_000_000L, ns % 1_000_000_000L);
    }

    /** A duration in seconds, with {@code >= } when it is only a lower bound (the state began before what was seen). */
    public static String seconds(long ns, boolean lowerBound) {
        return (lowerBound ? ">= " : "") + Fmt.format("%.1f s", ns / 1e9);
    }
}
