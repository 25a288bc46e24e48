package dev.tickwatch.probe;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A guest's serial console as QEMU writes it to a file, read as it grows. QEMU's file chardev
 * writes unbuffered and never blocks the guest, which is why we tail a file instead of a pipe.
 * Thread-safe.
 */
public final class Console {

    private final Path file;
    private final StringBuilder text = new StringBuilder();
    private long offset;

    public Console(Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    /** Reads what was appended since the last call and returns only that part. */
    public synchronized String poll() {
        if (!Files.exists(file)) {
            return "";
        }
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long len = f.length();
            if (len <= offset) {
                return "";
            }
            byte[] b = new byte[(int) Math.min(len - offset, Integer.MAX_VALUE - 16)];
            f.seek(offset);
            f.readFully(b);
            offset += b.length;
            // Serial output is ASCII in practice; a split UTF-8 sequence would only garble one char.
            String s = new String(b, StandardCharsets.UTF_8);
            text.append(s);
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read console " + file, e);
        }
    }

    /** Everything the guest printed so far (reads what is new first). */
    public synchronized String text() {
        poll();
        return text.toString();
    }

    /** Bytes read so far. */
    public synchronized long size() {
        return offset;
    }


    /**
     * Waits until the console text satisfies {@code condition}, woken by inotify when QEMU
     * writes, not by polling. Returns false on timeout.
     */
    public boolean await(Predicate<String> condition, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (WatchService ws = file.getFileSystem().newWatchService()) {
            file.toAbsolutePath().getParent().register(ws, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_CREATE);
            while (!condition.test(text())) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                WatchKey key = ws.poll(left, TimeUnit.NANOSECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot watch console " + file, e);
        }
    }

    /** The last {@code maxLines} lines, for error messages and reports. */
    public String tail(int maxLines) {
        String t = text();
        int idx = t.length();
        for (int n = 0; n < maxLines && idx > 0; n++) {
            idx = t.lastIndexOf('\n', idx - 2);
            if (idx < 0) {
                return t;
            }
        }
        return t.substring(idx + 1);
    }
}
