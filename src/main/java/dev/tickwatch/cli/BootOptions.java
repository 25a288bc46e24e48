package dev.tickwatch.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * How each boot of a loop runs: the options `boot-loop` and `bisect` share (bisect's batches are
 * boot loops), declared once so both spell and document them alike.
 */
final class BootOptions {

    @Option(names = {"-j", "--parallel"}, paramLabel = "T", defaultValue = "2", description = "parallel workers (default: ${DEFAULT-VALUE})")
    int parallel;

    @Option(names = "--smp", paramLabel = "N", defaultValue = "2", description = "vCPUs (default: ${DEFAULT-VALUE})")
    int smp;

    @Option(names = "--memory", paramLabel = "MiB", defaultValue = "256", description = "guest memory in MiB (default: ${DEFAULT-VALUE})")
    int memory;

    @Option(names = "--qemu-arg", paramLabel = "ARG", description = "extra QEMU argument (repeatable)")
    List<String> qemuArgs = new ArrayList<>();

    @Option(names = "--timeout", paramLabel = "S", defaultValue = "300", description = "last resort per boot, seconds (default: ${DEFAULT-VALUE})")
    double timeout;

    @Option(names = "--load", paramLabel = "N", defaultValue = "0", description = "busy host threads during the loop (default: ${DEFAULT-VALUE})")
    int load;

    @Option(names = "--jitter", description = "vary vCPUs (1..smp) and start times (0-500 ms) per boot, from the seed")
    boolean jitter;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "the loop's seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--vmcore", description = "with the hang's snapshot, a vmcore that crash and drgn open (kdump-zlib)")
    boolean vmcore;
}
