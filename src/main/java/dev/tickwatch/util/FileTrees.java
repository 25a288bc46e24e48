package dev.tickwatch.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Deleting the private folders tickwatch creates. */
public final class FileTrees {

    private FileTrees() {
    }

    /** Deletes {@code dir} and everything under it; nothing if it does not exist. */
    public static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }

    /**
     * A temporary folder that goes away when closed, and also when the JVM is ended by a signal
     * (Ctrl-C, SIGTERM), where finally blocks do not run but shutdown hooks do.
     */
    public static TempTree tempTree(String prefix) throws IOException {
        return new TempTree(Files.createTempDirectory(prefix));
    }

    /** See {@link #tempTree}. */
    public static final class TempTree implements AutoCloseable {
        private final Path dir;
        private final Thread hook;

        private TempTree(Path dir) {
            this.dir = dir;
            this.hook = new Thread(() -> {
                try {
                    deleteTree(dir);
                } catch (UncheckedIOException e) {
                    // Best effort while the JVM goes down.
                }
            }, "tickwatch-temp-cleanup");
            Runtime.getRuntime().addShutdownHook(hook);
        }

        public Path path() {
            return dir;
        }

        @Override
        public void close() {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // Already shutting down: the hook deletes the folder.
                return;
            }
            deleteTree(dir);
        }
    }
}
