package dev.tickwatch.bench;

import dev.tickwatch.bisect.BisectPlan;
import dev.tickwatch.bisect.BisectSimulation;
import dev.tickwatch.bisect.Planner;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ExitCode;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch bench bisect-sim}: the README's figure for the bisect planner. Simulated
 * bisections with known rates, wrong-culprit rate against stated risk; and the planner's words
 * for the background story (1 hang in about 1,000 boots, 52,363 commits).
 */
@CliOnly("a benchmark: figures, not a look at a guest")
@Command(name = "bisect-sim", mixinStandardHelpOptions = true,
        description = {"Simulates bisections with known hang rates: wrong culprits against the planner's stated risk.",
            "Also prints the plan for 1 hang in about 1,000 boots over 52,363 commits."})
final class BisectSimBench implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--trials", paramLabel = "N", defaultValue = "10000", description = "bisections per setting (default: ${DEFAULT-VALUE})")
    int trials;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "the simulation's seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<BisectSimulation.Setup> setups = List.of(
                new BisectSimulation.Setup(52_363, 1e-3, 0, 3, 0.01, null),
                new BisectSimulation.Setup(52_363, 1e-3, 0, 10, 0.01, null),
                new BisectSimulation.Setup(1_000, 1e-2, 0, 3, 0.01, null),
                new BisectSimulation.Setup(16, 0.25, 0, 3, 0.01, null),
                new BisectSimulation.Setup(16, 0.25, 0, 3, 0.01, 12L),
                new BisectSimulation.Setup(1_000, 1e-2, 0, 3, 0.01, 300L));
        int i = 0;
        for (BisectSimulation.Setup s : setups) {
            out.println(BisectSimulation.run(s, trials, seed + i++).line(s));
        }
        out.println();
        out.println("The background story: 1 hang in about 1,000 boots, 52,363 commits, 62 boots/min:");
        for (int k : new int[] {3, 5, 10}) {
            // The calibration as expected: k hangs in about k / rate boots.
            BisectPlan p = Planner.plan(new Planner.Calibration(k * 1000L, k), 52_363, Planner.DEFAULT_RISK, null, 62);
            out.println("  --calibrate-hangs " + k + ": " + p.text("local"));
        }
        out.flush();
        return ExitCode.OK;
    }
}
