package dev.tickwatch.guest.mem;

import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.hmp.Hmp;
import dev.tickwatch.qmp.hmp.HmpRefusedException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * Guest memory read straight out of the QEMU process: HMP {@code gpa2hva} tells where guest RAM
 * lives in QEMU's address space, {@code /proc/PID/mem} reads it, and our own {@link PageTables}
 * walk translates guest virtual addresses. No monitor round trip per read and no pause: the
 * fastest backend, but only on QEMU's host, with ptrace rights over QEMU (our own child, or root).
 * Guest RAM is one mapping per RAM block, so translations are cached per 2 MiB of guest physical
 * space (per 4 KiB below 1 MiB, where ROM and VGA windows overlay RAM).
 */
public final class ProcMemory implements GuestMemory {

    private static final long CHUNK = 2L << 20;

    private final QmpClient qmp;
    private final Hmp hmp;
    private final long pid;
    private final FileChannel mem;
    private final Map<Long, Long> hostChunks = new HashMap<>();
    /** Guest physical below this (and above 1 MiB) maps to linearBase + gpa; -1: not probed yet. */
    private long linearLimit = -1;
    private long linearBase;
    private volatile PageTables pageTables;

    private ProcMemory(QmpClient qmp, long pid, FileChannel mem, long cr3, boolean la57) {
        this.qmp = qmp;
        this.hmp = new Hmp(qmp);
        this.pid = pid;
        this.mem = mem;
        this.pageTables = new PageTables(cr3, la57, this::readPhysicalLong);
    }

    /**
     * Opens QEMU's memory. {@code cr3} is a kernel page-table root (a vCPU's CR3 while in kernel
     * mode will do; switch to the kernel's own with {@link #usePageTableRoot}).
     */
    public static ProcMemory open(QmpClient qmp, long qemuPid, long cr3, boolean la57) {
        Path file = Path.of("/proc", Long.toString(qemuPid), "mem");
        try {
            return new ProcMemory(qmp, qemuPid, FileChannel.open(file, StandardOpenOption.READ), cr3, la57);
        } catch (IOException | SecurityException e) {
            throw new GuestMemoryException(0, "cannot open " + file + " (" + e + "): QEMU runs on another host,"
                    + " or we lack ptrace rights over it", e);
        }
    }

    /** The QEMU process a vCPU host thread belongs to (its Tgid), from /proc; -1 if unknown here. */
    public static long processOfThread(long threadId) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(threadId), "status"))) {
                if (line.startsWith("Tgid:")) {
                    return Long.parseLong(line.substring(5).strip());
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    public long pid() {
        return pid;
    }

    /** Translates from now on with the page tables rooted at this physical address. */
    public void usePageTableRoot(long physicalRoot, boolean la57) {
        this.pageTables = new PageTables(physicalRoot, la57, this::readPhysicalLong);
    }

    /** The physical address of {@code virtual} with the current page tables. */
    public long translate(long virtual) {
        return pageTables.translate(virtual).physical();
    }

    @Override
    public Backend backend() {
        return Backend.PROC_MEM;
    }

    @Override
    public void read(long address, byte[] dst, int offset, int length) {
        PageTables pt = pageTables;
        long va = address;
        int done = 0;
        while (done < length) {
            PageTables.Mapping m = pt.translate(va);
            int n = (int) Math.min(length - done, m.bytesLeftInPage());
            readPhysical(m.physical(), dst, offset + done, n);
            va += n;
            done += n;
        }
    }

    @Override
    public void readPhysical(long address, byte[] dst, int offset, int length) {
        long pa = address;
        int done = 0;
        while (done < length) {
            long chunkSize = pa < (1L << 20) ? 4096 : CHUNK;
            long chunk = pa & ~(chunkSize - 1);
            long hva = hostAddress(chunk) + (pa - chunk);
            int n = (int) Math.min(length - done, chunk + chunkSize - pa);
            ByteBuffer buf = ByteBuffer.wrap(dst, offset + done, n);
            try {
                while (buf.hasRemaining()) {
                    if (mem.read(buf, hva + (buf.position() - offset - done)) < 0) {
                        throw new GuestMemoryException(pa, "end of QEMU memory at host address 0x" + Long.toHexString(hva));
                    }
                }
            } catch (IOException e) {
                throw new GuestMemoryException(pa, "reading QEMU's memory at host address 0x" + Long.toHexString(hva)
                        + " for guest physical 0x" + Long.toHexString(pa) + ": " + e.getMessage(), e);
            }
            pa += n;
            done += n;
        }
    }

    private long readPhysicalLong(long physical) {
        byte[] b = new byte[8];
        readPhysical(physical, b, 0, 8);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private synchronized long hostAddress(long chunk) {
        Long cached = hostChunks.get(chunk);
        if (cached != null) {
            return cached;
        }
        if (linearLimit < 0) {
            linearLimit = probeLinearRam();
        }
        if (chunk >= (1L << 20) && chunk < linearLimit) {
            return linearBase + chunk;
        }
        return askQemu(chunk);
    }

    /**
     * Every gpa2hva is a monitor round trip under QEMU's big lock, which slows a booting TCG guest.
     * Low RAM is one RAM block mapped linearly from guest physical 0 ("pc.ram"), so two answers
     * (1 MiB and the top of what we assume) prove the line and stand for all of it. Above it, and
     * when the two do not line up, every 2 MiB chunk is asked for. Returns the linear limit.
     */
    private long probeLinearRam() {
        linearLimit = 0;
        try {
            long size = qmp.execute("query-memory-size-summary").path("base-memory").asLong(0);
            long limit = Math.min(size, 2L << 30) & ~(CHUNK - 1);
            if (limit <= 2 * CHUNK) {
                return 0;
            }
            long low = askQemu(1L << 20);
            long high = askQemu(limit - CHUNK);
            if (high - low == limit - CHUNK - (1L << 20)) {
                linearBase = low - (1L << 20);
                return limit;
            }
        } catch (GuestMemoryException | dev.tickwatch.qmp.QmpCommandException e) {
            // Fall back to asking per chunk.
        }
        return 0;
    }

    private long askQemu(long chunk) {
        long hva;
        try {
            hva = hmp.gpa2hva(chunk);
        } catch (HmpRefusedException e) {
            throw new GuestMemoryException(chunk, "guest physical 0x" + Long.toHexString(chunk) + " is not RAM: " + e.reply());
        }
        hostChunks.put(chunk, hva);
        return hva;
    }

    @Override
    public void close() {
        try {
            mem.close();
        } catch (IOException ignored) {
            // Nothing was written.
        }
    }
}
