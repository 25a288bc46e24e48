package dev.tickwatch.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.boot.Accel;
import dev.tickwatch.boot.Appliance;
import dev.tickwatch.boot.KernelCache;
import dev.tickwatch.boot.Milestone;
import dev.tickwatch.boot.QemuConfig;
import dev.tickwatch.boot.QemuVm;
import dev.tickwatch.gdb.GdbClient;
import dev.tickwatch.gdb.GdbOptions;
import dev.tickwatch.gdb.GdbPause;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.util.FileTrees;
import dev.tickwatch.util.Json;
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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Hidden benchmarks: {@code tickwatch bench gdb-read}. Not tests: they print figures. */
@Command(name = "bench", hidden = true, mixinStandardHelpOptions = true,
        description = "Benchmarks (figures, not verdicts).", subcommands = {BenchCommand.GdbRead.class, GuestBench.class,
            VerdictLatencyBench.class, WatchScaleBench.class, WatchOverheadBench.class, ReplayQmpCommand.class,
            BenchBootLoopCommand.class})
final class BenchCommand {

    /**
     * Reads kernel text through our GDB client and through {@code gdb -batch} over the same stub,
     * each time with connect and detach included, and prints both times and their ratio.
     */
    @Command(name = "gdb-read", mixinStandardHelpOptions = true,
            description = {"Reads LEN bytes at ADDR through tickwatch's GDB client and through gdb -batch",
                "over the same gdbstub (connect, read, detach each time); prints best and median times."})
    static final class GdbRead implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Option(names = "--gdb", converter = EndpointConverter.class, paramLabel = "ADDR",
                description = "a running VM's gdbstub (unix socket); default: boot the appliance")
        Endpoint gdbEndpoint;

        @Option(names = "--qmp", converter = EndpointConverter.class, paramLabel = "ADDR")
        Endpoint qmpEndpoint;

        @Option(names = "--address", defaultValue = "0xffffffff81000000")
        String address;

        @Option(names = "--length", defaultValue = "4194304")
        int length;

        @Option(names = "--runs", defaultValue = "5")
        int runs;

        @Option(names = "--window", defaultValue = "" + GdbOptions.DEFAULT_READ_WINDOW,
                description = "m requests in flight (1: no pipelining)")
        int window;

        @Option(names = "--gdb-binary", defaultValue = "gdb")
        String gdbBinary;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
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
                    try (GdbClient gdb = GdbClient.connect(endpoint, GdbOptions.builder().qmp(qmp).readWindow(window)
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
                return same ? ExitCode.OK : ExitCode.FAILED;
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
