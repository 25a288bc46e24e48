package dev.tickwatch.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A percentile bootstrap interval of a median: the pairs are drawn again with replacement many
 * times, each draw's median kept, and the middle 95 % of those medians is the interval. It says
 * how far the figure could move with other runs of the same machine, which a ratio of 1.005 needs
 * beside it before it means anything. Seeded: the same runs give the same interval.
 *
 * @param low      2.5th percentile of the resampled medians
 * @param median   the median of the values themselves
 * @param high     97.5th percentile
 * @param resamples how many draws
 */
record Bootstrap(double low, double median, double high, int resamples) {

    static final int RESAMPLES = 10_000;
    private static final long SEED = 17;

    static Bootstrap ofMedian(List<Double> values) {
        return ofMedian(values, RESAMPLES, SEED);
    }

    static Bootstrap ofMedian(List<Double> values, int resamples, long seed) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no values to resample");
        }
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        Random r = new Random(seed);
        double[] medians = new double[resamples];
        double[] draw = new double[v.length];
        for (int k = 0; k < resamples; k++) {
            for (int i = 0; i < v.length; i++) {
                draw[i] = v[r.nextInt(v.length)];
            }
            medians[k] = median(draw);
        }
        Arrays.sort(medians);
        return new Bootstrap(percentile(medians, 0.025), median(v.clone()), percentile(medians, 0.975), resamples);
    }

    /** Sorts {@code xs} in place. */
    static double median(double[] xs) {
        Arrays.sort(xs);
        int n = xs.length;
        return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
    }

    /** Of sorted {@code xs}: the nearest-rank percentile. */
    private static double percentile(double[] xs, double p) {
        int i = (int) Math.ceil(p * xs.length) - 1;
        return xs[Math.max(0, Math.min(xs.length - 1, i))];
    }
}
