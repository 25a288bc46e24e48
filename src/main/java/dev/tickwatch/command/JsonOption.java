package dev.tickwatch.command;

import picocli.CommandLine.Option;

/** {@code --json}, declared here only: every command that prints data mixes it in. */
public final class JsonOption {

    public static final String NAME = "--json";

    @Option(names = NAME, description = "print JSON")
    boolean json;

    public boolean json() {
        return json;
    }

    /** Whether {@code --json} was given on this command or on a group above it ({@code guest --json timers}). */
    public static boolean given(picocli.CommandLine.Model.CommandSpec spec) {
        return Mixins.all(spec, JsonOption.class).stream().anyMatch(JsonOption::json);
    }
}
