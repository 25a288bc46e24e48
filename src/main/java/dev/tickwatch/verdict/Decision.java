package dev.tickwatch.verdict;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A verdict with what decided it. It is also the judge's whole state between two samples: the
 * next judgement gets it back ({@link Judge#next}) to hold a hang until something progresses.
 *
 * @param flavour    for TIMER_STALL, {@code lost-timer} or {@code tick-storm}; else null
 * @param confidence 0..1: how many independent sources agree
 * @param evidence   sentences a kernel developer would write, most decisive first
 * @param onsetNs    host time (System.nanoTime) the state began, as well as it could be estimated
 * @param decidedNs  host time of the sample that decided it (for a held verdict, of the latest sample)
 * @param onsetHow   how {@code onsetNs} was estimated, e.g. "from the guest's frozen wall clock
 *                   (tk_core.timekeeper.xtime_sec)" or "lower bound: the first sample of this watch"
 * @param sinceNs    host time this verdict was first decided; it stays while the verdict holds
 * @param cpus       the CPUs the verdict is about, each with its current pid then (-1 unknown):
 *                   what must change before a held SPIN_LOCKUP or SOFT_LOCKUP ends
 * @param seen       what the judge saw of the series, so that the next call reads only the new
 *                   samples ({@link Seen}); null for a decision made elsewhere. Not part of the verdict.
 */
public record Decision(Verdict verdict, String flavour, double confidence, List<String> evidence, long onsetNs,
        long decidedNs, String onsetHow, long sinceNs, Map<Integer, Integer> cpus, Seen seen) {

    /** How an onset is estimated when nothing better is known: the sample that first showed the state. */
    public static final String FROM_SAMPLES = "from this watch's samples: the first sample showing the state";

    public Decision {
        evidence = List.copyOf(evidence);
        confidence = Math.max(0, Math.min(1, confidence));
        onsetHow = Objects.requireNonNullElse(onsetHow, FROM_SAMPLES);
        cpus = Map.copyOf(cpus);
    }

    /** A decision without what the judge saw: the next judgement reads its series in full. */
    public Decision(Verdict verdict, String flavour, double confidence, List<String> evidence, long onsetNs,
            long decidedNs, String onsetHow, long sinceNs, Map<Integer, Integer> cpus) {
        this(verdict, flavour, confidence, evidence, onsetNs, decidedNs, onsetHow, sinceNs, cpus, null);
    }

    /** A first decision: onset estimated from the samples, decided now, about no CPU in particular. */
    public Decision(Verdict verdict, String flavour, double confidence, List<String> evidence, long onsetNs,
            long decidedNs) {
        this(verdict, flavour, confidence, evidence, onsetNs, decidedNs, FROM_SAMPLES, decidedNs, Map.of());
    }

    /** Same verdict and flavour: the watch prints a line only when this changes. */
    public boolean sameAs(Decision other) {
        return other != null && verdict == other.verdict && Objects.equals(flavour, other.flavour);
    }

    /** Whether the onset is only a lower bound (the state began before anything this watch saw). */
    public boolean onsetIsLowerBound() {
        return onsetHow.startsWith("lower bound");
    }

    Decision withEvidence(List<String> ev) {
        return new Decision(verdict, flavour, confidence, ev, onsetNs, decidedNs, onsetHow, sinceNs, cpus, seen);
    }

    Decision withOnset(long ns, String how) {
        return new Decision(verdict, flavour, confidence, evidence, ns, decidedNs, how, sinceNs, cpus, seen);
    }

    Decision withCpus(Map<Integer, Integer> c) {
        return new Decision(verdict, flavour, confidence, evidence, onsetNs, decidedNs, onsetHow, sinceNs, c, seen);
    }

    Decision since(long ns) {
        return new Decision(verdict, flavour, confidence, evidence, onsetNs, decidedNs, onsetHow, ns, cpus, seen);
    }

    Decision withSeen(Seen s) {
        return new Decision(verdict, flavour, confidence, evidence, onsetNs, decidedNs, onsetHow, sinceNs, cpus, s);
    }
}
