package dev.tickwatch.bisect;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Simulated bisections with known rates, to check {@link Planner}'s stated risk against what
 * happens (issue 16, part 2). A linear history of R revisions after the good one; a uniformly
 * drawn culprit c; revisions from c on hang with probability {@code bad} per boot, those before
 * it with {@code latent} (0: the bug is the culprit's alone). Each bisection first calibrates on
 * the bad revision (boots until k hangs), plans with the real {@link Planner}, then bisects by
 * midpoints as git does on a line: a step is bad at its first hang within N boots, else good.
 * A step's N boots are drawn at once ({@code P(no hang in N) = (1 - p)^N}), so 10,000 bisections
 * take well under a second.
 *
 * @param trials     bisections
 * @param wrong      bisections that named another commit than the culprit
 * @param statedRisk mean of the plans' stated risks
 * @param meanBoots  mean boots per bisection, calibration included
 */
public record BisectSimulation(int trials, int wrong, double statedRisk, double meanBoots) {

    /** What to simulate. {@code bootsPerGood} null: planned; else given (the risk follows from it). */
    public record Setup(long revisions, double bad, double latent, int calibrateHangs, double risk, Long bootsPerGood) {
    }

    public double wrongRate() {
        return (double) wrong / trials;
    }

    public static BisectSimulation run(Setup s, int trials, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int wrong = 0;
        double riskSum = 0;
        double bootSum = 0;
        for (int t = 0; t < trials; t++) {
            long n = 0;
            for (int h = 0; h < s.calibrateHangs(); h++) {
                n += geometric(rnd, s.bad());
            }
            BisectPlan plan = Planner.plan(new Planner.Calibration(n, s.calibrateHangs()), s.revisions(), s.risk(),
                    s.bootsPerGood(), Double.NaN);
            riskSum += plan.risk();
            long boots = n;
            long culprit = 1 + rnd.nextLong(s.revisions());
            // Revision 0 is good, revision R bad; the first bad lies in (lo, hi].
            long lo = 0;
            long hi = s.revisions();
            while (hi - lo > 1) {
                long mid = lo + (hi - lo) / 2;
                double p = mid >= culprit ? s.bad() : s.latent();
                boolean hung;
                if (p <= 0) {
                    hung = false;
                    boots += plan.bootsPerGood();
                } else {
                    long first = geometric(rnd, p);
                    hung = first <= plan.bootsPerGood();
                    boots += hung ? first : plan.bootsPerGood();
                }
                if (hung) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            if (hi != culprit) {
                wrong++;
            }
            bootSum += boots;
        }
        return new BisectSimulation(trials, wrong, riskSum / trials, bootSum / trials);
    }

    /** Boots up to and including the first hang, for a hang rate p. */
    static long geometric(SplittableRandom rnd, double p) {
        if (p >= 1) {
            return 1;
        }
        double u = 1 - rnd.nextDouble(); // (0, 1]
        return Math.max(1, (long) Math.ceil(Math.log(u) / Math.log1p(-p)));
    }

    /** One line for the README: "rate 1.0e-3, 1,000 revisions, planned: wrong 3 of 10,000 (0.03 %), stated <= 1.0 %". */
    public String line(Setup s) {
        return String.format(Locale.ROOT, "bad rate %s%s, %,d revisions, k = %d, %s: wrong culprit %d of %,d (%s), stated risk %s,"
                        + " %,.0f boots per bisection",
                BisectPlan.sci(s.bad()), s.latent() > 0 ? " (latent " + BisectPlan.sci(s.latent()) + ")" : "", s.revisions(),
                s.calibrateHangs(), s.bootsPerGood() == null ? "planned N" : "N = " + s.bootsPerGood(), wrong, trials,
                BisectPlan.percent(wrongRate()), BisectPlan.percent(statedRisk), meanBoots);
    }
}
