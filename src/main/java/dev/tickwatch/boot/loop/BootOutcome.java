package dev.tickwatch.boot.loop;

import dev.tickwatch.verdict.Verdict;
import java.util.List;
import java.util.Objects;

/**
 * How one boot ended, as a {@link BootWatcher} decides it.
 *
 * @param kind      OK, HUNG, CANNOT_TEST or TIMEOUT
 * @param verdict   for HUNG: the {@link Verdict}'s name ({@code TIMER_STALL}, {@code PANICKED}, ...) or
 *                  the provisional {@link ConsoleWatcher#STALLED_CONSOLE}; {@code TIMEOUT} for TIMEOUT;
 *                  {@code FIRMWARE_STUCK} or what could not start ({@code QEMU_START}, ...) for
 *                  CANNOT_TEST; for OK null, or a host-side failure's label ({@link #hostFailure}). A label, not the enum: results files carry these words
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

    /**
     * A boot the guest passed but the host side did not finish cleanly (QEMU never exited after the
     * power-off): counts as clean, keeps the failure's label in {@code verdict} and its evidence.
     *
     * @param bootS seconds from QEMU's start to the guest's power-off line
     */
    public static BootOutcome hostFailure(String label, List<String> evidence, double bootS) {
        return new BootOutcome(Kind.OK, Objects.requireNonNull(label, "label"), null, evidence, bootS, Double.NaN,
                null, null, null);
    }

    /** A passed boot with a host-side failure (see {@link #hostFailure}). */
    public boolean isHostFailure() {
        return kind == Kind.OK && verdict != null;
    }

    /** A hang decided from the console alone (panic, QEMU gone). */
    public static BootOutcome hung(Verdict verdict, String flavour, List<String> evidence, double detectS) {
        return hung(verdict.name(), flavour, evidence, detectS);
    }

    public static BootOutcome hung(String verdict, String flavour, List<String> evidence, double detectS) {
        return new BootOutcome(Kind.HUNG, Objects.requireNonNull(verdict, "verdict"), flavour, evidence,
                Double.NaN, detectS, null, null, null);
    }

    public static BootOutcome cannotTest(Verdict verdict, String reason) {
        return cannotTest(verdict.name(), reason);
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
