package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.guest.FakeMemory;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.KernelFiles;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading VMCOREINFO, the utsname and the CPUs' pids from a fake guest whose symbols come from a
 * System.map (KASLR slide found through the IDT, as GuestKernel does for a real one), without BTF.
 */
class VmcoreFactsTest {

    static final long TEXT = 0xffffffff81000000L;
    static final long SLIDE = 0x2600000L;
    static final long IDT = 0xfffffe0000000000L;
    static final String BANNER = "Linux version 6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP";
    static final long[] PER_CPU = {0xffff88800f600000L, 0xffff88800f700000L};
    /** Where the kernel's kmalloc'ed VMCOREINFO page lies. */
    static final long INFO_PAGE = 0xffff888002345000L;

    @TempDir
    Path dir;

    Path systemMap() throws IOException {
        return Files.writeString(dir.resolve("System.map"), String.join("\n",
                "0000000000000040 D current_task", "ffffffff81000000 T _text", "ffffffff81000100 T asm_exc_divide_error",
                "ffffffff81200000 D linux_banner", "ffffffff81400000 D jiffies_64",
                "ffffffff81400008 D __per_cpu_offset", "ffffffff81400100 D vmcoreinfo_data",
                "ffffffff81400108 D vmcoreinfo_size", "ffffffff81400200 D init_uts_ns") + "\n");
    }

    static FakeMemory guest(long infoPointer, byte[] info) {
        FakeMemory m = new FakeMemory();
        long t = TEXT + SLIDE;
        m.map(t, 0x1000).map(t + 0x400000, 0x1000);
        m.write(t + 0x200000, (BANNER + "\n\0").getBytes(StandardCharsets.ISO_8859_1));
        m.writeLong(t + 0x400008, PER_CPU[0]).writeLong(t + 0x400010, PER_CPU[1]);
        m.writeLong(t + 0x400100, infoPointer).writeLong(t + 0x400108, info.length);
        m.write(t + 0x400200, FakeDumps.utsname("6.1.0-57-cloud-amd64"));
        m.write(INFO_PAGE, info);
        ByteBuffer gate = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        long handler = t + 0x100;
        gate.putShort((short) handler).putShort((short) 0x10).put((byte) 0).put((byte) 0x8e)
                .putShort((short) (handler >>> 16)).putInt((int) (handler >>> 32)).putInt(0);
        m.write(IDT, gate.array());
        return m;
    }

    static List<CpuRegisters> cpus() {
        return List.of(new CpuRegisters(0, TEXT + SLIDE + 0x188, 0x202, 0, true, true, 0, 0, 0, PER_CPU[0], IDT),
                new CpuRegisters(1, TEXT + SLIDE + 0x188, 0x202, 0, true, true, 0, 0, 0, PER_CPU[1], IDT));
    }

    @Test
    void vmcoreinfoAndUtsnameAreReadThroughTheSlidSymbolsAndPidsNeedTypes() throws IOException {
        byte[] info = FakeDumps.vmcoreinfo("6.1.0-57-cloud-amd64", 1800);
        try (GuestKernel k = GuestKernel.attach(null, guest(INFO_PAGE, info), cpus(), KernelFiles.of(null, systemMap()))) {
            VmcoreFacts f = VmcoreFacts.read(k);
            assertArrayEquals(info, f.vmcoreinfo());
            assertArrayEquals(FakeDumps.utsname("6.1.0-57-cloud-amd64"), f.utsname(), "offset 0 guessed without BTF, checked by 'Linux'");
            assertEquals("6.1.0-57-cloud-amd64", f.release());
            assertNull(f.cpuPids());
            assertEquals(1, f.problems().size(), f.problems().toString());
            assertTrue(f.problems().get(0).startsWith("no pids of the CPUs' tasks: "), f.problems().toString());
        }
    }

    @Test
    void aNullPointerOrNotVmcoreinfoIsAProblemInWords() throws IOException {
        try (GuestKernel k = GuestKernel.attach(null, guest(0, new byte[16]), cpus(), KernelFiles.of(null, systemMap()))) {
            VmcoreFacts f = VmcoreFacts.read(k);
            assertNull(f.vmcoreinfo());
            assertTrue(f.problems().contains("no VMCOREINFO: vmcoreinfo_data is NULL (crash_save_vmcoreinfo_init has not"
                    + " run yet)"), f.problems().toString());
            assertEquals("6.1.0-57-cloud-amd64", f.release(), "the utsname still names the release");
        }
        byte[] junk = "not the kernel's text at all".getBytes(StandardCharsets.US_ASCII);
        try (GuestKernel k = GuestKernel.attach(null, guest(INFO_PAGE, junk), cpus(), KernelFiles.of(null, systemMap()))) {
            VmcoreFacts f = VmcoreFacts.read(k);
            assertNull(f.vmcoreinfo());
            assertTrue(f.problems().get(0).contains("does not look like VMCOREINFO"), f.problems().toString());
        }
    }
}
