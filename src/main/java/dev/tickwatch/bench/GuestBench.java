package dev.tickwatch.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.qemu.Accel;
import dev.tickwatch.qemu.Appliance;
import dev.tickwatch.qemu.KernelCache;
import dev.tickwatch.probe.Milestone;
import dev.tickwatch.qemu.QemuConfig;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.gdb.GdbClient;
import dev.tickwatch.gdb.GdbOptions;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.mem.GdbMemory;
import dev.tickwatch.guest.mem.GuestMemory;
import dev.tickwatch.guest.mem.MemoryBackends;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import dev.tickwatch.qmp.hmp.Hmp;
import dev.tickwatch.util.FileTrees;
import dev.tickwatch.util.Json;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ExitCode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch bench guest}: on a booted appliance, the time from a fresh attach to symbols
 * and types, and guest-memory read throughput per backend over the same range of the direct map
 * (the same bytes through every backend, checked equal), with {@code gdb -batch} over the same
 * stub as the yardstick.
 */
@CliOnly("a benchmark or recorder: figures and transcripts, not a look at a guest")
@Command(name = "guest", mixinStandardHelpOptions = true,
        description = "Attach time (kallsyms and BTF from memory) and MB/s read per memory backend, against gdb -batch.")
public final class GuestBench implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--mib", paramLabel = "MIB", defaultValue = "64", description = "MiB to read per backend (default: ${DEFAULT-VALUE})")
    int mib;

    @Option(names = "--slow-mib", paramLabel = "MIB", defaultValue = "4",
            description = "MiB for the text-based HMP backend, scaled to a rate (default: ${DEFAULT-VALUE})")
    int slowMib;

    @Option(names = "--attaches", paramLabel = "N", defaultValue = "5", description = "fresh attaches timed (default: ${DEFAULT-VALUE})")
    int attaches;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path work = Files.createTempDirectory("tickwatch-bench-");
        try {
            Path initrd = Appliance.builder().command("sleep 600").build().write(work.resolve("initrd.gz"));
            QemuConfig config = QemuConfig.builder().kernel(KernelCache.standard().current().image())
                    .initrd(initrd).smp(2).memoryMiB(Math.max(256, mib * 2 + 64)).accel(Accel.TCG).build();
            try (QemuVm vm = QemuVm.start(config)) {
                if (!vm.console().await(t -> t.contains(Milestone.USERLAND.marker()), Duration.ofSeconds(120))) {
                    throw new TickwatchException("the appliance did not reach userland");
                }
                return bench(out, vm, work);
            }
        } finally {
            FileTrees.deleteTree(work);
        }
    }

    private int bench(PrintWriter out, QemuVm vm, Path work) throws Exception {
        ObjectNode o = Json.object();
        List<Double> attachMs = new ArrayList<>();
        long start;
        try (GuestKernel k = GuestKernel.attach(vm.qmp())) {
            attachMs.add(k.timings().totalMs());
            // 16 MiB into the direct map: RAM the kernel has mapped, away from firmware holes.
            start = k.memory().readLong(k.symbols().require("page_offset_base")) + (16L << 20);
        }
        for (int i = 1; i < attaches; i++) {
            try (GuestKernel k = GuestKernel.attach(vm.qmp())) {
                attachMs.add(k.timings().totalMs());
            }
        }
        o.put("attach_first_ms", round(attachMs.get(0)));
        o.put("attach_median_ms", round(median(attachMs)));
        o.put("address", Json.hex(start));
        int length = mib << 20;
        List<CpuRegisters> cpus = new Hmp(vm.qmp()).registers();
        ArrayNode rates = o.putArray("backends");
        byte[] reference = null;
        double gdbStubMbs = 0;
        for (GuestMemory.Backend b : GuestMemory.Backend.values()) {
            int n = b == GuestMemory.Backend.HMP_X ? slowMib << 20 : length;
            byte[] bytes;
            long t0;
            long t1;
            if (b == GuestMemory.Backend.GDBSTUB) {
                try (GdbClient gdb = GdbClient.connect(vm.gdbEndpoint(), GdbOptions.builder()
                        .fallbackResume(vm.qmp()::contAsync)
                        .shutdownHook(true).build()); GuestMemory m = new GdbMemory(gdb)) {
                    t0 = System.nanoTime();
                    bytes = m.read(start, n);
                    t1 = System.nanoTime();
                }
            } else {
                try (GuestMemory m = MemoryBackends.open(vm.qmp(), cpus, b).memory()) {
                    t0 = System.nanoTime();
                    bytes = m.read(start, n);
                    t1 = System.nanoTime();
                }
            }
            double mbs = n / 1e6 / ((t1 - t0) / 1e9);
            if (b == GuestMemory.Backend.GDBSTUB) {
                gdbStubMbs = mbs;
            }
            // The guest runs on: compare only kernel memory that holds still across reads? The direct
            // map changes under a live guest, so equality is checked on the first 64 KiB only.
            boolean same = reference == null || Arrays.equals(Arrays.copyOf(reference, 65536), Arrays.copyOf(bytes, 65536));
            if (reference == null) {
                reference = bytes;
            }
            rates.addObject().put("backend", b.label()).put("pauses_guest", b.pauses()).put("bytes", n)
                    .put("seconds", round((t1 - t0) / 1e9)).put("mb_per_s", round(mbs)).put("first_64k_equal", same);
            out.printf(Locale.ROOT, "%-12s %8.1f MB/s  (%d MiB in %.3f s%s)%n", b.label(), mbs, n >> 20, (t1 - t0) / 1e9,
                    b.pauses() ? ", pauses the guest" : "");
            out.flush();
        }
        dev.tickwatch.net.Endpoint.Unix unix = vm.gdbEndpoint();
        Path dump = work.resolve("gdb.bin");
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder("gdb", "-nx", "-batch", "-ex", "set architecture i386:x86-64",
                "-ex", "target remote " + unix.path(),
                "-ex", "dump binary memory " + dump + " 0x" + Long.toHexString(start) + " 0x" + Long.toHexString(start + length),
                "-ex", "detach").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new TickwatchException("gdb -batch failed");
        }
        double gdbMbs = length / 1e6 / ((System.nanoTime() - t0) / 1e9);
        if (!vm.qmp().queryStatus().running()) {
            vm.qmp().cont();
        }
        o.put("gdb_batch_mb_per_s", round(gdbMbs));
        double fastest = 0;
        for (var r : rates) {
            fastest = Math.max(fastest, r.path("mb_per_s").asDouble());
        }
        o.put("fastest_vs_gdb_batch", round(fastest / gdbMbs));
        o.put("gdbstub_client_vs_gdb_batch", round(gdbStubMbs / gdbMbs));
        out.printf(Locale.ROOT, "gdb -batch   %8.1f MB/s%n", gdbMbs);
        out.printf(Locale.ROOT, "attach (kallsyms + BTF from memory): first %.0f ms, median of %d %.0f ms%n",
                attachMs.get(0), attachMs.size(), median(attachMs));
        out.printf(Locale.ROOT, "fastest backend / gdb -batch: %.1fx%n", fastest / gdbMbs);
        out.println(Json.compact(o));
        out.flush();
        return ExitCode.OK;
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static double round(double x) {
        return Math.round(x * 100) / 100.0;
    }
}
