package dev.tickwatch.bisect;

import dev.tickwatch.boot.stats.ClopperPearson;

/**
 * The arithmetic of a bisection of a rare hang (issue 16, part 2). Pure functions.
 *
 * <p>A bad verdict is a hang actually seen, so (as long as revisions before the culprit do not
 * hang) only a good verdict can be wrong: a revision that has the bug passes N boots with
 * probability {@code (1 - p)^N}. Over the bisection's S steps the union bound gives
 * {@code P(any good verdict wrong) <= S (1 - p)^N}; N is the smallest count that keeps this at or
 * under the risk. p is not known: the bad revision is booted until it hangs k times, and the
 * lower end of the two-sided 95 % Clopper-Pearson interval of k in n stands in for it. The stated
 * risk therefore holds whenever the true rate is at least that bound (95 % of calibrations).
 * S is {@code ceil(log2(R + 1))} for R revisions in {@code good..bad}: binary search needs that
 * many steps at most, git's own count ("roughly N steps") can be one less.
 */
public final class Planner {

    /** Each side of the calibration's two-sided 95 % interval. */
    public static final double ALPHA_EACH_SIDE = 0.025;
    public static final double DEFAULT_RISK = 0.01;
    public static final int DEFAULT_CALIBRATE_HANGS = 3;

    private Planner() {
    }

    /**
     * The calibration: the bad revision hung {@code hangs} times in {@code boots} boots.
     *
     * @param boots boots with an outcome
     * @param hangs of them hangs
     */
    public record Calibration(long boots, long hangs) {
        public Calibration {
            if (boots < 1 || hangs < 0 || hangs > boots) {
                throw new IllegalArgumentException("calibration: " + hangs + " hangs in " + boots
                        + " boots (expected: 0 <= hangs <= boots, boots >= 1)");
            }
        }

        public double rate() {
            return (double) hangs / boots;
        }

        /** Lower end of the two-sided 95 % interval: the rate the plan assumes. */
        public double low() {
            return ClopperPearson.lower(hangs, boots, ALPHA_EACH_SIDE);
        }

        public double high() {
            return ClopperPearson.upper(hangs, boots, ALPHA_EACH_SIDE);
        }
    }

    /** Steps of a binary search over {@code revisions} candidates: {@code ceil(log2(R + 1))}, at least 1. */
    public static int steps(long revisions) {
        if (revisions < 1) {
            throw new IllegalArgumentException("revisions: " + revisions + " (expected: >= 1)");
        }
        // 64 - numberOfLeadingZeros(R) is ceil(log2(R + 1)) exactly, without floating point.
        return Math.max(1, 64 - Long.numberOfLeadingZeros(revisions));
    }

    /** The smallest N with {@code steps (1 - rate)^N <= risk}; at least 1. */
    public static long bootsPerGood(double rate, int steps, double risk) {
        checkRate(rate);
        checkRisk(risk);
        double target = risk / steps;
        if (target >= 1) {
            return 1;
        }
        long n = (long) Math.ceil(Math.log(target) / Math.log1p(-rate));
        // Absorb rounding at the boundary: the smallest n that meets the bound.
        while (n > 1 && riskOf(rate, steps, n - 1) <= risk) {
            n--;
        }
        while (riskOf(rate, steps, n) > risk) {
            n++;
        }
        return Math.max(1, n);
    }

    /** {@code min(1, steps (1 - rate)^N)}: the stated risk that N clean boots per good step leave. */
    public static double riskOf(double rate, int steps, long bootsPerGood) {
        checkRate(rate);
        return Math.min(1.0, steps * Math.exp(bootsPerGood * Math.log1p(-rate)));
    }

    /**
     * The plan.
     *
     * @param revisions    {@code git rev-list --count good..bad}
     * @param risk         the chance of any wrong good verdict to stay under
     * @param override     boots per good step given by the developer, or null to plan them
     * @param bootsPerMin  measured on this machine (the calibration's boots), NaN if unknown
     */
    public static BisectPlan plan(Calibration c, long revisions, double risk, Long override, double bootsPerMin) {
        checkRisk(risk);
        if (c.hangs() < 1) {
            throw new IllegalArgumentException("no plan without a hang of the bad revision");
        }
        int steps = steps(revisions);
        double low = c.low();
        long n;
        double stated;
        if (override != null) {
            if (override < 1) {
                throw new IllegalArgumentException("boots per good: " + override + " (expected: >= 1)");
            }
            n = override;
            stated = riskOf(low, steps, n);
        } else {
            n = bootsPerGood(low, steps, risk);
            stated = riskOf(low, steps, n);
        }
        return new BisectPlan(c.boots(), c.hangs(), c.rate(), low, c.high(), revisions, steps, n, stated,
                override != null, bootsPerMin);
    }

    private static void checkRate(double rate) {
        if (!(rate > 0 && rate < 1)) {
            throw new IllegalArgumentException("rate: " + rate + " (expected: 0 < rate < 1)");
        }
    }

    private static void checkRisk(double risk) {
        if (!(risk > 0 && risk < 1)) {
            throw new IllegalArgumentException("risk: " + risk + " (expected: 0 < risk < 1)");
        }
    }
}
