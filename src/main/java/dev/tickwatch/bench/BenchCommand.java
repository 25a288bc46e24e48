package dev.tickwatch.bench;

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
import dev.tickwatch.gdb.GdbPause;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.util.FileTrees;
import dev.tickwatch.util.Json;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ExitCode;
import dev.tickwatch.command.GdbOption;
import dev.tickwatch.command.QmpOption;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Hidden benchmarks: {@code tickwatch bench gdb-read}. Not tests: they print figures. */
@CliOnly("a benchmark or recorder: figures and transcripts, not a look at a guest")
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Benchmarks behind the README's figures (figures, not verdicts).",
            "Hidden: replay-qmp, which serves recorded QMP sessions for watch-scale."}, subcommands = {BenchCommand.GdbRead.class, GuestBench.class,
            VerdictLatencyBench.class, WatchScaleBench.class, WatchOverheadBench.class, ReplayQmpCommand.class,
            BenchBootLoopCommand.class, FalseHangsBench.class, BisectSimBench.class})
public final class BenchCommand {

    /**
     * Reads kernel text through our GDB client and through {@code gdb -batch} over the same stub,
     * each time with connect and detach included, and prints both times and their ratio.
     */
    @CliOnly("a benchmark: figures, not a look at a guest")
    @Command(name = "gdb-read", mixinStandardHelpOptions = true,
            description = {"Reads guest memory through tickwatch's GDB client and through gdb -batch.",
                "Both read LEN bytes at ADDR over the same gdbstub (connect, read, detach each time);"
                    + " prints best and median times."})
    static final class GdbRead implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        /** A running VM's gdbstub (unix socket); without it the benchmark boots the appliance. */
        @Mixin
        GdbOption gdbOption;

        @Mixin
        QmpOption qmpOption;

        @Option(names = "--address", paramLabel = "ADDR", defaultValue = "0xffffffff81000000",
                description = "guest virtual address (default: ${DEFAULT-VALUE})")
        String address;

        @Option(names = "--length", paramLabel = "LEN", defaultValue = "4194304",
                description = "bytes per read (default: ${DEFAULT-VALUE})")
        int length;

        @Option(names = "--runs", paramLabel = "N", defaultValue = "5", description = "reads per client (default: ${DEFAULT-VALUE})")
        int runs;

        @Option(names = "--window", paramLabel = "M", defaultValue = "" + GdbOptions.DEFAULT_READ_WINDOW,
                description = "M requests in flight; 1: no pipelining")
        int window;

        @Option(names = "--gdb-binary", paramLabel = "FILE", defaultValue = "gdb", description = "the gdb to compare with (default: ${DEFAULT-VALUE})")
        String gdbBinary;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            Endpoint gdbEndpoint = gdbOption.endpoint();
            Endpoint qmpEndpoint = qmpOption.endpoint();
            long addr = Long.parseUnsignedLong(address.replaceFirst("^0x", ""), 16);
            if (gdbEndpoint != null) {
                QmpClient q = qmpEndpoint == null ? null : QmpClient.connect(qmpEndpoint);
                try {
                    return bench(out, gdbEndpoint, q, addr);
                } finally {
                    if (q != null) {
                        q.close();
                    }
                }
            }
            Path work = Files.createTempDirectory("tickwatch-bench-");
            try {
                Path initrd = Appliance.builder().command("sleep 600").build().write(work.resolve("initrd.gz"));
                QemuConfig config = QemuConfig.builder().kernel(KernelCache.standard().current().image())
                        .initrd(initrd).smp(2).append(QemuConfig.DEFAULT_APPEND + " nokaslr").accel(Accel.TCG).build();
                try (QemuVm vm = QemuVm.start(config)) {
                    if (!vm.console().await(t -> t.contains(Milestone.USERLAND.marker()), Duration.ofSeconds(120))) {
                        throw new TickwatchException("the appliance did not reach userland");
                    }
                    return bench(out, vm.gdbEndpoint(), vm.qmp(), addr);
                }
            } finally {
                FileTrees.deleteTree(work);
            }
        }

        private int bench(PrintWriter out, Endpoint endpoint, QmpClient qmp, long addr) throws Exception {
            if (!(endpoint instanceof Endpoint.Unix unix)) {
                throw new IllegalArgumentException("--gdb must be a unix socket (gdb -batch is given its path)");
            }
            List<Double> ours = new ArrayList<>();
            List<Double> theirs = new ArrayList<>();
            Path dump = Files.createTempFile("tickwatch-bench-", ".bin");
            try {
                byte[] last = null;
                for (int i = 0; i < runs; i++) {
                    long t0 = System.nanoTime();
                    try (GdbClient gdb = GdbClient.connect(endpoint, GdbOptions.builder()
                            .fallbackResume(qmp == null ? null : qmp::contAsync).readWindow(window)
                            .shutdownHook(false).build()); GdbPause p = gdb.pause()) {
                        last = gdb.readMemory(addr, length);
                    }
                    ours.add((System.nanoTime() - t0) / 1e6);

                    long t1 = System.nanoTime();
                    runGdb(unix.path(), addr, dump);
                    theirs.add((System.nanoTime() - t1) / 1e6);
                    if (qmp != null && !qmp.queryStatus().running()) {
                        throw new TickwatchException("the VM is paused after a run: someone did not resume it");
                    }
                }
                boolean same = Arrays.equals(last, Files.readAllBytes(dump));
                ObjectNode o = Json.object();
                o.put("address", Json.hex(addr));
                o.put("length", length);
                o.put("runs", runs);
                o.put("read_window", window);
                o.put("tickwatch_best_ms", round(Collections.min(ours)));
                o.put("tickwatch_median_ms", round(median(ours)));
                o.put("gdb_best_ms", round(Collections.min(theirs)));
                o.put("gdb_median_ms", round(median(theirs)));
                o.put("ratio_median", round(median(ours) / median(theirs)));
                o.put("same_bytes", same);
                out.println(Json.pretty(o));
                out.flush();
                return same ? ExitCode.OK : ExitCode.CANNOT_TEST;
            } finally {
                Files.deleteIfExists(dump);
            }
        }

        private void runGdb(Path socket, long addr, Path dump) throws IOException, InterruptedException {
            Process p = new ProcessBuilder(gdbBinary, "-nx", "-batch",
                    "-ex", "set architecture i386:x86-64",
                    "-ex", "target remote " + socket,
                    "-ex", "dump binary memory " + dump + " 0x" + Long.toHexString(addr) + " 0x"
                            + Long.toHexString(addr + length),
                    "-ex", "detach")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new TickwatchException("gdb -batch did not finish in 60 s");
            }
            if (p.exitValue() != 0) {
                throw new TickwatchException("gdb -batch exited with " + p.exitValue());
            }
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
}
