package dev.tickwatch.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code tickwatch bench}: hidden measurements, not tests (speed goals live here, not in timed tests). */
@Command(name = "bench", hidden = true, mixinStandardHelpOptions = true,
        description = "Measurements: compares tickwatch with plain tools on the same work.",
        subcommands = {BenchBootLoopCommand.class, CommandLine.HelpCommand.class})
final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "choose a benchmark: boot-loop");
    }
}
