package dev.tickwatch.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.gdb.GdbClient;
import dev.tickwatch.gdb.GdbOptions;
import dev.tickwatch.guest.mem.GdbMemory;
import dev.tickwatch.guest.mem.GuestMemory;
import dev.tickwatch.guest.mem.GuestMemoryException;
import dev.tickwatch.guest.mem.MemoryBackends;
import dev.tickwatch.guest.mem.ProcMemory;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import dev.tickwatch.testing.Guests;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every memory backend reads the same bytes, fails the same way, and only the gdbstub pauses. */
class MemoryBackendsIT {

    private static final long TEXT = 0xffffffff81000000L;
    private static final long UNMAPPED = 0xffffffff80000000L;

    @TempDir
    Path work;

    @Test
    void backendsAgreeAndOnlyTheGdbstubPauses() throws Exception {
        try (QemuVm vm = QemuVm.start(Guests.appliance(work, "sleep 600").build())) {
            assertTrue(vm.console().await(t -> t.contains("userland up"), Duration.ofSeconds(120)));
            List<CpuRegisters> cpus = CpuRegisters.parseAll(vm.qmp().hmp("info registers -a"));
            byte[] reference;
            long physical;
            try (GuestMemory proc = MemoryBackends.open(vm.qmp(), cpus, null).memory()) {
                assertEquals(GuestMemory.Backend.PROC_MEM, proc.backend(), "QEMU is our child: proc-mem is the fastest");
                reference = proc.read(TEXT, 256 << 10);
                physical = ((ProcMemory) proc).translate(TEXT);
                assertArrayEquals(reference, readPhysical(proc, physical, 256 << 10));
                assertUnmapped(proc);
            }
            for (GuestMemory.Backend b : List.of(GuestMemory.Backend.QMP_MEMSAVE, GuestMemory.Backend.HMP_X)) {
                try (GuestMemory m = MemoryBackends.open(vm.qmp(), cpus, b).memory()) {
                    int n = b == GuestMemory.Backend.HMP_X ? 16 << 10 : 256 << 10;
                    assertArrayEquals(java.util.Arrays.copyOf(reference, n), m.read(TEXT, n), b.label());
                    assertArrayEquals(java.util.Arrays.copyOf(reference, n), readPhysical(m, physical, n), b.label() + " physical");
                    assertUnmapped(m);
                }
            }
            assertTrue(vm.qmp().recentEvents().stream().noneMatch(e -> e.name().equals("STOP")),
                    "no backend but the gdbstub pauses the guest");
            try (GdbClient gdb = GdbClient.connect(vm.gdbEndpoint(), GdbOptions.builder()
                    .fallbackResume(vm.qmp()::contAsync).build());
                    GuestMemory m = new GdbMemory(gdb)) {
                assertArrayEquals(reference, m.read(TEXT, 256 << 10));
                assertArrayEquals(java.util.Arrays.copyOf(reference, 4096), readPhysical(m, physical, 4096));
                assertUnmapped(m);
            }
            assertTrue(vm.qmp().recentEvents().stream().anyMatch(e -> e.name().equals("STOP")), "the gdbstub does pause");
            assertTrue(vm.qmp().queryStatus().running(), "and resumes");
        }
    }

    private static byte[] readPhysical(GuestMemory m, long address, int n) {
        byte[] b = new byte[n];
        m.readPhysical(address, b, 0, n);
        return b;
    }

    private static void assertUnmapped(GuestMemory m) {
        GuestMemoryException e = assertThrows(GuestMemoryException.class, () -> m.read(UNMAPPED, 64), m.backend().label());
        assertEquals(UNMAPPED, e.address(), m.backend().label() + ": " + e.getMessage());
        assertTrue(e.getMessage().contains("ffffffff80000000"), e.getMessage());
    }
}
