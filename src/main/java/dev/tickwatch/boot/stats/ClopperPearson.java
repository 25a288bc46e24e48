package dev.tickwatch.boot.stats;

/**
 * Exact (Clopper–Pearson) upper confidence bound on a binomial proportion: the largest hang
 * rate p still compatible with seeing at most k hangs in n boots, i.e. the p that solves
 * {@code P(X <= k | n, p) = alpha}. That is the quantile {@code Beta(1 - alpha; k + 1, n - k)};
 * we solve the binomial tail directly by bisection, which is exact to double precision and
 * needs no incomplete-beta routine.
 *
 * <p>{@link #upper95} is ONE-SIDED at 95 % (alpha = 0.05): "the hang rate is below this bound
 * with 95 % confidence". For k = 0 it is {@code 1 - 0.05^(1/n)}, about 3/n (the rule of three).
 * The upper end of a two-sided 95 % interval is {@code upper(k, n, 0.025)}. Pure functions.
 */
public final class ClopperPearson {

    /** Confidence 95 %, one-sided. */
    public static final double ALPHA = 0.05;

    private ClopperPearson() {
    }

    /** One-sided 95 % upper bound on the rate after {@code k} hangs in {@code n} boots. */
    public static double upper95(long k, long n) {
        return upper(k, n, ALPHA);
    }

    /**
     * The p with {@code P(X <= k | n, p) = alpha}; 1 when k >= n (no information), and
     * {@code 1 - alpha^(1/n)} in closed form when k = 0.
     *
     * @throws IllegalArgumentException when n < 1, k < 0 or alpha not in (0, 1)
     */
    public static double upper(long k, long n, double alpha) {
        if (n < 1 || k < 0 || k > n) {
            throw new IllegalArgumentException("k, n: " + k + ", " + n + " (expected: 0 <= k <= n, n >= 1)");
        }
        if (!(alpha > 0 && alpha < 1)) {
            throw new IllegalArgumentException("alpha: " + alpha + " (expected: 0 < alpha < 1)");
        }
        if (k == n) {
            return 1.0;
        }
        if (k == 0) {
            // -expm1(log(alpha)/n) keeps precision for large n, where 1 - x would cancel.
            return -Math.expm1(Math.log(alpha) / n);
        }
        // P(X <= k | p) falls monotonically in p: bisect on it.
        double lo = (double) k / n;
        double hi = 1.0;
        for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
            double mid = (lo + hi) / 2;
            if (binomialCdf(k, n, mid) > alpha) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return (lo + hi) / 2;
    }

    /**
     * The lower bound: the p with {@code P(X >= k | n, p) = alpha}; 0 when k = 0. With
     * {@link #upper(long, long, double)} at the same alpha it makes the two-sided
     * {@code 1 - 2 alpha} interval ({@code alpha = 0.025}: 95 %). Sums k terms, not n - k: cheap
     * for a rare hang seen a few times in many boots.
     *
     * @throws IllegalArgumentException when n < 1, k < 0, k > n or alpha not in (0, 1)
     */
    public static double lower(long k, long n, double alpha) {
        if (n < 1 || k < 0 || k > n) {
            throw new IllegalArgumentException("k, n: " + k + ", " + n + " (expected: 0 <= k <= n, n >= 1)");
        }
        if (!(alpha > 0 && alpha < 1)) {
            throw new IllegalArgumentException("alpha: " + alpha + " (expected: 0 < alpha < 1)");
        }
        if (k == 0) {
            return 0.0;
        }
        if (k == n) {
            return Math.exp(Math.log(alpha) / n);
        }
        // P(X >= k | p) = 1 - P(X <= k - 1 | p) rises monotonically in p: bisect on it.
        double lo = 0;
        double hi = (double) k / n;
        for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
            double mid = (lo + hi) / 2;
            if (1 - binomialCdf(k - 1, n, mid) < alpha) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return (lo + hi) / 2;
    }

    /**
     * Boots in total (done plus still to do) after which k hangs would give an upper bound at or
     * below {@code target}, assuming no further hang; {@code n} itself if it is already there.
     */
    public static long bootsFor(long k, long n, double target) {
        if (!(target > 0 && target < 1)) {
            throw new IllegalArgumentException("target rate: " + target + " (expected: 0 < rate < 1)");
        }
        long have = Math.max(n, k + 1);
        if (upper95(k, have) <= target) {
            return have;
        }
        if (k == 0) {
            // Closed form, then a step to absorb rounding.
            long m = (long) Math.ceil(Math.log(ALPHA) / Math.log1p(-target));
            while (upper95(0, m) > target) {
                m++;
            }
            while (m > 1 && upper95(0, m - 1) <= target) {
                m--;
            }
            return Math.max(m, n);
        }
        long lo = have;
        long hi = have;
        while (upper95(k, hi) > target) {
            lo = hi;
            hi = hi * 2;
        }
        while (hi - lo > 1) {
            long mid = lo + (hi - lo) / 2;
            if (upper95(k, mid) <= target) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return hi;
    }

    /** P(X <= k) for X ~ Binomial(n, p), summed in log space so large n does not underflow. */
    static double binomialCdf(long k, long n, double p) {
        if (p <= 0) {
            return 1;
        }
        if (p >= 1) {
            return k >= n ? 1 : 0;
        }
        double lp = Math.log(p);
        double lq = Math.log1p(-p);
        double lnN = lgamma(n + 1.0);
        double sum = 0;
        for (long j = 0; j <= k; j++) {
            sum += Math.exp(lnN - lgamma(j + 1.0) - lgamma(n - j + 1.0) + j * lp + (n - j) * lq);
        }
        return Math.min(1, sum);
    }

    /** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: about 15 significant digits). */
    static double lgamma(double x) {
        if (x < 0.5) {
            return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
        }
        x -= 1;
        double a = LANCZOS[0];
        double t = x + 7.5;
        for (int i = 1; i < 9; i++) {
            a += LANCZOS[i] / (x + i);
        }
        return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
    }

    private static final double[] LANCZOS = {
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
        1.5056327351493116e-7,
    };
}
