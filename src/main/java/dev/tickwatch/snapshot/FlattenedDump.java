package dev.tickwatch.snapshot;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * makedumpfile's "flattened" format turned back into the seekable file it stands for: what
 * {@code makedumpfile -R} does. QEMU writes kdump-compressed dumps this way when its output is
 * not seekable, and 7.2 does so for files too. The format (makedumpfile's README, "flattened
 * format"; QEMU's include/sysemu/dump.h): a header block of {@link #HEADER_SIZE} bytes starting with
 * {@code char signature[16] = "makedumpfile"}, {@code int64 type} (1) and {@code int64 version} (1),
 * then records {@code {int64 offset; int64 size}} followed by {@code size} bytes that belong at
 * {@code offset} of the real file, until a record whose offset and size are -1. All integers of
 * the flattened layer are big-endian, whatever the dump's own byte order.
 */
public final class FlattenedDump {

    public static final String SIGNATURE = "makedumpfile";
    public static final int HEADER_SIZE = 4096;
    static final long TYPE_FLAT = 1;
    static final long VERSION_FLAT = 1;
    /** One record never carries more than this: QEMU writes a page or a cache block at a time. */
    static final long MAX_RECORD = 64L << 20;

    private FlattenedDump() {
    }

    /** Whether {@code file} starts with the flattened format's signature. */
    public static boolean isFlattened(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] sig = in.readNBytes(16);
            return sig.length == 16 && signatureMatches(sig);
        }
    }

    private static boolean signatureMatches(byte[] sig) {
        byte[] want = SIGNATURE.getBytes(StandardCharsets.US_ASCII);
        if (!Arrays.equals(sig, 0, want.length, want, 0, want.length)) {
            return false;
        }
        for (int i = want.length; i < 16; i++) {
            if (sig[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Writes the real file that {@code flattened} describes to {@code out} (created new, with
     * {@code options} added to CREATE_NEW and WRITE).
     *
     * @return the size of the written file in bytes
     * @throws SnapshotException when the input is not a flattened file or ends early
     */
    public static long rearrange(Path flattened, Path out, OpenOption... options) throws IOException {
        OpenOption[] all = Arrays.copyOf(options, options.length + 2);
        all[options.length] = StandardOpenOption.CREATE_NEW;
        all[options.length + 1] = StandardOpenOption.WRITE;
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(flattened), 1 << 16));
                FileChannel ch = FileChannel.open(out, all)) {
            byte[] header = new byte[HEADER_SIZE];
            try {
                in.readFully(header);
            } catch (EOFException e) {
                throw new SnapshotException(flattened + ": shorter than the flattened header (" + HEADER_SIZE + " bytes)");
            }
            if (!signatureMatches(Arrays.copyOf(header, 16))) {
                throw new SnapshotException(flattened + ": no '" + SIGNATURE + "' signature: not a flattened dump");
            }
            ByteBuffer h = ByteBuffer.wrap(header); // big-endian by default, as the format wants
            long type = h.getLong(16);
            long version = h.getLong(24);
            if (type != TYPE_FLAT || version != VERSION_FLAT) {
                throw new SnapshotException(flattened + ": flattened type " + type + " version " + version
                        + " (expected: 1, 1)");
            }
            long size = 0;
            byte[] buf = new byte[1 << 16];
            for (long record = 0; ; record++) {
                long offset;
                long length;
                try {
                    offset = in.readLong();
                    length = in.readLong();
                } catch (EOFException e) {
                    throw new SnapshotException(flattened + ": ends after " + record + " records without the end marker");
                }
                if (offset == -1 && length == -1) {
                    return size;
                }
                if (offset < 0 || length < 0 || length > MAX_RECORD) {
                    throw new SnapshotException(flattened + ": record " + record + " has offset " + offset
                            + " size " + length + " (expected: offset >= 0, 0 <= size <= " + MAX_RECORD + ")");
                }
                long at = offset;
                long left = length;
                while (left > 0) {
                    int n = (int) Math.min(buf.length, left);
                    try {
                        in.readFully(buf, 0, n);
                    } catch (EOFException e) {
                        throw new SnapshotException(flattened + ": record " + record + " is cut short");
                    }
                    ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                    while (b.hasRemaining()) {
                        at += ch.write(b, at);
                    }
                    left -= n;
                }
                size = Math.max(size, offset + length);
            }
        }
    }
}
