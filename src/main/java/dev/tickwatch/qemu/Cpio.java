package dev.tickwatch.qemu;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

/**
 * Writes the "newc" cpio format the kernel unpacks as an initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst): a 110-byte ASCII header
 * ("070701" and 13 eight-digit hex fields), the NUL-terminated name, padding to 4 bytes, the
 * data, padding to 4 bytes; the archive ends with an entry named {@code TRAILER!!!}.
 * Parent directories are added on demand, so callers name files only.
 */
public final class Cpio implements AutoCloseable {

    private static final int S_IFDIR = 0040000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFLNK = 0120000;
    private static final int S_IFCHR = 0020000;

    private final OutputStream out;
    private final Set<String> dirs = new HashSet<>();
    private long written;
    private int ino = 1;
    private boolean finished;

    public Cpio(OutputStream out) {
        this.out = out;
    }

    public Cpio directory(String path, int perm) throws IOException {
        String p = normalize(path);
        if (dirs.add(p)) {
            parents(p);
            entry(p, S_IFDIR | perm, 2, 0, 0, new byte[0]);
        }
        return this;
    }

    public Cpio file(String path, int perm, byte[] data) throws IOException {
        String p = normalize(path);
        parents(p);
        entry(p, S_IFREG | perm, 1, 0, 0, data);
        return this;
    }

    public Cpio symlink(String path, String target) throws IOException {
        String p = normalize(path);
        parents(p);
        entry(p, S_IFLNK | 0777, 1, 0, 0, target.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    public Cpio charDevice(String path, int perm, int major, int minor) throws IOException {
        String p = normalize(path);
        parents(p);
        entry(p, S_IFCHR | perm, 1, major, minor, new byte[0]);
        return this;
    }

    /** Writes the trailer. The underlying stream stays open. */
    public void finish() throws IOException {
        if (!finished) {
            finished = true;
            entry("TRAILER!!!", 0, 1, 0, 0, new byte[0]);
            out.flush();
        }
    }

    @Override
    public void close() throws IOException {
        finish();
    }

    private void parents(String p) throws IOException {
        int slash = p.lastIndexOf('/');
        if (slash > 0) {
            directory(p.substring(0, slash), 0755);
        }
    }

    private static String normalize(String path) {
        String p = path;
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        if (p.isEmpty() || p.contains("..")) {
            throw new IllegalArgumentException("bad archive path: '" + path + "'");
        }
        return p;
    }

    private void entry(String name, int mode, int nlink, int rdevMajor, int rdevMinor, byte[] data)
            throws IOException {
        byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream h = new ByteArrayOutputStream(110 + nameBytes.length + 3);
        h.writeBytes("070701".getBytes(StandardCharsets.US_ASCII));
        long[] fields = {name.equals("TRAILER!!!") ? 0 : ino++, mode, 0, 0, nlink, 0, data.length,
            0, 0, rdevMajor, rdevMinor, nameBytes.length, 0};
        for (long f : fields) {
            h.writeBytes(String.format("%08x", f).getBytes(StandardCharsets.US_ASCII));
        }
        h.writeBytes(nameBytes);
        write(h.toByteArray());
        pad();
        write(data);
        pad();
    }

    private void write(byte[] b) throws IOException {
        out.write(b);
        written += b.length;
    }

    private void pad() throws IOException {
        while (written % 4 != 0) {
            out.write(0);
            written++;
        }
    }
}
