package dev.tickwatch.guest.log;

import java.util.Locale;

/**
 * A record in which one of the kernel's own detectors reported: which detector, when, and the
 * line that says so, quoted.
 *
 * @param tsNs the record's local_clock() time, ns since boot
 * @param line the record's line that matched, as the kernel printed it
 */
public record KernelReport(Kind kind, long seq, long tsNs, String line) {

    /** The detectors, in the order a line is tried against them (the specific before the generic). */
    public enum Kind {
        SOFT_LOCKUP, HARD_LOCKUP, RCU_STALL, HUNG_TASK, LOCKDEP, RT_MUTEX_DEADLOCK, PANIC, OOPS, BUG, WARN;

        /** {@code soft-lockup}, {@code rcu-stall}, ... */
        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** {@code [  123.456789] soft-lockup: watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [...]} */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "[%5d.%06d] %s: %s", tsNs / 1_000_000_000L, tsNs % 1_000_000_000L / 1000,
                kind.label(), line);
    }
}
