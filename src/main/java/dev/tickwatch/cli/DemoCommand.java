package dev.tickwatch.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch demo}: a short {@code boot-loop} on the built-in appliance that shows the
 * whole path in about a minute: a few healthy boots on two workers, then one boot whose guest
 * loads the hang lab's {@code timer-stall-lost} module, caught as a hang, with its verdict and
 * diagnostics folder. It exits like boot-loop, so 1 (the injected hang was found) is success here.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"A short boot loop on the built-in appliance: healthy boots on 2 workers, then one boot",
            "with an injected lab timer stall (timer-stall-lost), caught as a hang; about a minute.",
            "Exit code as boot-loop: 1 when the injected hang is found (the expected result),",
            "0 if it was missed, 125 if QEMU or the kernel is missing."})
final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--smp", defaultValue = "2", description = "vCPUs (default: ${DEFAULT-VALUE})")
    int smp;

    @Option(names = "--healthy", paramLabel = "N", defaultValue = "4", description = "healthy boots before the stalled one (default: ${DEFAULT-VALUE})")
    int healthy;

    @Option(names = "--parallel", paramLabel = "T", defaultValue = "2", description = "workers (default: ${DEFAULT-VALUE})")
    int parallel;

    @Option(names = "--stall", paramLabel = "S", defaultValue = "60", description = "last resort: console silence that counts as a hang (default: ${DEFAULT-VALUE})")
    double stall;

    @Option(names = "--diagnostics", paramLabel = "DIR", defaultValue = "tickwatch-hangs", description = "where the hang's diagnostics go (default: ${DEFAULT-VALUE})")
    Path diagnostics;

    @Option(names = "--json", description = "print one JSON object at the end (progress goes to stderr)")
    boolean json;

    @Override
    public Integer call() throws Exception {
        BootLoopCommand loop = new BootLoopCommand();
        loop.spec = spec;
        loop.boots = healthy + 1;
        loop.parallel = parallel;
        loop.smp = smp;
        loop.memory = 256;
        loop.stall = stall;
        loop.timeout = 120;
        loop.seed = 1;
        loop.diagnostics = diagnostics;
        loop.json = json;
        loop.labMode = "timer-stall-lost";
        loop.labAt = healthy;
        // One line per boot: the demo is short enough to show each.
        loop.progressInterval = 0;
        return loop.runLoop("demo", spec.commandLine().getOut(), spec.commandLine().getErr());
    }
}
