package dev.tickwatch.boot.cluster;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.boot.loop.BootRecord;
import dev.tickwatch.boot.loop.MergedResults;
import dev.tickwatch.util.IoErrors;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The files the shards of one step write into the work folder, which every node sees at the same
 * path (a shared file system): {@code shard-I.jsonl} (boot-loop {@code --results}), {@code shard-I.rc}
 * (the shard's exit code, written last, so a shard killed on the way has none) and
 * {@code shard-I.log}. Read while the shards run: each call to {@link #poll} takes the complete
 * lines added since the last, so a line half-written at that moment is read whole next time.
 */
public final class ShardFiles {

    private final Path dir;
    private final int shards;
    private final long[] position;
    private final List<List<BootRecord>> records = new ArrayList<>();

    /** The files of {@code shards} shards in {@code dir}. */
    public ShardFiles(Path dir, int shards) {
        if (shards < 1) {
            throw new IllegalArgumentException("shards: " + shards + " (expected: >= 1)");
        }
        this.dir = dir.toAbsolutePath();
        this.shards = shards;
        this.position = new long[shards];
        for (int i = 0; i < shards; i++) {
            records.add(new ArrayList<>());
        }
    }

    public Path dir() {
        return dir;
    }

    public int shards() {
        return shards;
    }

    public Path results(int shard) {
        return dir.resolve("shard-" + shard + ".jsonl");
    }

    public Path exitCodeFile(int shard) {
        return dir.resolve("shard-" + shard + ".rc");
    }

    public Path log(int shard) {
        return dir.resolve("shard-" + shard + ".log");
    }

    /**
     * Creates the folder and removes what an earlier run of the step left there (results files
     * append, and an old hang must not stop or decide this run).
     */
    public void clear() {
        try {
            Files.createDirectories(dir);
            for (int i = 0; i < shards; i++) {
                Files.deleteIfExists(results(i));
                Files.deleteIfExists(exitCodeFile(i));
                Files.deleteIfExists(log(i));
            }
        } catch (IOException e) {
            throw new ClusterException("cannot prepare " + dir + ": " + IoErrors.reason(e), e);
        }
    }

    /**
     * Reads the complete lines added to every results file since the last call.
     *
     * @return the records that were new
     * @throws TickwatchException on a line that is not a boot record (file and line named)
     */
    public List<BootRecord> poll() {
        List<BootRecord> fresh = new ArrayList<>();
        for (int i = 0; i < shards; i++) {
            fresh.addAll(pollShard(i));
        }
        return fresh;
    }

    private List<BootRecord> pollShard(int i) {
        Path f = results(i);
        byte[] added;
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
            long len = raf.length();
            if (len <= position[i]) {
                return List.of();
            }
            added = new byte[(int) Math.min(len - position[i], Integer.MAX_VALUE - 8)];
            raf.seek(position[i]);
            raf.readFully(added);
        } catch (java.io.FileNotFoundException e) {
            return List.of(); // the shard has not started yet
        } catch (IOException e) {
            throw new TickwatchException("cannot read " + f + ": " + IoErrors.reason(e), e);
        }
        int end = lastNewline(added);
        if (end < 0) {
            return List.of();
        }
        String text = new String(added, 0, end + 1, StandardCharsets.UTF_8);
        position[i] += end + 1;
        List<BootRecord> rs = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            try {
                rs.add(BootRecord.parse(line));
            } catch (TickwatchException | IllegalArgumentException e) {
                throw new TickwatchException(f + ": " + e.getMessage(), e);
            }
        }
        records.get(i).addAll(rs);
        return rs;
    }

    private static int lastNewline(byte[] b) {
        for (int k = b.length - 1; k >= 0; k--) {
            if (b[k] == '\n') {
                return k;
            }
        }
        return -1;
    }

    /** Hangs and timeouts read so far, all shards. */
    public int bad() {
        return (int) records.stream().flatMap(List::stream).filter(r -> r.outcome().isBad()).count();
    }

    /** Records read so far from shard {@code i}. */
    public List<BootRecord> records(int i) {
        return List.copyOf(records.get(i));
    }

    /** The shard's exit code, if it wrote one (it ended on its own). */
    public OptionalInt exitCode(int shard) {
        try {
            return OptionalInt.of(Integer.parseInt(Files.readString(exitCodeFile(shard)).strip()));
        } catch (NoSuchFileException e) {
            return OptionalInt.empty();
        } catch (IOException | NumberFormatException e) {
            return OptionalInt.empty();
        }
    }

    /** The last {@code n} lines of the shard's log, or "" when it has none. */
    public String logTail(int shard, int n) {
        try {
            List<String> lines = Files.readAllLines(log(shard), StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }

    /** Everything read so far (shard by shard, in file order) merged as {@code tickwatch merge} does. */
    public MergedResults merge(int expected) {
        List<BootRecord> all = new ArrayList<>();
        records.forEach(all::addAll);
        return MergedResults.of(all, expected);
    }
}
