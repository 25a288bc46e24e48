package dev.tickwatch.verdict;

import java.util.List;

/**
 * A verdict with what decided it.
 *
 * @param flavour    for TIMER_STALL, {@code lost-timer} or {@code tick-storm}; else null
 * @param confidence 0..1: how many independent sources agree
 * @param evidence   sentences a kernel developer would write, most decisive first
 * @param onsetNs    host time (System.nanoTime) of the first sample showing the state
 * @param decidedNs  host time of the sample that decided it
 */
public record Decision(Verdict verdict, String flavour, double confidence, List<String> evidence, long onsetNs,
        long decidedNs) {

    public Decision {
        evidence = List.copyOf(evidence);
        confidence = Math.max(0, Math.min(1, confidence));
    }

    /** Same verdict and flavour: the watch prints a line only when this changes. */
    public boolean sameAs(Decision other) {
        return other != null && verdict == other.verdict && java.util.Objects.equals(flavour, other.flavour);
    }
}
