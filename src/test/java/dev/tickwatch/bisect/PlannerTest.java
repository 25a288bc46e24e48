package dev.tickwatch.bisect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.boot.stats.ClopperPearson;
import org.junit.jupiter.api.Test;

/** The planner's arithmetic, against closed forms and the issue's own example. */
class PlannerTest {

    @Test
    void stepsAreCeilLog2OfRevisionsPlusOne() {
        assertEquals(16, Planner.steps(52_363));
        assertEquals(16, Planner.steps(65_535));
        assertEquals(17, Planner.steps(65_536));
        assertEquals(5, Planner.steps(16));
        assertEquals(4, Planner.steps(15));
        assertEquals(1, Planner.steps(1));
        assertThrows(IllegalArgumentException.class, () -> Planner.steps(0));
    }

    @Test
    void theLowerBoundIsTheMirrorOfTheUpperOne() {
        // P(X >= k | p) = alpha is P(n - X <= n - k | 1 - p) = alpha: lower(k) = 1 - upper(n - k).
        for (int k = 1; k < 20; k++) {
            double lo = ClopperPearson.lower(k, 20, 0.025);
            assertEquals(1 - ClopperPearson.upper(20 - k, 20, 0.025), lo, 1e-9, "k=" + k);
        }
        assertEquals(0.0, ClopperPearson.lower(0, 100, 0.025));
        // k = n: the closed form alpha^(1/n).
        assertEquals(Math.pow(0.025, 1 / 10.0), ClopperPearson.lower(10, 10, 0.025), 1e-12);
    }

    @Test
    void theIssuesCalibrationGivesItsInterval() {
        // "bad hangs 3 in 2,410 boots: rate 1.2e-3 (95 % CI 2.6e-4..3.6e-3)"
        Planner.Calibration c = new Planner.Calibration(2410, 3);
        assertEquals("1.2e-3", BisectPlan.sci(c.rate()));
        assertEquals("2.6e-4", BisectPlan.sci(c.low()));
        assertEquals("3.6e-3", BisectPlan.sci(c.high()));
    }

    @Test
    void bootsPerGoodIsTheSmallestNThatMeetsTheRisk() {
        for (double p : new double[] {1e-3, 2.6e-4, 0.05, 0.25}) {
            for (int steps : new int[] {1, 5, 16}) {
                long n = Planner.bootsPerGood(p, steps, 0.01);
                assertTrue(steps * Math.pow(1 - p, n) <= 0.01, p + " " + steps);
                assertTrue(n == 1 || steps * Math.pow(1 - p, n - 1) > 0.01, p + " " + steps);
            }
        }
        // Closed form: 16 steps, rate 1e-3: ln(0.01/16) / ln(1 - 1e-3) = 7,374.3.
        assertEquals(7375, Planner.bootsPerGood(1e-3, 16, 0.01));
    }

    @Test
    void theRiskFollowsFromAGivenN() {
        BisectPlan p = Planner.plan(new Planner.Calibration(12, 3), 16, 0.01, 20L, 20);
        assertTrue(p.overridden());
        assertEquals(20, p.bootsPerGood());
        assertEquals(Math.min(1, 5 * Math.pow(1 - p.low(), 20)), p.risk(), 1e-12);
        BisectPlan planned = Planner.plan(new Planner.Calibration(12, 3), 16, 0.01, null, 20);
        assertFalse(planned.overridden());
        assertTrue(planned.risk() <= 0.01);
        assertTrue(planned.bootsPerGood() > 20);
    }

    @Test
    void thePlanReadsAsTheIssueWritesIt() {
        BisectPlan p = Planner.plan(new Planner.Calibration(2410, 3), 52_363, 0.01, null, 62);
        String t = p.text("local");
        assertTrue(t.startsWith("bad hangs 3 in 2,410 boots: rate 1.2e-3 (95 % CI 2.6e-4..3.6e-3); 52,363 revisions, ~16 steps;"
                + " each good needs "), t);
        assertTrue(t.contains(String.format(java.util.Locale.ROOT, "each good needs %,d boots", p.bootsPerGood())), t);
        assertTrue(t.contains("at 62 boots/min"), t);
        assertTrue(t.endsWith("--runner slurm spreads each step"), t);
        // 16 steps of N boots at 62 a minute.
        assertTrue(t.contains("at most about " + BisectPlan.duration(16.0 * p.bootsPerGood() / 62 * 60)), t);
    }

    @Test
    void noPlanWithoutAHang() {
        assertThrows(IllegalArgumentException.class, () -> Planner.plan(new Planner.Calibration(100, 0), 16, 0.01, null, 1));
        assertThrows(IllegalArgumentException.class, () -> new Planner.Calibration(0, 0));
    }
}
