package dev.tickwatch.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.guest.btf.BtfWriter;
import dev.tickwatch.guest.sym.ElfWriter;
import dev.tickwatch.guest.sym.KallsymsTest;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attaching with the developer's vmlinux or System.map over a fake guest memory: the slide comes
 * from the IDT, untyped readings work without BTF, types come from the file's .BTF section, a
 * file of another build is refused in one line; and without any file a text-only kallsyms still
 * attaches and names what it cannot read.
 */
class KernelFilesTest {

    static final long TEXT = 0xffffffff81000000L;
    static final long SLIDE = 0x1e00000L;
    static final long IDT = 0xfffffe0000000000L;
    static final String BANNER = "Linux version 6.1.0-test (dev@host) (gcc 12) #1 SMP PREEMPT_DYNAMIC";
    static final long[] PER_CPU = {0xffff88800f600000L, 0xffff88800f700000L};

    /** A vmlinux-like ELF: text, rodata with the banner, data, and a per-CPU section at 0, each 2 MiB apart. */
    static ElfWriter vmlinux(String banner, byte[] btf) {
        ElfWriter w = new ElfWriter()
                .section(".text", ElfWriter.PROGBITS, ElfWriter.ALLOC | ElfWriter.EXEC, TEXT, new byte[0x200])
                .section(".rodata", ElfWriter.PROGBITS, ElfWriter.ALLOC, TEXT + 0x200000,
                        (banner + "\n\0").getBytes(StandardCharsets.ISO_8859_1))
                .section(".data", ElfWriter.PROGBITS, ElfWriter.ALLOC | ElfWriter.WRITE, TEXT + 0x400000, new byte[64])
                .section(".data..percpu", ElfWriter.PROGBITS, ElfWriter.ALLOC | ElfWriter.WRITE, 0, new byte[0x100])
                .symbol("_text", ".text", TEXT, 0).symbol("_stext", ".text", TEXT, 0)
                .symbol("asm_exc_divide_error", ".text", TEXT + 0x100, 2).symbol("default_idle", ".text", TEXT + 0x180, 2)
                .symbol("_etext", ".text", TEXT + 0x200, 0)
                .symbol("linux_banner", ".rodata", TEXT + 0x200000, 1)
                .symbol("jiffies_64", ".data", TEXT + 0x400000, 1)
                .symbol("__per_cpu_offset", ".data", TEXT + 0x400008, 1)
                .symbol("tick_do_timer_cpu", ".data", TEXT + 0x400028, 1)
                .symbol("irq_stat", ".data..percpu", 0x40, 1);
        if (btf != null) {
            w.section(".BTF", ElfWriter.PROGBITS, ElfWriter.ALLOC, TEXT + 0x300000, btf);
        }
        return w;
    }

    /** The running kernel: the same build slid by {@link #SLIDE}, its banner, jiffies, per-CPU offsets and IDT. */
    static FakeMemory guest(String banner) {
        FakeMemory m = new FakeMemory();
        long t = TEXT + SLIDE;
        m.map(t, 0x1000).map(t + 0x400000, 0x1000);
        m.write(t + 0x200000, (banner + "\n\0").getBytes(StandardCharsets.ISO_8859_1));
        m.writeLong(t + 0x400000, 4_294_967_296L + 1234);
        m.writeLong(t + 0x400008, PER_CPU[0]).writeLong(t + 0x400010, PER_CPU[1]);
        m.write(t + 0x400028, new byte[] {1, 0, 0, 0});
        m.write(IDT, gate(t + 0x100));
        return m;
    }

    static List<CpuRegisters> cpus() {
        return List.of(new CpuRegisters(0, TEXT + SLIDE + 0x188, 0x202, 0, true, true, 0, 0, 0, PER_CPU[0], IDT),
                new CpuRegisters(1, TEXT + SLIDE + 0x188, 0x202, 0, true, true, 0, 0, 0, PER_CPU[1], IDT));
    }

    /** A 64-bit interrupt gate to {@code handler} (Intel SDM vol. 3A, 6.14.1). */
    static byte[] gate(long handler) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) handler).putShort((short) 0x10).put((byte) 0).put((byte) 0x8e)
                .putShort((short) (handler >>> 16)).putInt((int) (handler >>> 32)).putInt(0);
        return b.array();
    }

    static byte[] tickSchedBtf() {
        BtfWriter w = new BtfWriter();
        int ulong = w.integer("long unsigned int", 8, 0, 64);
        w.struct("tick_sched", 16, false, BtfWriter.m("flags", ulong, 0), BtfWriter.m("idle_calls", ulong, 64));
        return w.build();
    }

    @Test
    void theSlideComesFromTheIdtAndUntypedReadingsNeedNoBtf(@TempDir Path dir) throws IOException {
        Path f = vmlinux(BANNER, null).write(dir.resolve("vmlinux"));
        try (GuestKernel k = GuestKernel.attach(null, guest(BANNER), cpus(), KernelFiles.of(f, null))) {
            assertEquals(TEXT + SLIDE + 0x400000, k.symbols().addressOf("jiffies_64").orElseThrow());
            assertEquals(4_294_967_296L + 1234, k.jiffies());
            assertEquals(PER_CPU[1] + 0x40, k.perCpu("irq_stat", 1));
            assertEquals("default_idle+0x8/0x80", k.symbolize(TEXT + SLIDE + 0x188));
            assertEquals(BANNER, k.version());
            assertEquals("vmlinux " + f + "'s symbol table", k.symbols().source());
            assertFalse(k.hasBtf());
            assertTrue(k.btfProblem().startsWith("vmlinux " + f + " has neither a .BTF section nor DWARF"), k.btfProblem());
            TimerView t = k.timers();
            assertEquals(4_294_967_296L + 1234, t.jiffies());
            assertEquals(1, t.tickDoTimerCpu());
            assertTrue(t.cpus().isEmpty());
            assertTrue(t.unavailable().get(t.unavailable().size() - 1).startsWith("per-CPU timers (vmlinux "),
                    t.unavailable().toString());
        }
    }

    @Test
    void typesComeFromTheVmlinuxsBtfSection(@TempDir Path dir) throws IOException {
        Path f = vmlinux(BANNER, tickSchedBtf()).write(dir.resolve("vmlinux"));
        try (GuestKernel k = GuestKernel.attach(null, guest(BANNER), cpus(), KernelFiles.of(f, null))) {
            assertTrue(k.hasBtf());
            assertEquals("vmlinux " + f + "'s .BTF section", k.typesFrom());
            assertEquals(8, k.btf().field("tick_sched", "idle_calls").offset());
        }
    }

    @Test
    void aSystemMapAloneIsPlacedTheSameWay(@TempDir Path dir) throws IOException {
        Path map = Files.writeString(dir.resolve("System.map"), String.join("\n",
                "0000000000000040 D irq_stat", "ffffffff81000000 T _text", "ffffffff81000100 T asm_exc_divide_error",
                "ffffffff81200000 D linux_banner", "ffffffff81400000 D jiffies_64",
                "ffffffff81400008 D __per_cpu_offset") + "\n");
        try (GuestKernel k = GuestKernel.attach(null, guest(BANNER), cpus(), KernelFiles.of(null, map))) {
            assertEquals(4_294_967_296L + 1234, k.jiffies());
            assertEquals(PER_CPU[0] + 0x40, k.perCpu("irq_stat", 0));
            assertEquals(BANNER, k.version());
        }
    }

    @Test
    void aVmlinuxOfAnotherBuildIsRefusedInOneLine(@TempDir Path dir) throws IOException {
        String other = "Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1";
        Path f = vmlinux(other, null).write(dir.resolve("vmlinux"));
        KernelMismatchException e = assertThrows(KernelMismatchException.class,
                () -> GuestKernel.attach(null, guest(BANNER), cpus(), KernelFiles.of(f, null)));
        assertEquals("vmlinux " + f + " does not match the running kernel: its banner is '" + other
                + "' but the guest runs '" + BANNER + "'", e.getMessage());
    }

    @Test
    void anIdtThatPointsOffTheGridIsAnotherBuild(@TempDir Path dir) throws IOException {
        Path f = vmlinux(BANNER, null).write(dir.resolve("vmlinux"));
        FakeMemory m = guest(BANNER).write(IDT, gate(TEXT + SLIDE + 0x140));
        KernelMismatchException e = assertThrows(KernelMismatchException.class,
                () -> GuestKernel.attach(null, m, cpus(), KernelFiles.of(f, null)));
        assertTrue(e.getMessage().contains("not a multiple of 2 MiB"), e.getMessage());
    }

    @Test
    void aTextOnlyKallsymsAttachesAndNamesWhatItLacks() {
        List<KallsymsTest.Sym> text = KallsymsTest.symbols(600).stream().filter(s -> "Tt".indexOf(s.type()) >= 0).toList();
        byte[] img = KallsymsTest.image(text, KallsymsTest.Layout.V6_1, 0x1008, 1 << 18);
        byte[] banner = (BANNER + "\n\0").getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(banner, 0, img, img.length - 4096, banner.length);
        FakeMemory m = new FakeMemory().write(KallsymsTest.BASE, img);
        long rip = text.get(10).address() + 1;
        List<CpuRegisters> cpus = List.of(new CpuRegisters(0, rip, 0x202, 0, true, true, 0, 0, 0, 0, 0));
        try (GuestKernel k = GuestKernel.attach(null, m, cpus)) {
            assertFalse(k.symbols().hasDataSymbols());
            assertEquals(KallsymsTest.BASE, k.symbols().addressOf("_text").orElseThrow());
            assertEquals(text.get(10).name() + "+0x1", k.symbolize(rip).substring(0, k.symbolize(rip).indexOf('/')));
            assertEquals(BANNER, k.version());
            GuestLayoutException j = assertThrows(GuestLayoutException.class, k::jiffies);
            assertEquals("jiffies: not readable (kallsyms has no data symbols: KALLSYMS_ALL off; give --vmlinux or"
                    + " --system-map)", j.getMessage());
            GuestLayoutException p = assertThrows(GuestLayoutException.class, () -> k.perCpuOffset(0));
            assertTrue(p.getMessage().startsWith("__per_cpu_offset: not readable (kallsyms has no data symbols"),
                    p.getMessage());
        }
    }

    @Test
    void dwarfBecomesBtfThroughPahole(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(KernelFiles.Pahole.find().isPresent(), "pahole (Debian's dwarves) not installed");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/gcc")), "no gcc");
        Path c = Files.writeString(dir.resolve("ts.c"), """
                struct tick_sched { unsigned long flags; unsigned int stalled_jiffies; unsigned long idle_calls; };
                struct tick_sched tick_cpu_sched;
                unsigned long long jiffies_64;
                """);
        Path o = dir.resolve("ts.o");
        Process p = new ProcessBuilder("/usr/bin/gcc", "-g", "-c", c.toString(), "-o", o.toString())
                .redirectErrorStream(true).start();
        String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), said);
        KernelFiles.Loaded l = KernelFiles.of(o, null).load();
        assertNotNull(l.btf(), l.noTypes());
        assertEquals("vmlinux " + o + "'s DWARF through pahole --btf_encode_detached", l.typesFrom());
        assertEquals(16, l.btf().field("tick_sched", "idle_calls").offset());
        assertTrue(l.symbols().addressOf("jiffies_64").isPresent());
    }
}
