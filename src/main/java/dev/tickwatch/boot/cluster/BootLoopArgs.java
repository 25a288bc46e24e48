package dev.tickwatch.boot.cluster;

import java.util.List;
import java.util.OptionalInt;

/**
 * The {@code boot-loop} arguments a step is run with, as the runners need to know them: the loop's
 * size (for boots no shard reported) and its workers (the CPUs a shard asks for). The runners add
 * {@code --shard} and {@code --results} themselves, so the arguments must not carry them.
 */
public record BootLoopArgs(List<String> args) {

    /** boot-loop's own defaults of {@code --boots} and {@code --parallel} (BootLoopCommand). */
    public static final int DEFAULT_BOOTS = 100;
    public static final int DEFAULT_PARALLEL = 2;

    /** boot-loop's options whose values are free text. */
    private static final java.util.Set<String> FREE_TEXT = java.util.Set.of("--append", "--success", "--qemu-arg");

    public BootLoopArgs {
        args = List.copyOf(args);
        for (String a : args) {
            if (a.equals("--shard") || a.startsWith("--shard=") || a.equals("--results") || a.startsWith("--results=")) {
                throw new IllegalArgumentException("boot-loop arguments: " + a + " is the runner's to give (it adds"
                        + " --shard I/N and --results WORKDIR/shard-I.jsonl)");
            }
            if (a.contains("\n") || a.contains("\0")) {
                throw new IllegalArgumentException("boot-loop arguments: a line break or NUL in '" + a.strip() + "'");
            }
        }
    }

    /** Boots in the whole loop: {@code --boots} / {@code -n}, else boot-loop's default. */
    public int boots() {
        return intOption("--boots", "-n").orElse(DEFAULT_BOOTS);
    }

    /** Parallel workers of each shard: {@code --parallel} / {@code -j}, else boot-loop's default. */
    public int parallel() {
        return intOption("--parallel", "-j").orElse(DEFAULT_PARALLEL);
    }

    /** The last value of the option (as picocli: {@code --long N}, {@code --long=N}, {@code -s N}, {@code -sN}). */
    private OptionalInt intOption(String longName, String shortName) {
        String value = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (FREE_TEXT.contains(a)) {
                i++; // its value may look like an option ("--append -n")
            } else if ((a.equals(longName) || a.equals(shortName)) && i + 1 < args.size()) {
                value = args.get(++i);
            } else if (a.startsWith(longName + "=")) {
                value = a.substring(longName.length() + 1);
            } else if (a.startsWith(shortName + "=")) {
                value = a.substring(shortName.length() + 1);
            } else if (a.matches(java.util.regex.Pattern.quote(shortName) + "\\d+")) {
                value = a.substring(shortName.length());
            }
        }
        if (value == null) {
            return OptionalInt.empty();
        }
        try {
            return OptionalInt.of(Integer.parseInt(value.strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("boot-loop arguments: " + longName + " '" + value + "' (expected: a number)");
        }
    }
}
