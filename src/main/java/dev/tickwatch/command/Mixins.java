package dev.tickwatch.command;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Finds a command's mixins, nearest first: the command's own, then its group's ({@code guest},
 * {@code gdb}). Picocli's inherited options cannot be used for that, because a subcommand that
 * mixes in the same option (as every shell command must) clashes with an inherited copy.
 */
public final class Mixins {

    private Mixins() {
    }

    /** The mixins of {@code type} on {@code spec} and its parents, nearest first. */
    public static <M> List<M> all(CommandSpec spec, Class<M> type) {
        List<M> found = new ArrayList<>();
        for (CommandSpec s = spec; s != null; s = s.parent()) {
            for (CommandSpec m : s.mixins().values()) {
                if (type.isInstance(m.userObject())) {
                    found.add(type.cast(m.userObject()));
                }
            }
        }
        return found;
    }

    /** The nearest non-null value that {@code get} reads from a mixin of {@code type}. */
    public static <M, T> Optional<T> nearest(CommandSpec spec, Class<M> type, Function<M, T> get) {
        return all(spec, type).stream().map(get).filter(Objects::nonNull).findFirst();
    }
}
