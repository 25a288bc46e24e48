package dev.tickwatch.bisect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * 10,000 simulated bisections per setting with known rates: the observed wrong-culprit rate stays
 * under the stated risk (issue 16, part 2). The lines printed are the README's figure.
 */
class BisectSimulationTest {

    private static final int TRIALS = 10_000;

    private static BisectSimulation check(BisectSimulation.Setup s, long seed) {
        BisectSimulation r = BisectSimulation.run(s, TRIALS, seed);
        System.out.println("bisect-sim: " + r.line(s));
        assertEquals(TRIALS, r.trials());
        assertTrue(r.wrongRate() <= r.statedRisk(), r.line(s));
        return r;
    }

    @Test
    void plannedBisectionsStayUnderTheirRisk() {
        check(new BisectSimulation.Setup(1_000, 1e-3, 0, 3, 0.01, null), 1);
        check(new BisectSimulation.Setup(52_363, 1e-3, 0, 3, 0.01, null), 2);
        check(new BisectSimulation.Setup(16, 0.25, 0, 3, 0.01, null), 3);
        check(new BisectSimulation.Setup(52_363, 1e-3, 0, 10, 0.01, null), 4);
    }

    @Test
    void aGivenNStatesTheRiskItLeaves() {
        // Few boots per good: a stated risk of tens of percent, and wrong culprits do happen.
        BisectSimulation r = check(new BisectSimulation.Setup(16, 0.25, 0, 3, 0.01, 6L), 5);
        assertTrue(r.wrong() > 0, "6 boots at 25 % miss a bad revision now and then");
        check(new BisectSimulation.Setup(1_000, 1e-2, 0, 3, 0.01, 300L), 6);
    }

    @Test
    void theSimulationSeesWrongCulprits() {
        // Not vacuous: 30 boots at 5 % miss a bad revision 21 % of the time (0.95^30), and the
        // simulation counts the wrong culprits that follow.
        BisectSimulation.Setup s = new BisectSimulation.Setup(1_000, 0.05, 0, 3, 0.01, 30L);
        BisectSimulation r = BisectSimulation.run(s, TRIALS, 7);
        assertTrue(r.wrongRate() > 0.2 && r.wrongRate() <= r.statedRisk(), r.line(s));
    }
}
