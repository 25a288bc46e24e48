package dev.tickwatch.boot.loop;

import dev.tickwatch.TickwatchException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSON-lines results file: one {@link BootRecord} a line, written and flushed as each boot
 * ends, so a shard killed half-way still leaves what it did. Appends (several runs of one shard
 * can share a file; {@code merge} keeps one record per boot number).
 */
public final class ResultsFile implements BootListener, AutoCloseable {

    private final Path file;
    private final BufferedWriter out;

    private ResultsFile(Path file, BufferedWriter out) {
        this.file = file;
        this.out = out;
    }

    public static ResultsFile open(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            return new ResultsFile(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new TickwatchException("cannot write results to " + file + ": " + dev.tickwatch.util.IoErrors.reason(e), e);
        }
    }

    @Override
    public void finished(BootRecord r) {
        try {
            out.write(r.toJsonLine());
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + file, e);
        }
    }

    /** Every record in {@code file}; blank lines skipped; a bad line fails with its file and line number. */
    public static List<BootRecord> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TickwatchException("cannot read " + file + ": " + dev.tickwatch.util.IoErrors.reason(e), e);
        }
        List<BootRecord> rs = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            try {
                rs.add(BootRecord.parse(lines.get(i)));
            } catch (TickwatchException | IllegalArgumentException e) {
                throw new TickwatchException(file + ":" + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return rs;
    }
}
