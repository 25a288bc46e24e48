package dev.tickwatch.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.btf.BtfWriter;
import dev.tickwatch.guest.sym.ElfFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * tick_sched's state read the same before and after 6.9 turned its bit fields into one flags
 * word: on BTF the test writes (old fields, a flags word, a kernel that names its bits in an
 * enum) and on Debian's 6.12 BTF, taken from the cached vmlinuz when it is there.
 */
class FlagWordTest {

    static StructView view(byte[] btf, long flags) {
        byte[] bytes = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(flags).array();
        return new StructView(Btf.parse(btf), "tick_sched", 0xffff888000000000L, bytes, 0);
    }

    static byte[] flagsWord(boolean namedInEnum) {
        BtfWriter w = new BtfWriter();
        int ulong = w.integer("long unsigned int", 8, 0, 64);
        w.struct("tick_sched", 16, false, BtfWriter.m("flags", ulong, 0), BtfWriter.m("idle_calls", ulong, 64));
        if (namedInEnum) {
            w.enumeration("", 4, false, BtfWriter.m("TS_FLAG_STOPPED", 0x100, 0), BtfWriter.m("TS_FLAG_IDLE_ACTIVE", 0x200, 0));
        }
        return w.build();
    }

    @Test
    void aFlagsWordIsReadByTheBitsNames() {
        StructView stoppedIdle = view(flagsWord(false), 0b0110);
        assertEquals(Optional.of(true), FlagWord.TICK_SCHED.bit(stoppedIdle, "tick_stopped", "TS_FLAG_STOPPED"));
        assertEquals(Optional.of(true), FlagWord.TICK_SCHED.bit(stoppedIdle, "idle_active", "TS_FLAG_IDLE_ACTIVE"));
        StructView inIdleOnly = view(flagsWord(false), 0b0001);
        assertEquals(Optional.of(false), FlagWord.TICK_SCHED.bit(inIdleOnly, "tick_stopped", "TS_FLAG_STOPPED"));
        assertEquals(Optional.of(false), FlagWord.TICK_SCHED.bit(inIdleOnly, "idle_active", "TS_FLAG_IDLE_ACTIVE"));
    }

    @Test
    void aKernelThatNamesItsBitsInBtfIsTakenAtItsWord() {
        StructView v = view(flagsWord(true), 0x100);
        assertEquals(Optional.of(true), FlagWord.TICK_SCHED.bit(v, "tick_stopped", "TS_FLAG_STOPPED"));
        assertEquals(Optional.of(false), FlagWord.TICK_SCHED.bit(v, "idle_active", "TS_FLAG_IDLE_ACTIVE"));
    }

    @Test
    void theOldBitFieldsAreReadWhereTheKernelHasThem() {
        BtfWriter w = new BtfWriter();
        int sint = w.integer("int", 4, 1, 32);
        w.struct("tick_sched", 16, false, BtfWriter.m("inidle", sint, 0), BtfWriter.m("tick_stopped", sint, 32),
                BtfWriter.m("idle_active", sint, 64));
        byte[] bytes = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(1).putInt(1).putInt(0).array();
        StructView v = new StructView(Btf.parse(w.build()), "tick_sched", 0, bytes, 0);
        assertEquals(Optional.of(true), FlagWord.TICK_SCHED.bit(v, "tick_stopped", "TS_FLAG_STOPPED"));
        assertEquals(Optional.of(false), FlagWord.TICK_SCHED.bit(v, "idle_active", "TS_FLAG_IDLE_ACTIVE"));
    }

    @Test
    void aStructWithNeitherGivesNothing() {
        BtfWriter w = new BtfWriter();
        int ulong = w.integer("long unsigned int", 8, 0, 64);
        w.struct("tick_sched", 16, false, BtfWriter.m("idle_calls", ulong, 0));
        StructView v = new StructView(Btf.parse(w.build()), "tick_sched", 0, new byte[16], 0);
        assertTrue(FlagWord.TICK_SCHED.bit(v, "tick_stopped", "TS_FLAG_STOPPED").isEmpty());
    }

    @Test
    void debians612HasTheFlagsWordAndEveryOtherFieldTheTimerViewReads() throws Exception {
        Optional<byte[]> blob = debian612Btf();
        Assumptions.assumeTrue(blob.isPresent(), "no Debian 6.12 vmlinuz in the cache, or no extract-vmlinux");
        Btf btf = Btf.parse(blob.get());
        assertTrue(btf.findField("tick_sched", "flags").isPresent());
        assertTrue(btf.findField("tick_sched", "tick_stopped").isEmpty(), "6.12 has no tick_stopped field");
        assertTrue(btf.findConstant("TS_FLAG_STOPPED").isEmpty(), "TS_FLAG_* are #defines, not in BTF");
        int size = btf.struct("tick_sched").size();
        long flagsAt = btf.field("tick_sched", "flags").offset();
        byte[] bytes = new byte[size];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong((int) flagsAt, 0b10);
        StructView v = new StructView(btf, "tick_sched", 0, bytes, 0);
        assertEquals(Optional.of(true), FlagWord.TICK_SCHED.bit(v, "tick_stopped", "TS_FLAG_STOPPED"));
        assertEquals(Optional.of(false), FlagWord.TICK_SCHED.bit(v, "idle_active", "TS_FLAG_IDLE_ACTIVE"));
        for (String f : List.of("irq_cpustat_t.apic_timer_irqs", "hrtimer_cpu_base.expires_next",
                "hrtimer_cpu_base.nr_events", "hrtimer_cpu_base.hres_active", "tick_sched.next_tick",
                "tick_sched.idle_jiffies", "tick_sched.idle_calls", "tick_sched.idle_sleeps", "tick_device.mode",
                "tick_device.evtdev", "clock_event_device.name", "clock_event_device.state_use_accessors",
                "clock_event_device.next_event")) {
            String[] sf = f.split("\\.", 2);
            assertTrue(btf.findField(sf[0], sf[1]).isPresent(), f + " missing in 6.12: the timer view would print ?");
        }
    }

    /**
     * Debian's 6.12 BTF: the .BTF section of the vmlinux inside the cached vmlinuz, decompressed
     * with the kernel tree's scripts/extract-vmlinux; kept under target/ once extracted.
     */
    static Optional<byte[]> debian612Btf() throws IOException, InterruptedException {
        Path kept = Path.of("target/test-kernels/debian-6.12.btf");
        if (Files.isReadable(kept)) {
            return Optional.of(Files.readAllBytes(kept));
        }
        Path cache = Path.of(System.getProperty("user.home"), ".cache/tickwatch");
        Path vmlinuz = null;
        if (Files.isDirectory(cache.resolve("kernel"))) {
            try (DirectoryStream<Path> d = Files.newDirectoryStream(cache.resolve("kernel"), "6.12.*+deb12-amd64")) {
                for (Path p : d) {
                    if (Files.isReadable(p.resolve("vmlinuz"))) {
                        vmlinuz = p.resolve("vmlinuz");
                    }
                }
            }
        }
        Path script = null;
        for (String tree : List.of("built/linux-6.1-defconfig/tree", "built/linux-6.1-defconfig.part/tree")) {
            Path s = cache.resolve(tree).resolve("scripts/extract-vmlinux");
            if (Files.isReadable(s)) {
                script = s;
                break;
            }
        }
        if (vmlinuz == null || script == null) {
            return Optional.empty();
        }
        Files.createDirectories(kept.getParent());
        Path elf = kept.resolveSibling("debian-6.12.vmlinux");
        Process p = new ProcessBuilder("sh", script.toString(), vmlinuz.toString()).redirectOutput(elf.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            return Optional.empty();
        }
        try (ElfFile f = ElfFile.open(elf)) {
            byte[] btf = f.bytes(f.section(".BTF").orElseThrow());
            Files.write(kept, btf);
            return Optional.of(btf);
        } finally {
            Files.deleteIfExists(elf);
        }
    }
}
