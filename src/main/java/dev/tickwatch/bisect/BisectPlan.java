package dev.tickwatch.bisect;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.util.Json;
import java.util.Locale;

/**
 * What {@link Planner} decided, and how it reads.
 *
 * @param calibrationBoots boots of the bad revision in the calibration
 * @param calibrationHangs its hangs
 * @param rate             hangs / boots
 * @param low              lower end of the two-sided 95 % interval (the rate the plan assumes)
 * @param high             upper end
 * @param revisions        revisions in good..bad
 * @param steps            steps planned for ({@code ceil(log2(revisions + 1))})
 * @param bootsPerGood     clean boots that make a step good
 * @param risk             the stated chance that any good verdict is wrong (at rate {@code low})
 * @param overridden       whether {@code --boots-per-good} set the boots (then the risk follows from them)
 * @param bootsPerMin      measured boots per minute, NaN if unknown
 */
public record BisectPlan(long calibrationBoots, long calibrationHangs, double rate, double low, double high,
        long revisions, int steps, long bootsPerGood, double risk, boolean overridden, double bootsPerMin) {

    /** "bad hangs 3 in 2,410 boots: rate 1.2e-3 (95 % CI 2.6e-4..3.6e-3); 52,363 revisions, ~16 steps; ...". */
    public String text(String runner) {
        String s = String.format(Locale.ROOT, "bad hangs %d in %,d boots: rate %s (95 %% CI %s..%s); %,d revision%s, ~%d step%s;"
                        + " each good needs %,d boots%s (chance that any good verdict is wrong <= %s, if the rate is at least %s)",
                calibrationHangs, calibrationBoots, sci(rate), sci(low), sci(high), revisions, revisions == 1 ? "" : "s",
                steps, steps == 1 ? "" : "s", bootsPerGood, overridden ? " (--boots-per-good)" : "", percent(risk), sci(low));
        s += "; " + timeText(steps);
        if ("local".equals(runner)) {
            s += "; --runner slurm spreads each step";
        }
        return s;
    }

    /** "at most about 26 h at 62 boots/min (a bad step ends at its first hang)" for {@code stepsLeft} steps. */
    public String timeText(int stepsLeft) {
        if (!(bootsPerMin > 0)) {
            return "time unknown (no boot rate measured)";
        }
        double minutes = stepsLeft * (double) bootsPerGood / bootsPerMin;
        return String.format(Locale.ROOT, "at most about %s at %s boots/min (a bad step ends at its first hang)",
                duration(minutes * 60), bootsPerMin >= 10 ? String.format(Locale.ROOT, "%.0f", bootsPerMin)
                        : String.format(Locale.ROOT, "%.1f", bootsPerMin));
    }

    /** The same plan at a newly measured boot rate. */
    public BisectPlan withBootsPerMin(double r) {
        return new BisectPlan(calibrationBoots, calibrationHangs, rate, low, high, revisions, steps, bootsPerGood, risk,
                overridden, r);
    }

    public ObjectNode toJson() {
        return Json.object().put("calibration_boots", calibrationBoots).put("calibration_hangs", calibrationHangs)
                .put("rate", rate).put("rate_ci95_low", low).put("rate_ci95_high", high).put("revisions", revisions)
                .put("steps", steps).put("boots_per_good", bootsPerGood).put("risk", risk).put("boots_per_good_given", overridden)
                .put("boots_per_min", Double.isNaN(bootsPerMin) ? null : Math.round(bootsPerMin * 10) / 10.0);
    }

    /** 1.2e-3, as the issue writes rates (one decimal, no padded exponent). */
    public static String sci(double x) {
        if (x == 0) {
            return "0";
        }
        String s = String.format(Locale.ROOT, "%.1e", x);
        return s.replaceFirst("e([+-])0*(\\d)", "e$1$2").replace("e+", "e");
    }

    /** 1.0 %, 0.01 %: enough digits to see a small risk. */
    public static String percent(double p) {
        double pc = p * 100;
        if (pc >= 1 || pc == 0) {
            return String.format(Locale.ROOT, "%.1f %%", pc);
        }
        return String.format(Locale.ROOT, "%.2g %%", pc);
    }

    /** 26 h, 45 min, 30 s. */
    public static String duration(double seconds) {
        if (seconds >= 36 * 3600) {
            return String.format(Locale.ROOT, "%.0f h (%.1f days)", seconds / 3600, seconds / 86400);
        }
        if (seconds >= 2 * 3600) {
            return String.format(Locale.ROOT, "%.0f h", seconds / 3600);
        }
        if (seconds >= 120) {
            return String.format(Locale.ROOT, "%.0f min", seconds / 60);
        }
        return String.format(Locale.ROOT, "%.0f s", seconds);
    }
}
