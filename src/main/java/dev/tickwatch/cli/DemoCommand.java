package dev.tickwatch.cli;

import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ExitCode;
import dev.tickwatch.command.JsonOption;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch demo}: a short {@code boot-loop} on the built-in appliance that shows the
 * whole path in about a minute: a few healthy boots on two workers, then one boot whose guest
 * loads the hang lab's {@code timer-stall-lost} module, caught as a hang, with its verdict and
 * diagnostics folder. It exits like boot-loop, so 1 (the injected hang was found) is success here.
 */
@CliOnly("boots guests of its own; the shell looks at one that runs")
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"A short boot loop that catches a planted hang.",
            "Healthy boots of the built-in appliance on 2 workers, then one boot with an injected lab timer"
                + " stall (timer-stall-lost), caught as a hang.",
            "Exit code as boot-loop: 1 when the injected hang is found (the expected result), 0 if it was"
                + " missed, 125 if QEMU or the kernel is missing."})
final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--smp", defaultValue = "2", paramLabel = "N", description = "vCPUs (default: ${DEFAULT-VALUE})")
    int smp;

    @Option(names = "--healthy", paramLabel = "N", defaultValue = "4", description = "healthy boots before the stalled one (default: ${DEFAULT-VALUE})")
    int healthy;

    @Option(names = {"-j", "--parallel"}, paramLabel = "T", defaultValue = "2", description = "workers (default: ${DEFAULT-VALUE})")
    int parallel;

    // No defaultValue: picocli would apply it after the deprecated alias below set the field.
    @Option(names = "--console-silence", paramLabel = "S",
            description = "last resort: seconds of console silence that count as a hang (default: 60)")
    double consoleSilence = 60;

    @Option(names = "--stall", hidden = true, paramLabel = "S", description = "deprecated: --console-silence")
    void deprecatedStall(double s) {
        consoleSilence = s;
        deprecated = "--stall";
    }

    private String deprecated;

    @Option(names = "--diagnostics", paramLabel = "DIR", defaultValue = "tickwatch-hangs", description = "where the hang's diagnostics go (default: ${DEFAULT-VALUE})")
    Path diagnostics;

    @Mixin
    JsonOption jsonOption;

    @Override
    public Integer call() throws Exception {
        BootLoopCommand loop = new BootLoopCommand();
        loop.spec = spec;
        loop.boots = healthy + 1;
        loop.boot.parallel = parallel;
        loop.boot.smp = smp;
        loop.boot.memory = 256;
        loop.consoleSilence = consoleSilence;
        loop.deprecated = deprecated;
        loop.boot.timeout = 120;
        loop.boot.seed = 1;
        loop.diagnostics = diagnostics;
        loop.jsonOption = jsonOption;
        loop.labMode = "timer-stall-lost";
        loop.labAt = healthy;
        // One line per boot: the demo is short enough to show each.
        loop.progressInterval = 0;
        return loop.runLoop("demo", spec.commandLine().getOut(), spec.commandLine().getErr());
    }
}
