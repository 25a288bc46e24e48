package dev.tickwatch.guest.mem;

import dev.tickwatch.gdb.GdbClient;
import dev.tickwatch.gdb.GdbErrorException;
import dev.tickwatch.gdb.GdbPause;

/**
 * Guest memory through the gdbstub's {@code m} packet: exact, but the whole VM stops while it
 * runs. Each read pauses and resumes through {@link GdbClient#pause()} unless the caller already
 * holds the VM stopped (a snapshot reading many things at one moment). Physical reads switch
 * QEMU's stub to physical mode ({@code Qqemu.PhyMemMode:1}) for the duration of the read.
 */
public final class GdbMemory implements GuestMemory {

    private final GdbClient gdb;

    public GdbMemory(GdbClient gdb) {
        this.gdb = gdb;
    }

    @Override
    public Backend backend() {
        return Backend.GDBSTUB;
    }

    @Override
    public void read(long address, byte[] dst, int offset, int length) {
        transfer(address, dst, offset, length, false);
    }

    @Override
    public void readPhysical(long address, byte[] dst, int offset, int length) {
        transfer(address, dst, offset, length, true);
    }

    private void transfer(long address, byte[] dst, int offset, int length, boolean physical) {
        GdbPause pause = gdb.isRunning() ? gdb.pause() : null;
        try {
            if (physical) {
                gdb.request("Qqemu.PhyMemMode:1");
            }
            try {
                System.arraycopy(gdb.readMemory(address, length), 0, dst, offset, length);
            } finally {
                if (physical) {
                    gdb.request("Qqemu.PhyMemMode:0");
                }
            }
        } catch (GdbErrorException e) {
            throw new GuestMemoryException(address, (physical ? "physical" : "virtual") + " address 0x"
                    + Long.toHexString(address) + " not readable through the gdbstub: " + e.getMessage(), e);
        } finally {
            if (pause != null) {
                pause.close();
            }
        }
    }
}
