package dev.tickwatch.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BootstrapTest {

    @Test
    void identicalValuesGiveAPointInterval() {
        Bootstrap b = Bootstrap.ofMedian(List.of(1.02, 1.02, 1.02, 1.02));
        assertEquals(1.02, b.low());
        assertEquals(1.02, b.median());
        assertEquals(1.02, b.high());
    }

    @Test
    void intervalHoldsTheMedianAndNarrowsWithMorePairs() {
        Random r = new Random(3);
        List<Double> few = new ArrayList<>();
        List<Double> many = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            double x = 1.0 + r.nextGaussian() * 0.03;
            if (i < 10) {
                few.add(x);
            }
            many.add(x);
        }
        Bootstrap a = Bootstrap.ofMedian(few);
        Bootstrap b = Bootstrap.ofMedian(many);
        assertTrue(a.low() <= a.median() && a.median() <= a.high(), a.toString());
        assertTrue(b.low() <= b.median() && b.median() <= b.high(), b.toString());
        assertTrue(b.high() - b.low() < (a.high() - a.low()) / 2, a + " vs " + b);
        // The true median (1.0) lies in the interval of the large sample.
        assertTrue(b.low() < 1.0 && 1.0 < b.high(), b.toString());
        // Seeded: the same values give the same interval.
        assertEquals(a, Bootstrap.ofMedian(few));
    }

    @Test
    void evenCountMedianIsTheMiddleMean() {
        assertEquals(2.5, Bootstrap.median(new double[] {4, 1, 3, 2}));
    }
}
