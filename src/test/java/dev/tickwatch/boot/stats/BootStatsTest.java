package dev.tickwatch.boot.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.boot.stats.BootStats.Boot;
import dev.tickwatch.boot.stats.BootStats.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BootStatsTest {

    /**
     * 0 failures in n trials, one-sided 95 %: P(no failure) = (1-p)^n = 0.05, so the bound is
     * 1 - 0.05^(1/n), about 3/n (the rule of three). By hand: n = 3000: ln 0.05 / 3000 =
     * -2.9957323 / 3000 = -9.985774e-4, 1 - e^that = 9.980790e-4 (scipy.stats.beta.ppf(0.95, 1,
     * 3000) = 0.000998079012); n = 10000: 2.99528e-4; n = 1: 1 - 0.05 = 0.95.
     */
    @Test
    void ruleOfThreeForZeroHangs() {
        assertEquals(2.99528e-4, ClopperPearson.upper95(0, 10_000), 1e-9);
        assertEquals(9.98079012e-4, ClopperPearson.upper95(0, 3000), 1e-12);
        assertEquals(0.95, ClopperPearson.upper95(0, 1), 1e-12);
    }

    @Test
    void oneHangInHundredOneSidedAndTwoSided() {
        // Known values: exact binomial upper limit for 1 of 100.
        assertEquals(0.0466, ClopperPearson.upper95(1, 100), 5e-5);
        assertEquals(0.0545, ClopperPearson.upper(1, 100, 0.025), 5e-5);
    }

    @Test
    void matchesBetaQuantilesForLargerCounts() {
        // Beta(0.95; k+1, n-k), from scipy.stats.beta.ppf: (6, 995) = 0.0104840769, (3, 98) = 0.0616192004.
        assertEquals(0.0104840769, ClopperPearson.upper95(5, 1000), 1e-9);
        assertEquals(0.0616192004, ClopperPearson.upper95(2, 100), 1e-9);
        // Two-sided 95 % for 1 of 100 to more digits: beta.ppf(0.975, 2, 99) = 0.0544593854.
        assertEquals(0.0544593854, ClopperPearson.upper(1, 100, 0.025), 1e-9);
        assertEquals(0.0465598115, ClopperPearson.upper95(1, 100), 1e-9); // beta.ppf(0.95, 2, 99)
        assertEquals(1.0, ClopperPearson.upper95(3, 3));
    }

    @Test
    void boundFallsWithMoreBootsAndRisesWithHangs() {
        assertTrue(ClopperPearson.upper95(0, 200) < ClopperPearson.upper95(0, 100));
        assertTrue(ClopperPearson.upper95(1, 100) > ClopperPearson.upper95(0, 100));
    }

    @Test
    void bootsStillNeededForATarget() {
        // 0 hangs: ln(0.05)/ln(1-1e-3) = 2994.2 -> 2995 boots.
        assertEquals(2995, ClopperPearson.bootsFor(0, 100, 1e-3));
        assertTrue(ClopperPearson.upper95(0, 2995) <= 1e-3);
        assertTrue(ClopperPearson.upper95(0, 2994) > 1e-3);
        assertEquals(5000, ClopperPearson.bootsFor(0, 5000, 1e-3), "already there");
        long n1 = ClopperPearson.bootsFor(1, 100, 1e-3);
        assertTrue(ClopperPearson.upper95(1, n1) <= 1e-3);
        assertTrue(ClopperPearson.upper95(1, n1 - 1) > 1e-3);
        assertEquals(4742, n1, 2); // 4.7439/n: the Poisson-limit factor for k = 1
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> ClopperPearson.upper95(2, 1));
        assertThrows(IllegalArgumentException.class, () -> ClopperPearson.upper95(0, 0));
        assertThrows(IllegalArgumentException.class, () -> ClopperPearson.upper(0, 10, 1.5));
        assertThrows(IllegalArgumentException.class, () -> ClopperPearson.bootsFor(0, 10, 0));
    }

    @Test
    void lgammaAgreesWithFactorials() {
        assertEquals(Math.log(3628800), ClopperPearson.lgamma(11), 1e-12);
        assertEquals(0.5 * Math.log(Math.PI), ClopperPearson.lgamma(0.5), 1e-12);
    }

    @Test
    void countsQuantilesAndVerdicts() {
        List<Boot> boots = new ArrayList<>();
        for (int i = 1; i <= 100; i++) {
            boots.add(new Boot(Result.CLEAN, null, i / 10.0));
        }
        boots.add(new Boot(Result.HANG, "TIMER_STALL", 0));
        boots.add(new Boot(Result.HANG, "TIMER_STALL", 0));
        boots.add(new Boot(Result.HANG, "SPIN_LOCKUP", 0));
        boots.add(new Boot(Result.CANNOT_TEST, null, 0));
        BootStats s = BootStats.of(boots, 60);
        assertEquals(103, s.done());
        assertEquals(100, s.clean());
        assertEquals(3, s.hangs());
        assertEquals(1, s.cannotTest());
        assertEquals(Map.of("SPIN_LOCKUP", 1L, "TIMER_STALL", 2L), s.hangsByVerdict());
        assertEquals(5.05, s.medianS(), 1e-9);
        assertEquals(9.5, s.p95S(), 1e-9);
        assertEquals(9.9, s.p99S(), 1e-9);
        assertEquals(103, s.ratePerMin(), 1e-9);
        // 3 hangs in the 103 boots that tested something: beta.ppf(0.95, 4, 100) = 0.0735567882
        // (scipy; the same p solves sum_{i<=3} C(103,i) p^i (1-p)^(103-i) = 0.05 by bisection).
        assertEquals(0.0735567882, s.upper95(), 1e-9);
    }

    @Test
    void boundLineReadsLikeTheRuleOfThree() {
        List<Boot> boots = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            boots.add(new Boot(Result.CLEAN, null, 4.0));
        }
        BootStats s = BootStats.of(boots, 0);
        assertEquals("0 hangs in 10,000 boots: rate < 3.0e-04 (95%), fewer than 1 in 3,330 boots", s.boundLine());
        assertTrue(Double.isNaN(s.ratePerMin()));
        assertEquals(29_956, s.bootsFor(1e-4));
    }

    @Test
    void ratesInWordsNeverClaimMoreThanTheNumber() {
        assertEquals("fewer than 1 in 3 boots", BootStats.inWords(0.31));
        assertEquals("fewer than 1 in 1,000 boots", BootStats.inWords(1e-3));
        assertEquals("fewer than 1 in 2,560 boots", BootStats.inWords(3.9e-4));
        assertEquals("too few boots to say fewer than 1 in 2", BootStats.inWords(0.66));
        for (double r : new double[] {0.31, 0.2, 1.17e-3, 3.9e-4, 7.77e-6}) {
            String n = BootStats.inWords(r).replaceAll(".* in ([0-9,]+) boots", "$1").replace(",", "");
            assertTrue(1.0 / Long.parseLong(n) >= r, r + ": " + n);
        }
    }

    @Test
    void noCleanBootGivesNaNQuantiles() {
        BootStats s = BootStats.of(List.of(new Boot(Result.HANG, "PANICKED", 0)), 10);
        assertTrue(Double.isNaN(s.medianS()));
        assertEquals(1.0, s.upper95(), "one hang in one boot says nothing");
        assertEquals(1.0, BootStats.of(List.of(), 0).upper95());
    }
}
