package dev.tickwatch.guest.mem;

import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.QmpCommandException;
import dev.tickwatch.util.FileTrees;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Guest memory through QMP {@code memsave} (virtual, translated by QEMU with CPU {@code cpu}'s
 * page tables) and {@code pmemsave} (physical). QEMU writes a file that we read back, so it works
 * only when QEMU shares our file system; the guest is not paused. The files go to a private 0700
 * folder that {@link #close()} removes. A failed multi-page read is retried page by page, so the
 * error names the first unmapped page rather than the whole range.
 */
public final class QmpMemory implements GuestMemory {

    private static final int PAGE = 4096;

    private final QmpClient qmp;
    private final int cpu;
    private final Path dir;
    private long serial;

    public QmpMemory(QmpClient qmp, int cpu) {
        this.qmp = qmp;
        this.cpu = cpu;
        try {
            this.dir = Files.createTempDirectory("tickwatch-mem-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Backend backend() {
        return Backend.QMP_MEMSAVE;
    }

    @Override
    public void read(long address, byte[] dst, int offset, int length) {
        transfer(address, dst, offset, length, false);
    }

    @Override
    public void readPhysical(long address, byte[] dst, int offset, int length) {
        transfer(address, dst, offset, length, true);
    }

    private synchronized void transfer(long address, byte[] dst, int offset, int length, boolean physical) {
        if (length == 0) {
            return;
        }
        try {
            saveAndRead(address, dst, offset, length, physical);
        } catch (QmpCommandException e) {
            if (length <= PAGE - (address & (PAGE - 1))) {
                throw new GuestMemoryException(address, (physical ? "physical" : "virtual") + " address 0x"
                        + Long.toHexString(address) + " not readable: " + e.getMessage(), e);
            }
            // Find the first page that fails, so the caller learns where the hole is.
            long a = address;
            int done = 0;
            while (done < length) {
                int n = (int) Math.min(length - done, PAGE - (a & (PAGE - 1)));
                transfer(a, dst, offset + done, n, physical);
                a += n;
                done += n;
            }
        }
    }

    private void saveAndRead(long address, byte[] dst, int offset, int length, boolean physical) {
        Path file = dir.resolve("m" + (serial++));
        try {
            if (physical) {
                qmp.pmemsave(address, length, file);
            } else {
                qmp.memsave(address, length, file, cpu);
            }
            try (InputStream in = Files.newInputStream(file)) {
                int n = in.readNBytes(dst, offset, length);
                if (n != length) {
                    throw new GuestMemoryException(address, "QEMU wrote " + n + " of " + length + " bytes to " + file);
                }
            }
        } catch (NoSuchFileException e) {
            throw new GuestMemoryException(address, "QEMU wrote no file at " + file
                    + ": it does not share this host's file system (remote QMP?); use another backend", e);
        } catch (IOException e) {
            throw new GuestMemoryException(address, "reading " + file + ": " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // The folder goes in close().
            }
        }
    }

    @Override
    public void close() {
        FileTrees.deleteTree(dir);
    }
}
