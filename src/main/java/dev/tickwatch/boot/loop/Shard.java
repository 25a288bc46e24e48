package dev.tickwatch.boot.loop;

import java.util.ArrayList;
import java.util.List;

/**
 * Shard {@code index} of {@code count}: takes the boots whose 0-based number is congruent to
 * {@code index} modulo {@code count}. Round-robin rather than ranges so a shard stopped early
 * still covers the whole loop evenly, and a lab boot at K lands in shard K mod N wherever the
 * shards run. Index is 0-based like Kubernetes' JOB_COMPLETION_INDEX.
 */
public record Shard(int index, int count) {

    public static final Shard WHOLE = new Shard(0, 1);

    public Shard {
        if (count < 1 || index < 0 || index >= count) {
            throw new IllegalArgumentException("shard: " + index + "/" + count + " (expected: 0 <= I < N)");
        }
    }

    /** Parses {@code I/N}. */
    public static Shard parse(String s) {
        int slash = s.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("shard: '" + s + "' (expected: I/N, e.g. 0/4)");
        }
        try {
            return new Shard(Integer.parseInt(s.substring(0, slash).strip()),
                    Integer.parseInt(s.substring(slash + 1).strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("shard: '" + s + "' (expected: I/N, e.g. 0/4)");
        }
    }

    public boolean owns(int boot) {
        return boot % count == index;
    }

    /** This shard's boot numbers out of {@code total}, ascending. */
    public List<Integer> boots(int total) {
        List<Integer> b = new ArrayList<>();
        for (int i = index; i < total; i += count) {
            b.add(i);
        }
        return b;
    }

    @Override
    public String toString() {
        return index + "/" + count;
    }
}
