package dev.tickwatch.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.qemu.QemuConfig;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.guest.mem.GuestMemory;
import dev.tickwatch.guest.mem.MemoryBackends;
import dev.tickwatch.guest.sym.Image;
import dev.tickwatch.guest.sym.KernelImage;
import dev.tickwatch.guest.sym.Kallsyms;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import dev.tickwatch.testing.GuestFiles;
import dev.tickwatch.testing.Guests;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Symbols decoded from guest memory against the guest's own /proc/kallsyms, KASLR on and off. */
class KallsymsIT {

    @ParameterizedTest(name = "kaslr={0}")
    @ValueSource(booleans = {false, true})
    void everySampledSymbolResolvesToTheGuestsOwnAddress(boolean kaslr, @TempDir Path dir) throws Exception {
        GuestFiles.Setup setup = GuestFiles.setup(dir, List.of("/proc/kallsyms"));
        setup.config().append(QemuConfig.DEFAULT_APPEND + (kaslr ? " kaslr" : " nokaslr"));
        try (QemuVm vm = QemuVm.start(setup.config().build())) {
            setup.files().await(vm, Duration.ofSeconds(120));
            Map<String, Long> guest = new HashMap<>();
            List<String> sampleable = new ArrayList<>();
            for (String line : new String(setup.files().bytes("/proc/kallsyms"), StandardCharsets.ISO_8859_1).split("\n")) {
                String[] f = line.split("\\s+");
                if (f.length == 3 && guest.putIfAbsent(f[2], Long.parseUnsignedLong(f[0], 16)) == null) {
                    sampleable.add(f[2]); // kernel image symbols only: module lines have a 4th field
                }
            }
            List<CpuRegisters> cpus = CpuRegisters.parseAll(vm.qmp().hmp("info registers -a"));
            long t0 = System.nanoTime();
            MemoryBackends.Choice choice = MemoryBackends.open(vm.qmp(), cpus, null);
            try (GuestMemory mem = choice.memory()) {
                KernelImage.Range range = KernelImage.locate(mem, cpus);
                Kallsyms syms = Kallsyms.find(Image.of(mem, range.start(), range.length()));
                System.out.printf("kaslr=%s backend=%s image=0x%x..0x%x %s in %.0f ms (passed over: %s)%n", kaslr,
                        mem.backend().label(), range.start(), range.end(), syms, (System.nanoTime() - t0) / 1e6,
                        choice.passedOver());
                assertEquals(guest.get("_text"), range.start(), "image starts at _text");
                if (kaslr) {
                    assertTrue(guest.get("_text") != 0xffffffff81000000L, "KASLR moved the kernel");
                }
                Collections.shuffle(sampleable, new Random(42));
                int checked = 0;
                for (String name : sampleable.subList(0, Math.min(1000, sampleable.size()))) {
                    assertEquals(guest.get(name), syms.addressOf(name).orElse(null), name);
                    checked++;
                }
                assertEquals(1000, checked);
                long jiffies = guest.get("jiffies_64");
                var atJiffies = syms.lookup(jiffies).orElseThrow();
                assertEquals(jiffies, atJiffies.symbol().address(), "jiffies_64 and its alias jiffies share an address");
                assertTrue(List.of("jiffies", "jiffies_64").contains(atJiffies.symbol().name()), atJiffies.toString());
                // GuestKernel reuses a build it decoded before (the previous run, other KASLR slide):
                // the slid table must agree with the guest just as well.
                try (GuestKernel k = GuestKernel.attach(vm.qmp())) {
                    for (String name : sampleable.subList(0, 1000)) {
                        assertEquals(guest.get(name), k.symbols().addressOf(name).orElse(null), "attached: " + name);
                    }
                    System.out.printf("kaslr=%s GuestKernel.attach %.0f ms (kallsyms step %.0f ms)%n", kaslr,
                            k.timings().totalMs(), k.timings().kallsymsMs());
                }
                assertEquals(guest.get("default_idle") + 3,
                        syms.addressOf("default_idle").orElseThrow() + syms.lookup(guest.get("default_idle") + 3)
                                .orElseThrow().offset());
            }
        }
    }
}
