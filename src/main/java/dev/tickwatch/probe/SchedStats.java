package dev.tickwatch.probe;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * {@code /proc/TID/schedstat} of the vCPU threads and QEMU's main thread, read at every sample:
 * each file is opened once and read again from offset 0 (procfs builds the text anew on each read
 * from the start), parsed in place, so a sample costs one pread per thread instead of an open, a
 * read, a close, a String and a regular-expression split. A thread id that is not there at the
 * first read is not on this host (a remote QEMU) and is not asked about again: a thread that took
 * that id later would be another process's. Not thread-safe: the probe's sampling thread only.
 */
final class SchedStats implements AutoCloseable {

    private final Map<Long, FileChannel> open = new HashMap<>();
    private final Set<Long> absent = new HashSet<>();
    private final ByteBuffer buf = ByteBuffer.allocate(256);

    /**
     * The ns {@code tid} ran on a CPU and the ns it waited runnable on a run queue; {-1, -1} when
     * the thread is not on this host or is gone.
     */
    long[] read(long tid) {
        if (tid <= 0 || absent.contains(tid)) {
            return new long[] {-1, -1};
        }
        FileChannel ch = open.get(tid);
        try {
            if (ch == null) {
                ch = FileChannel.open(Path.of("/proc", Long.toString(tid), "schedstat"), StandardOpenOption.READ);
                open.put(tid, ch);
            }
            buf.clear();
            int n;
            while ((n = ch.read(buf, buf.position())) > 0 && buf.hasRemaining()) {
                buf.position(buf.position() + n);
            }
            return parse(buf.array(), buf.position());
        } catch (NoSuchFileException e) {
            absent.add(tid);
            return new long[] {-1, -1};
        } catch (java.nio.channels.ClosedChannelException e) {
            // Interrupted mid-read (a watch closing): the channel is closed, the thread still there.
            if (ch != null) {
                forget(tid, ch);
            }
            return new long[] {-1, -1};
        } catch (IOException e) {
            // The thread ended (ESRCH on the open file): its id may be reused by another process.
            if (ch != null) {
                forget(tid, ch);
                absent.add(tid);
            }
            return new long[] {-1, -1};
        }
    }

    /**
     * {@code "RUN WAIT SLICES\n"}: the first two numbers; a missing second is -1, anything not a
     * number makes both -1 (as the split-and-parse it replaced did).
     */
    static long[] parse(byte[] b, int len) {
        long[] out = {-1, -1};
        int i = 0;
        for (int field = 0; field < 2; field++) {
            while (i < len && isSpace(b[i])) {
                i++;
            }
            if (i >= len) {
                return field == 0 ? new long[] {-1, -1} : out;
            }
            int start = i;
            long v = 0;
            boolean plain = true;
            while (i < len && !isSpace(b[i])) {
                int d = b[i] - '0';
                plain &= d >= 0 && d <= 9 && i - start < 18;
                v = v * 10 + d;
                i++;
            }
            if (!plain) {
                // Long, signed or not a number: Long.parseLong decides, as before.
                try {
                    v = Long.parseLong(new String(b, start, i - start, java.nio.charset.StandardCharsets.ISO_8859_1));
                } catch (NumberFormatException e) {
                    return new long[] {-1, -1};
                }
            }
            out[field] = v;
        }
        return out;
    }

    private static boolean isSpace(byte c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B;
    }

    private void forget(long tid, FileChannel ch) {
        open.remove(tid);
        try {
            ch.close();
        } catch (IOException e) {
            // Closing a procfs file: nothing to lose.
        }
    }

    @Override
    public void close() {
        for (var e : Map.copyOf(open).entrySet()) {
            forget(e.getKey(), e.getValue());
        }
    }
}
