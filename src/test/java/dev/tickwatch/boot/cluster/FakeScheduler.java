package dev.tickwatch.boot.cluster;

import dev.tickwatch.boot.loop.BootRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A scheduler played in-process: records every command it is given and answers from a handler
 * ({@code null} from the handler: exit 0, no output). Also writes shard files as a shard would.
 */
final class FakeScheduler implements Exec {

    final List<List<String>> commands = new ArrayList<>();
    private final Function<List<String>, Result> handler;

    FakeScheduler(Function<List<String>, Result> handler) {
        this.handler = handler;
    }

    @Override
    public Result run(List<String> command) throws InterruptedException {
        commands.add(List.copyOf(command));
        if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedException();
        }
        Result r = handler.apply(command);
        if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedException();
        }
        return r == null ? ok("") : r;
    }

    static Result ok(String out) {
        return new Result(0, out, "");
    }

    /** The commands run with {@code program} as first word (after kubectl's, its verb). */
    List<List<String>> named(String program) {
        return commands.stream().filter(c -> c.get(0).equals(program)
                || c.get(0).equals("kubectl") && c.size() > 1 && c.get(1).equals(program)).toList();
    }

    static void append(Path file, BootRecord... rs) {
        StringBuilder sb = new StringBuilder();
        for (BootRecord r : rs) {
            sb.append(r.toJsonLine()).append('\n');
        }
        appendText(file, sb.toString());
    }

    static void appendText(Path file, String text) {
        try {
            Files.writeString(file, text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void exitCode(ShardFiles f, int shard, int rc) {
        try {
            Files.writeString(f.exitCodeFile(shard), rc + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
