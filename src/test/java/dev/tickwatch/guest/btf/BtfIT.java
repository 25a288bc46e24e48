package dev.tickwatch.guest.btf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.testing.GuestFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real guest (Debian's cloud kernel, nokaslr): the BTF blob found in kernel rodata read through
 * QMP {@code memsave} is byte for byte the guest's own {@code /sys/kernel/btf/vmlinux}; the
 * fields tickwatch reads have the same, plausible layout in both parses; and those offsets read
 * {@code init_task} correctly out of guest memory.
 */
class BtfIT {

    private static final String KALLSYMS = "/proc/kallsyms";
    private static final String VMLINUX = "/sys/kernel/btf/vmlinux";

    private static final Map<String, List<String>> FIELDS = new LinkedHashMap<>();

    static {
        FIELDS.put("clock_event_device", List.of("event_handler", "next_event", "name", "state_use_accessors",
                "features", "mult", "shift", "min_delta_ns"));
        FIELDS.put("hrtimer_cpu_base", List.of("expires_next", "nr_events", "hres_active", "next_timer", "clock_base"));
        FIELDS.put("tick_sched", List.of("tick_stopped", "idle_active", "next_tick", "idle_jiffies", "idle_calls",
                "idle_sleeps", "last_tick"));
        FIELDS.put("tick_device", List.of("evtdev", "mode"));
        FIELDS.put("irq_cpustat_t", List.of("apic_timer_irqs"));
        FIELDS.put("task_struct", List.of("comm", "__state", "pid", "tasks", "last_switch_count", "last_switch_time",
                "stack", "on_cpu"));
        FIELDS.put("module", List.of("name", "list"));
    }

    @TempDir
    Path work;

    @Test
    void btfInGuestMemoryIsTheGuestsOwnAndHasTheLayoutsWeRead() throws Exception {
        GuestFiles.Setup setup = GuestFiles.setup(work, List.of(KALLSYMS, VMLINUX));
        try (QemuVm vm = QemuVm.start(setup.config().build())) {
            setup.files().await(vm, Duration.ofSeconds(120));
            byte[] exported = setup.files().bytes(VMLINUX);
            Map<String, Long> syms = kallsyms(setup.files().bytes(KALLSYMS));
            assertTrue(exported.length > 1_000_000, "guest BTF is only " + exported.length + " bytes");

            // Read a window of rodata around the blob (not the blob exactly), so find has to search.
            long startBtf = symbol(syms, "__start_BTF");
            long stopBtf = symbol(syms, "__stop_BTF");
            long lo = Math.max(syms.getOrDefault("__start_rodata", startBtf), startBtf - 0x40000);
            long hi = Math.min(syms.getOrDefault("__end_rodata", stopBtf + 0x10000), stopBtf + 0x10000);
            Path dump = work.resolve("rodata.bin");
            vm.qmp().memsave(lo, hi - lo, dump, 0);
            byte[] image = Files.readAllBytes(dump);
            System.out.printf("BtfIT: __start_BTF=%x __stop_BTF=%x (%d bytes), read [%x, %x)%n",
                    startBtf, stopBtf, stopBtf - startBtf, lo, hi);

            long t0 = System.nanoTime();
            BtfLocation at = Btf.find(image).orElseThrow(() -> new AssertionError("no BTF in rodata dump"));
            long findNanos = System.nanoTime() - t0;
            assertEquals(startBtf - lo, at.offset());
            assertArrayEquals(exported, at.bytes(image), "BTF in memory differs from " + VMLINUX);

            long best = Long.MAX_VALUE;
            Btf fromMemory = null;
            for (int i = 0; i < 5; i++) {
                t0 = System.nanoTime();
                fromMemory = Btf.parse(at.bytes(image));
                fromMemory.struct("tick_sched");
                best = Math.min(best, System.nanoTime() - t0);
            }
            Btf fromFile = Btf.parse(exported);
            System.out.printf("BtfIT: %d bytes, %d types; find in %d-byte image %.1f ms; best parse+index %.1f ms%n",
                    exported.length, fromMemory.typeCount(), image.length, findNanos / 1e6, best / 1e6);

            for (Map.Entry<String, List<String>> e : FIELDS.entrySet()) {
                String struct = e.getKey();
                BtfComposite c = fromMemory.struct(struct);
                for (String name : e.getValue()) {
                    BtfField f = fromMemory.field(struct, name);
                    assertEquals(f, fromFile.field(struct, name));
                    assertTrue(f.offset() + Math.max(1, f.size()) <= c.size() || f.isBitfield()
                            && f.bitOffset() + f.bitSize() <= 8L * c.size(),
                            struct + "." + name + " at " + f.offset() + " size " + f.size() + " outside " + c.size());
                    System.out.printf("BtfIT: %s.%s offset %d%s size %d type %s%n", struct, name, f.offset(),
                            f.isBitfield() ? " bit " + f.bitOffset() + ":" + f.bitSize() : "", f.size(), f.typeName());
                }
            }
            plausibleTypes(fromMemory);
            readsInitTask(vm, fromMemory, symbol(syms, "init_task"));
        }
    }

    private static void plausibleTypes(Btf btf) {
        assertEquals("void (*)(struct clock_event_device *)",
                btf.field("clock_event_device", "event_handler").typeName());
        assertEquals("ktime_t", btf.field("clock_event_device", "next_event").typeName());
        assertEquals("const char *", btf.field("clock_event_device", "name").typeName());
        assertEquals("struct hrtimer_clock_base[8]", btf.field("hrtimer_cpu_base", "clock_base").typeName());
        assertTrue(btf.field("tick_sched", "tick_stopped").isBitfield(), "tick_stopped is a bitfield in 6.1");
        assertEquals(1, btf.field("tick_sched", "tick_stopped").bitSize());
        assertEquals("struct clock_event_device *", btf.field("tick_device", "evtdev").typeName());
        assertEquals("enum tick_device_mode", btf.field("tick_device", "mode").typeName());
        assertEquals(1, btf.enumValue("tick_device_mode", "TICKDEV_MODE_ONESHOT"));
        assertEquals(3, btf.enumValue("clock_event_state", "CLOCK_EVT_STATE_ONESHOT"));
        assertEquals("char[16]", btf.field("task_struct", "comm").typeName());
        assertEquals("struct list_head", btf.field("module", "list").typeName());
        assertEquals(0, btf.field("list_head", "next").offset());
    }

    /** The swapper task: comm "swapper/0", pid 0, tasks.next a kernel pointer, stack a kernel pointer. */
    private void readsInitTask(QemuVm vm, Btf btf, long initTask) throws Exception {
        int size = btf.struct("task_struct").size();
        Path dump = work.resolve("init_task.bin");
        vm.qmp().memsave(initTask, size, dump, 0);
        byte[] task = Files.readAllBytes(dump);
        BtfField comm = btf.field("task_struct", "comm");
        String name = new String(task, comm.offset(), comm.size(), StandardCharsets.US_ASCII).replaceAll("\0.*", "");
        assertEquals("swapper/0", name);
        assertEquals(0, btf.field("task_struct", "pid").read(task, 0));
        long next = btf.field("task_struct", "tasks.next").read(task, 0);
        long stack = btf.field("task_struct", "stack").read(task, 0);
        assertTrue(next < 0 && stack < 0, String.format("tasks.next %x stack %x are not kernel addresses", next, stack));
        System.out.printf("BtfIT: init_task at %x (%d bytes): comm %s, tasks.next %x, stack %x%n",
                initTask, size, name, next, stack);
    }

    private static long symbol(Map<String, Long> syms, String name) {
        Long v = syms.get(name);
        if (v == null || v == 0) {
            throw new AssertionError("guest kallsyms has no " + name);
        }
        return v;
    }

    private static Map<String, Long> kallsyms(byte[] text) {
        Map<String, Long> out = new HashMap<>();
        for (String line : new String(text, StandardCharsets.US_ASCII).split("\n")) {
            String[] f = line.split("\\s+");
            if (f.length == 3) { // "addr type name"; module symbols have a 4th field
                out.putIfAbsent(f[2], Long.parseUnsignedLong(f[0], 16));
            }
        }
        return out;
    }
}
