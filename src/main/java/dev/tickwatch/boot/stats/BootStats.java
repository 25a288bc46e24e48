package dev.tickwatch.boot.stats;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a boot loop (or a merge of shard files) adds up to: boots done, rate, boot-time
 * quantiles of the clean boots, hangs by verdict, and the one-sided 95 % Clopper–Pearson upper
 * bound on the hang rate ({@link ClopperPearson}). Pure: the same boots give the same numbers,
 * whichever process ran them.
 *
 * <p>Quantiles use the nearest-rank method (p95 of 8 boots is the 8th smallest), the median the
 * mean of the two middle values; NaN when there is no clean boot.
 *
 * @param done           boots that ran to an outcome (clean + hangs); cannot-test boots excluded
 * @param clean          boots that reached the success marker and exited
 * @param hangs          boots that hung or timed out
 * @param cannotTest     boots that could not run (QEMU did not start, firmware stuck)
 * @param hangsByVerdict verdict name to count, sorted by name
 * @param wallS          wall time the boots took, seconds
 * @param ratePerMin     boots done per minute of wall time (NaN without wall time)
 * @param medianS        median boot time of clean boots, seconds
 * @param p95S           95th percentile, seconds
 * @param p99S           99th percentile, seconds
 * @param upper95        one-sided 95 % upper bound on the hang rate (1 with no boot done)
 */
public record BootStats(long done, long clean, long hangs, long cannotTest, Map<String, Long> hangsByVerdict,
        double wallS, double ratePerMin, double medianS, double p95S, double p99S, double upper95) {

    /** How one boot ended, as far as statistics care. */
    public enum Result { CLEAN, HANG, CANNOT_TEST }

    /** One boot: its result, the verdict for a hang (else null), its boot time in seconds. */
    public record Boot(Result result, String verdict, double bootS) {
    }

    public BootStats {
        hangsByVerdict = Collections.unmodifiableMap(new TreeMap<>(hangsByVerdict));
    }

    /** Statistics of {@code boots} done in {@code wallS} seconds of wall time. */
    public static BootStats of(List<Boot> boots, double wallS) {
        long clean = 0;
        long hangs = 0;
        long cannot = 0;
        Map<String, Long> byVerdict = new TreeMap<>();
        List<Double> times = new ArrayList<>();
        for (Boot b : boots) {
            switch (b.result()) {
                case CLEAN:
                    clean++;
                    times.add(b.bootS());
                    break;
                case HANG:
                    hangs++;
                    byVerdict.merge(b.verdict() == null ? "UNKNOWN" : b.verdict(), 1L, Long::sum);
                    break;
                default:
                    cannot++;
                    break;
            }
        }
        Collections.sort(times);
        long done = clean + hangs;
        double rate = wallS > 0 ? done * 60.0 / wallS : Double.NaN;
        return new BootStats(done, clean, hangs, cannot, byVerdict, wallS, rate, median(times),
                nearestRank(times, 0.95), nearestRank(times, 0.99),
                done == 0 ? 1.0 : ClopperPearson.upper95(hangs, done));
    }

    /** Total boots (done so far plus more) needed for the bound to reach {@code targetRate}, if no hang follows. */
    public long bootsFor(double targetRate) {
        return ClopperPearson.bootsFor(hangs, done, targetRate);
    }

    /** "0 hangs in 10,000 boots: rate < 3.0e-04 (95%), fewer than 1 in 3,330 boots". */
    public String boundLine() {
        return String.format(java.util.Locale.ROOT, "%d hang%s in %,d boots: rate < %.1e (95%%), %s", hangs,
                hangs == 1 ? "" : "s", done, upper95, inWords(upper95));
    }

    /**
     * A rate bound as a person reads it: {@code fewer than 1 in 3,330 boots} for 3.0e-4. The count
     * is rounded down to three digits, so that the words never claim more than the number.
     */
    public static String inWords(double upper) {
        if (!(upper > 0) || upper >= 0.5) {
            return "too few boots to say fewer than 1 in 2";
        }
        long every = (long) Math.floor(1 / upper * (1 + 1e-9)); // 1/1e-3 is 999.99...
        long scale = 1;
        while (every / scale >= 1000) {
            scale *= 10;
        }
        return String.format(java.util.Locale.ROOT, "fewer than 1 in %,d boots", every / scale * scale);
    }

    static double median(List<Double> sorted) {
        int n = sorted.size();
        if (n == 0) {
            return Double.NaN;
        }
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    static double nearestRank(List<Double> sorted, double q) {
        int n = sorted.size();
        if (n == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q * n);
        return sorted.get(Math.max(0, Math.min(n, rank) - 1));
    }
}
