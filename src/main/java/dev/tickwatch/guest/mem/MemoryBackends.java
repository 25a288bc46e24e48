package dev.tickwatch.guest.mem;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.QmpCpu;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Picks the fastest guest-memory backend that works for this QEMU, and says why the faster ones
 * did not: /proc/PID/mem when QEMU is on this host and readable (checked against QEMU's own
 * {@code memsave} of the same page, so a thread id that only looks local cannot fool us), then
 * {@code memsave}, then HMP {@code x}. None of them pauses the guest; the gdbstub backend is
 * only used when asked for, because it does.
 */
public final class MemoryBackends {

    /** The chosen backend, and one line per faster backend that was passed over. */
    public record Choice(GuestMemory memory, List<String> passedOver) {
    }

    private MemoryBackends() {
    }

    /**
     * Opens the fastest working backend, or exactly {@code only} when it is not null.
     *
     * @param cpus the vCPUs' registers (for a kernel page-table root and the IDT to check against)
     */
    public static Choice open(QmpClient qmp, List<CpuRegisters> cpus, GuestMemory.Backend only) {
        List<String> passedOver = new ArrayList<>();
        CpuRegisters reference = cpus.stream().filter(c -> c.cpl() == 0 && c.longMode()).findFirst()
                .orElse(cpus.get(0));
        int cpu = reference.cpu();
        if (only == null || only == GuestMemory.Backend.PROC_MEM) {
            try {
                return new Choice(openProc(qmp, cpus, reference), passedOver);
            } catch (TickwatchException e) {
                if (only != null) {
                    throw e;
                }
                passedOver.add("proc-mem: " + e.getMessage());
            }
        }
        if (only == null || only == GuestMemory.Backend.QMP_MEMSAVE) {
            QmpMemory m = new QmpMemory(qmp, cpu);
            try {
                m.read(reference.idtBase(), 16);
                return new Choice(m, passedOver);
            } catch (TickwatchException e) {
                m.close();
                if (only != null) {
                    throw e;
                }
                passedOver.add("qmp-memsave: " + e.getMessage());
            }
        }
        if (only == null || only == GuestMemory.Backend.HMP_X) {
            return new Choice(new MonitorMemory(qmp, cpu), passedOver);
        }
        throw new IllegalArgumentException("backend " + only.label() + " is not opened here (the gdbstub needs a GdbClient)");
    }

    private static ProcMemory openProc(QmpClient qmp, List<CpuRegisters> cpus, CpuRegisters reference) {
        List<QmpCpu> threads = qmp.queryCpusFast();
        long pid = threads.isEmpty() ? -1 : ProcMemory.processOfThread(threads.get(0).threadId());
        if (pid < 0) {
            throw new GuestMemoryException(0, "vCPU thread " + (threads.isEmpty() ? "?" : threads.get(0).threadId())
                    + " is not a process on this host");
        }
        boolean la57 = (reference.cr4() & (1L << 12)) != 0;
        // With KPTI a CPU in user mode holds the user half of an 8 KiB PGD: the kernel half is 4 KiB below.
        long[] roots = reference.cpl() == 0 ? new long[] {reference.cr3()}
                : new long[] {reference.cr3() & ~(1L << 12), reference.cr3()};
        byte[] expected = new QmpMemoryProbe(qmp, reference.cpu()).idtPage(reference.idtBase());
        if (expected == null) {
            throw new GuestMemoryException(reference.idtBase(), "QEMU's monitor cannot read the IDT at 0x"
                    + Long.toHexString(reference.idtBase()) + ", so QEMU's process memory cannot be checked against it");
        }
        ProcMemory mem = ProcMemory.open(qmp, pid, roots[0], la57);
        try {
            for (long root : roots) {
                mem.usePageTableRoot(root, la57);
                try {
                    if (Arrays.equals(expected, mem.read(reference.idtBase(), expected.length))) {
                        return mem;
                    }
                } catch (GuestMemoryException e) {
                    // Try the next root.
                }
            }
            throw new GuestMemoryException(reference.idtBase(), "QEMU process " + pid
                    + "'s memory does not hold this guest's IDT: another QEMU, or another host");
        } catch (RuntimeException e) {
            mem.close();
            throw e;
        }
    }

    /** What {@code memsave} says the IDT holds: the reference proc-mem must agree with. */
    private record QmpMemoryProbe(QmpClient qmp, int cpu) {
        byte[] idtPage(long idt) {
            try (QmpMemory m = new QmpMemory(qmp, cpu)) {
                return m.read(idt, 256);
            } catch (TickwatchException e) {
                try {
                    return new MonitorMemory(qmp, cpu).read(idt, 256);
                } catch (TickwatchException e2) {
                    return null;
                }
            }
        }
    }
}
