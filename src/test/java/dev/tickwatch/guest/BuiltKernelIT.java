package dev.tickwatch.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.cli.Main;
import dev.tickwatch.guest.sym.SymbolTable;
import dev.tickwatch.guest.sym.SystemMap;
import dev.tickwatch.lab.Lab;
import dev.tickwatch.lab.LabMode;
import dev.tickwatch.probe.Probe;
import dev.tickwatch.probe.ProbeOptions;
import dev.tickwatch.qemu.KernelCache;
import dev.tickwatch.qemu.QemuConfig;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.testing.GuestFiles;
import dev.tickwatch.verdict.Decision;
import dev.tickwatch.verdict.Verdict;
import dev.tickwatch.watch.Watch;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The kernel the suite builds from Debian's linux-source-6.1 with defconfig + kvm_guest.config
 * (KALLSYMS_ALL off, no BTF, no DWARF, KASLR on), registered in the cache as
 * {@code built-6.1-defconfig} with its vmlinux and System.map: its text symbols work from memory
 * alone, {@code --vmlinux} and {@code --system-map} give the data symbols at the guest's own
 * addresses, and the lab's timer stall and spin get their verdicts without either file.
 */
class BuiltKernelIT {

    static final String NAME = "built-6.1-defconfig";
    static KernelCache.Kernel kernel;

    @TempDir
    Path work;

    @BeforeAll
    static void builtKernel() {
        kernel = KernelCache.standard().kernel(NAME);
        assertNotNull(kernel.vmlinux(), "no vmlinux next to " + kernel.image());
        assertNotNull(kernel.systemMap(), "no System.map next to " + kernel.image());
    }

    /** The guest's /proc/kallsyms, name to address (first of each name), as the guest's root reads it. */
    private Map<String, Long> guestKallsyms(GuestFiles files) {
        Map<String, Long> out = new HashMap<>();
        for (String line : new String(files.bytes("/proc/kallsyms"), StandardCharsets.ISO_8859_1).split("\n")) {
            String[] f = line.split("\\s+");
            if (f.length == 3) {
                out.putIfAbsent(f[2], Long.parseUnsignedLong(f[0], 16));
            }
        }
        return out;
    }

    private static String run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        assertEquals(0, code, "tickwatch " + String.join(" ", args) + ": " + err);
        return out.toString().strip();
    }

    @Test
    void textSymbolsFromMemoryAloneAndDataSymbolsFromTheDevelopersFiles() throws Exception {
        GuestFiles.Setup setup = GuestFiles.setup(work, List.of("/proc/kallsyms"));
        setup.config().kernel(kernel.image()).append(QemuConfig.DEFAULT_APPEND + " kaslr").userMonitor(true);
        try (QemuVm vm = QemuVm.start(setup.config().build())) {
            setup.files().await(vm, Duration.ofSeconds(120));
            Map<String, Long> guest = guestKallsyms(setup.files());
            assertFalse(guest.containsKey("jiffies_64"), "defconfig's kallsyms has no data symbols");
            SymbolTable map = SystemMap.read(kernel.systemMap());
            long slide = guest.get("_text") - map.addressOf("_text").orElseThrow();
            long jiffies64 = map.addressOf("jiffies_64").orElseThrow() + slide;
            assertTrue(slide != 0, "KASLR moved the kernel");

            try (GuestKernel k = GuestKernel.attach(vm.qmp())) {
                assertFalse(k.symbols().hasDataSymbols());
                assertEquals(guest.get("_text"), k.symbols().addressOf("_text").orElseThrow());
                assertEquals(guest.get("default_idle"), k.symbols().addressOf("default_idle").orElseThrow());
                GuestLayoutException e = assertThrows(GuestLayoutException.class, k::jiffies);
                assertTrue(e.getMessage().contains("KALLSYMS_ALL off; give --vmlinux or --system-map"), e.getMessage());
            }
            String qmp = vm.userQmpEndpoint().toString();
            assertEquals(String.format("%016x _text", guest.get("_text")), run("guest", "--qmp", qmp, "sym", "_text"));
            assertEquals(String.format("%016x jiffies_64", jiffies64),
                    run("guest", "--qmp", qmp, "sym", "jiffies_64", "--vmlinux", kernel.vmlinux().toString()));
            assertEquals(String.format("%016x jiffies_64", jiffies64),
                    run("guest", "--qmp", qmp, "sym", "jiffies_64", "--system-map", kernel.systemMap().toString()));
            for (String name : List.of("default_idle", "asm_exc_divide_error", "schedule")) {
                assertEquals(String.format("%016x %s", guest.get(name), name),
                        run("guest", "--qmp", qmp, "sym", name, "--vmlinux", kernel.vmlinux().toString()), name);
            }
            long j1 = Long.parseUnsignedLong(run("guest", "--qmp", qmp, "jiffies", "--vmlinux", kernel.vmlinux().toString()));
            long j2 = Long.parseUnsignedLong(run("guest", "--qmp", qmp, "jiffies", "--vmlinux", kernel.vmlinux().toString()));
            assertTrue(j2 >= j1 && j1 > 0, j1 + " then " + j2);
            String info = run("guest", "--qmp", qmp, "info", "--vmlinux", kernel.vmlinux().toString());
            assertTrue(info.contains("from vmlinux " + kernel.vmlinux() + "'s symbol table"), info);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"TIMER_STALL_LOST, TIMER_STALL", "SPIN_DEADLOCK, SPIN_LOCKUP"})
    void labHangsAreDecidedWithoutAnyFile(LabMode mode, Verdict expected) throws Exception {
        List<Decision> changes = Collections.synchronizedList(new ArrayList<>());
        try (QemuVm vm = QemuVm.start(Lab.config(mode, work, true, List.of(), kernel).build());
                Watch watch = new Watch(new Probe(vm.qmp(), vm.console(), ProbeOptions.defaults()), Watch.Options.defaults())) {
            CompletableFuture<Decision> hang = new CompletableFuture<>();
            List<String> sources = Collections.synchronizedList(new ArrayList<>());
            watch.onSample(s -> sources.addAll(s.sources()));
            watch.onChange(d -> {
                changes.add(d);
                if (d.verdict().isHang()) {
                    hang.complete(d);
                }
            }).start();
            assertTrue(vm.console().await(t -> t.contains(Lab.INSMOD_MARKER), Duration.ofSeconds(90)), "lab module loaded");
            Decision d = hang.get(60, TimeUnit.SECONDS);
            System.out.printf("%s on %s: %s %s; %s%n", mode, NAME, d.verdict(), d.flavour(), d.evidence());
            assertEquals(expected, d.verdict(), changes.toString());
            assertTrue(sources.stream().anyMatch(s -> s.contains("jiffies: not readable (kallsyms has no data symbols")),
                    "the missing reading is named: " + sources.stream().distinct().toList());
        }
    }
}
