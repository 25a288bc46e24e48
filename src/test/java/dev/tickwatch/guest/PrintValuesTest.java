package dev.tickwatch.guest;

import static dev.tickwatch.guest.btf.BtfWriter.bits;
import static dev.tickwatch.guest.btf.BtfWriter.m;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.command.PrintFormat;
import dev.tickwatch.guest.btf.BtfInt;
import dev.tickwatch.guest.btf.BtfWriter;
import dev.tickwatch.util.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code print} on a fake guest (the {@link KernelFilesTest} kernel: a vmlinux with symbols and
 * BTF, memory slid by KASLR, two CPUs with their per-CPU areas): a per-CPU struct on CPU 1 read
 * through {@code __per_cpu_offset[1]}, nested structs, a bitfield, an enum by name, a function
 * pointer with its symbol, a char array as a string, an abbreviated array; a field path; the same
 * bytes through {@code 'struct tick_sched' ADDR}; and jiffies_64, which BTF has no VAR for.
 */
class PrintValuesTest {

    private static final long VAR = 0x80;
    private static final int SIZE = 144;

    @TempDir
    Path dir;

    /** tick_sched shaped for the test (the real one is bigger): every kind print decodes. */
    static byte[] btf() {
        BtfWriter w = new BtfWriter();
        int llong = w.integer("long long int", 8, BtfInt.SIGNED, 64);
        int s64 = w.typedef("s64", llong);
        int ktime = w.typedef("ktime_t", s64);
        int ulong = w.integer("long unsigned int", 8, 0, 64);
        int uint = w.integer("unsigned int", 4, 0, 32);
        int uchar = w.integer("unsigned char", 1, 0, 8);
        int u8 = w.typedef("u8", uchar);
        int chr = w.integer("char", 1, BtfInt.SIGNED, 8);
        int restart = w.enumeration("hrtimer_restart", 4, false, m("HRTIMER_NORESTART", 0, 0), m("HRTIMER_RESTART", 1, 0));
        int fn = w.ptr(w.funcProto(restart, w.ptr(0)));
        int hrtimer = w.struct("hrtimer", 24, false, m("expires", ktime, 0), m("function", fn, 64), m("state", u8, 128));
        int mode = w.enumeration("tick_nohz_mode", 4, false, m("NOHZ_MODE_INACTIVE", 0, 0), m("NOHZ_MODE_LOWRES", 1, 0),
                m("NOHZ_MODE_HIGHRES", 2, 0));
        int comm = w.array(chr, uint, 16);
        int arr = w.array(ulong, uint, 10);
        int ts = w.struct("tick_sched", SIZE, true, m("sched_timer", hrtimer, 0), bits("tick_stopped", uint, 192, 1),
                bits("idle_active", uint, 193, 1), m("nohz_mode", mode, 224), m("idle_calls", ulong, 256),
                m("next_tick", ktime, 320), m("comm", comm, 384), m("arr", arr, 512));
        int var = w.var("tick_cpu_sched", ts);
        w.datasec(".data..percpu", 0x200, var, (int) VAR, SIZE);
        return w.build();
    }

    static byte[] tickSched(long function, long idleCalls, String comm) {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, 123_456_789_000L).putLong(8, function).put(16, (byte) 1);
        b.put(24, (byte) 0b01); // tick_stopped = 1, idle_active = 0
        b.putInt(28, 2).putLong(32, idleCalls).putLong(40, 5_000_000_000L);
        byte[] c = comm.getBytes(StandardCharsets.ISO_8859_1);
        b.put(48, c, 0, c.length);
        for (int i = 0; i < 10; i++) {
            b.putLong(64 + 8 * i, (long) i * i);
        }
        return b.array();
    }

    private GuestKernel kernel() throws IOException {
        Path f = KernelFilesTest.vmlinux(KernelFilesTest.BANNER, btf())
                .symbol("tick_cpu_sched", ".data..percpu", VAR, 1).write(dir.resolve("vmlinux"));
        FakeMemory m = KernelFilesTest.guest(KernelFilesTest.BANNER);
        long idle = KernelFilesTest.TEXT + KernelFilesTest.SLIDE + 0x180;
        m.write(KernelFilesTest.PER_CPU[0] + VAR, tickSched(idle, 7, "swapper/0"));
        m.write(KernelFilesTest.PER_CPU[1] + VAR, tickSched(idle, 42, "swapper/1"));
        return GuestKernel.attach(null, m, KernelFilesTest.cpus(), KernelFiles.of(f, null));
    }

    @Test
    void aPerCpuStructOnCpu1WithEveryKindOfField() throws IOException {
        try (GuestKernel k = kernel()) {
            Values.Target t = Values.variable(k, "tick_cpu_sched", 1);
            assertEquals(KernelFilesTest.PER_CPU[1] + VAR, t.address());
            String text = PrintFormat.text(t, Values.read(k, t));
            long idle = KernelFilesTest.TEXT + KernelFilesTest.SLIDE + 0x180;
            for (String line : new String[] {
                "# tick_cpu_sched on CPU 1 at 0x" + Long.toHexString(t.address()),
                "struct tick_sched tick_cpu_sched = {",
                "  struct hrtimer sched_timer = {",
                "    ktime_t expires = 123456789000",
                "    enum hrtimer_restart (*function)(void *) = 0x" + Long.toHexString(idle) + " <default_idle+0x0/0x80>",
                "    u8 state = 1",
                "  }",
                "  unsigned int tick_stopped:1 = 1",
                "  unsigned int idle_active:1 = 0",
                "  enum tick_nohz_mode nohz_mode = NOHZ_MODE_HIGHRES",
                "  long unsigned int idle_calls = 42",
                "  char comm[16] = \"swapper/1\"",
                "  long unsigned int arr[10] = { 0, 1, 4, 9, 16, 25, 36, 49, ... 2 more }",
                "}"}) {
                assertTrue(text.lines().anyMatch(line::equals), "'" + line + "' in:\n" + text);
            }

            JsonNode j = Json.MAPPER.valueToTree(PrintFormat.json(t, Values.read(k, t)));
            assertEquals(1, j.path("cpu").asInt());
            assertEquals("0x" + Long.toHexString(t.address()), j.path("address").asText());
            JsonNode members = j.path("value").path("members");
            assertEquals("NOHZ_MODE_HIGHRES", members.get(3).path("value").asText());
            assertEquals(2, members.get(3).path("number").asInt());
            assertEquals(42, members.get(4).path("value").asLong());
            assertEquals("0x" + Long.toHexString(idle), members.get(0).path("members").get(1).path("value").asText());
            assertEquals("swapper/1", members.get(6).path("value").asText());
            assertEquals(10, members.get(7).path("length").asInt());
            assertEquals(2, members.get(7).path("omitted").asInt());
        }
    }

    @Test
    void cpu0ByDefaultFieldPathsTypedAddressesAndUntypedSymbols() throws IOException {
        try (GuestKernel k = kernel()) {
            Values.Target cpu0 = Values.variable(k, "tick_cpu_sched.idle_calls", null);
            assertEquals(7, Values.read(k, cpu0).raw());
            assertTrue(cpu0.note().contains("CPU 0 of 2 shown"), cpu0.note());
            assertEquals(42, Values.read(k, Values.variable(k, "tick_cpu_sched.idle_calls", 1)).raw());
            assertEquals(1, Values.read(k, Values.variable(k, "tick_cpu_sched.tick_stopped", 1)).raw());
            assertEquals(123_456_789_000L, Values.read(k, Values.variable(k, "tick_cpu_sched.sched_timer.expires", 1)).raw());

            Values.Target at = Values.at(k, "struct tick_sched", KernelFilesTest.PER_CPU[1] + VAR);
            assertEquals(Values.read(k, Values.variable(k, "tick_cpu_sched", 1)).members(), Values.read(k, at).members());

            Values.Target j = Values.variable(k, "jiffies_64", null);
            TypedValue v = Values.read(k, j);
            assertEquals(4_294_967_296L + 1234, v.raw());
            assertEquals("u64", v.type());
            assertTrue(j.note().startsWith("no BTF type for jiffies_64: shown as an unsigned 64-bit number (kallsyms: 8"),
                    j.note());
            assertEquals(8, Values.symbolSize(k, "jiffies_64").orElseThrow());
            assertEquals(SIZE, Values.symbolSize(k, "tick_cpu_sched").orElseThrow());

            IllegalArgumentException notPerCpu = assertThrows(IllegalArgumentException.class,
                    () -> Values.variable(k, "jiffies_64", 1));
            assertEquals("jiffies_64 is not a per-CPU variable: --cpu does not apply", notPerCpu.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Values.variable(k, "tick_cpu_sched", 2));
            GuestLayoutException noType = assertThrows(GuestLayoutException.class,
                    () -> Values.at(k, "struct no_such", 0));
            assertTrue(noType.getMessage().startsWith("BTF has no type 'struct no_such'"), noType.getMessage());
        }
    }

    /** The host kernel's own BTF, when readable: every real layout decodes (anonymous unions, bitfields, flexible arrays). */
    @Test
    void realKernelLayoutsDecodeWhole() throws IOException {
        Path own = Path.of("/sys/kernel/btf/vmlinux");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isReadable(own), "no readable " + own);
        Path f = KernelFilesTest.vmlinux(KernelFilesTest.BANNER, java.nio.file.Files.readAllBytes(own))
                .write(dir.resolve("vmlinux"));
        FakeMemory m = KernelFilesTest.guest(KernelFilesTest.BANNER);
        long at = 0xffff888010000000L;
        m.map(at, 64 << 10);
        try (GuestKernel k = GuestKernel.attach(null, m, KernelFilesTest.cpus(), KernelFiles.of(f, null))) {
            for (String type : new String[] {"struct hrtimer_cpu_base", "struct tick_sched", "struct task_struct",
                "struct clock_event_device", "struct rq"}) {
                Values.Target t = Values.at(k, type, at);
                TypedValue v = Values.read(k, t);
                String text = PrintFormat.text(t, v);
                assertTrue(text.startsWith("# (" + type + ") 0x" + Long.toHexString(at) + " at 0x"), text);
                assertTrue(text.lines().skip(1).findFirst().orElseThrow().equals(type + " = {"), text);
                assertTrue(text.endsWith("}\n"), text);
                Json.compact(PrintFormat.json(t, v));
            }
            String hr = PrintFormat.text(Values.at(k, "struct hrtimer_cpu_base", at),
                    Values.read(k, Values.at(k, "struct hrtimer_cpu_base", at)));
            assertTrue(hr.contains("\n  ktime_t expires_next = 0\n"), hr);
            assertTrue(hr.contains("\n  struct hrtimer_clock_base clock_base[8] = {\n"), hr);
        }
    }
}
