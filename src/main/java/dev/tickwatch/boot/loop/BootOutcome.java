package dev.tickwatch.boot.loop;

import java.util.List;
import java.util.Objects;

/**
 * How one boot ended, as a {@link BootWatcher} decides it.
 *
 * @param kind      OK, HUNG, CANNOT_TEST or TIMEOUT
 * @param verdict   for HUNG: the verdict's name ({@code TIMER_STALL}, {@code PANICKED}, ...);
 *                  {@code TIMEOUT} for TIMEOUT; {@code FIRMWARE_STUCK} etc. for CANNOT_TEST; null for OK
 * @param flavour   a refinement of the verdict (e.g. {@code lost} vs {@code storm}, or the last
 *                  milestone reached), or null
 * @param evidence  the lines that decided the verdict, for people and for LKML; never null
 * @param bootS     for OK: seconds from QEMU's start to its exit; else NaN
 * @param detectS   for HUNG/TIMEOUT: seconds from QEMU's start to the decision; else NaN
 * @param reason    for CANNOT_TEST: one line saying why; else null
 * @param decision  the verdict engine's decision behind a HUNG, or null (console-only verdicts)
 * @param samples   the samples that led to {@code decision} (the last minute), for snapshots; else empty
 */
public record BootOutcome(Kind kind, String verdict, String flavour, List<String> evidence, double bootS,
        double detectS, String reason, dev.tickwatch.verdict.Decision decision, List<dev.tickwatch.probe.Sample> samples) {

    /** The four ways a boot ends. HUNG and TIMEOUT make a loop fail; CANNOT_TEST makes it exit 125. */
    public enum Kind { OK, HUNG, CANNOT_TEST, TIMEOUT }

    public BootOutcome {
        Objects.requireNonNull(kind, "kind");
        evidence = List.copyOf(evidence);
        samples = samples == null ? List.of() : List.copyOf(samples);
    }

    /** A hang the verdict engine decided, with the samples behind it. */
    public static BootOutcome hung(dev.tickwatch.verdict.Decision d, List<dev.tickwatch.probe.Sample> samples, double detectS) {
        return new BootOutcome(Kind.HUNG, d.verdict().name(), d.flavour(), d.evidence(), Double.NaN, detectS, null, d, samples);
    }

    public static BootOutcome ok(double bootS) {
        return new BootOutcome(Kind.OK, null, null, List.of(), bootS, Double.NaN, null, null, null);
    }

    public static BootOutcome hung(String verdict, String flavour, List<String> evidence, double detectS) {
        return new BootOutcome(Kind.HUNG, Objects.requireNonNull(verdict, "verdict"), flavour, evidence,
                Double.NaN, detectS, null, null, null);
    }

    public static BootOutcome cannotTest(String verdict, String reason) {
        return new BootOutcome(Kind.CANNOT_TEST, verdict, null, List.of(reason), Double.NaN, Double.NaN, reason, null, null);
    }

    public static BootOutcome timeout(List<String> evidence, double detectS) {
        return new BootOutcome(Kind.TIMEOUT, "TIMEOUT", null, evidence, Double.NaN, detectS, null, null, null);
    }

    /** A hang or a timeout: what a boot loop is looking for. */
    public boolean isBad() {
        return kind == Kind.HUNG || kind == Kind.TIMEOUT;
    }
}
