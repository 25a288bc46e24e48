package dev.tickwatch.guest.mem;

import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.hmp.Hmp;
import dev.tickwatch.qmp.hmp.HmpRefusedException;

/**
 * Guest memory through HMP {@code x /Ngx} (virtual, with CPU {@code cpu}'s page tables) and
 * {@code xp} (physical), as text over QMP. Slow (about 60 characters of text per 16 bytes) but it
 * needs nothing from the host: the fallback for a QEMU on another machine. Does not pause.
 */
public final class MonitorMemory implements GuestMemory {

    /** Quadwords per {@code x} command: 4 KiB, about 15 KB of reply text. */
    private static final int QUADS_PER_COMMAND = 512;

    private final Hmp hmp;
    private final int cpu;

    public MonitorMemory(QmpClient qmp, int cpu) {
        this.hmp = new Hmp(qmp);
        this.cpu = cpu;
    }

    @Override
    public Backend backend() {
        return Backend.HMP_X;
    }

    @Override
    public void read(long address, byte[] dst, int offset, int length) {
        transfer(false, address, dst, offset, length);
    }

    @Override
    public void readPhysical(long address, byte[] dst, int offset, int length) {
        transfer(true, address, dst, offset, length);
    }

    private void transfer(boolean physical, long address, byte[] dst, int offset, int length) {
        // x reads whole quadwords: widen to 8-byte alignment, copy out the part asked for.
        long start = address & ~7L;
        long end = address + length;
        long a = start;
        while (Long.compareUnsigned(a, end) < 0) {
            int quads = (int) Math.min(QUADS_PER_COMMAND, (end - a + 7) >>> 3);
            long[] values;
            try {
                values = physical ? hmp.physicalQuadwords(a, quads, cpu) : hmp.quadwords(a, quads, cpu);
            } catch (HmpRefusedException e) {
                throw new GuestMemoryException(a, "address 0x" + Long.toHexString(a) + " not readable: " + e.reply());
            }
            for (int q = 0; q < values.length && q < quads; q++) {
                long v = values[q];
                for (int i = 0; i < 8; i++) {
                    long at = a + q * 8L + i;
                    if (at >= address && at < end) {
                        dst[offset + (int) (at - address)] = (byte) (v >>> (8 * i));
                    }
                }
            }
            a += quads * 8L;
        }
    }
}
