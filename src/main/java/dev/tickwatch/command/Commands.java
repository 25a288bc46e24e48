package dev.tickwatch.command;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** Small things every command needs the same way. */
public final class Commands {

    private Commands() {
    }

    /**
     * How a command names itself in its messages: {@code tickwatch guest sym} in the CLI (the root
     * is {@code tickwatch}), {@code tickwatch sym} in the shell (whose root has no name).
     */
    public static String who(CommandSpec spec) {
        String q = spec.qualifiedName().strip();
        return q.startsWith("tickwatch") ? q : "tickwatch " + q;
    }

    /**
     * A value {@code call()} refuses, as a usage error: the one error handler exits
     * {@link ExitCode#USAGE} and says where help is, as for a value picocli refuses itself.
     */
    public static CommandLine.ParameterException usage(CommandSpec spec, String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
