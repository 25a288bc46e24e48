package dev.tickwatch.bench;

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
import dev.tickwatch.util.FileTrees;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ExitCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Records the RSP transcript kept in {@code protocols/gdb-rsp/}: boots the appliance (2 vCPUs,
 * nokaslr), waits for userland, then runs one session of everything the client speaks, with
 * every frame written as it crossed the wire.
 */
@CliOnly("a benchmark or recorder: figures and transcripts, not a look at a guest")
@Command(name = "record-gdb", hidden = true, mixinStandardHelpOptions = true,
        description = "Records a real gdbstub session with the built-in appliance, for protocols/gdb-rsp/.")
public final class RecordGdbCommand implements Callable<Integer> {

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "the transcript to write")
    Path out;

    @Override
    public Integer call() throws Exception {
        KernelCache.Kernel kernel = KernelCache.standard().current();
        Path work = Files.createTempDirectory("tickwatch-record-");
        List<String> lines = new ArrayList<>();
        String version;
        try {
            Path initrd = Appliance.builder().command("sleep 600").build().write(work.resolve("initrd.gz"));
            QemuConfig config = QemuConfig.builder().kernel(kernel.image()).initrd(initrd).smp(2)
                    .append(QemuConfig.DEFAULT_APPEND + " nokaslr").accel(Accel.TCG).build();
            try (QemuVm vm = QemuVm.start(config)) {
                if (!vm.console().await(t -> t.contains(Milestone.USERLAND.marker()), Duration.ofSeconds(120))) {
                    throw new TickwatchException("the appliance did not reach userland");
                }
                version = vm.qmp().greeting().qemuVersion();
                GdbOptions options = GdbOptions.builder().fallbackResume(vm.qmp()::contAsync)
                        .shutdownHook(false).transcript((dir, frame) -> {
                    synchronized (lines) {
                        lines.add(dir + ": " + frame);
                    }
                }).build();
                try (GdbClient gdb = GdbClient.connect(vm.gdbEndpoint(), options); GdbPause p = gdb.pause()) {
                    gdb.stopReason();
                    gdb.registersOfAll();
                    gdb.register(gdb.threads().get(1), "rip");
                    gdb.selectThread(gdb.threads().get(0));
                    gdb.readMemory(0xffffffff81000000L, 64);
                    try {
                        gdb.readMemory(0, 16);
                    } catch (TickwatchException expected) {
                        // recorded: E14
                    }
                    try {
                        gdb.readMemory(0xffffffff81000000L, 16);
                        gdb.request("m" + Long.toHexString(0xffffffff81000000L) + ",1000");
                    } catch (TickwatchException expected) {
                        // recorded: E22 for a read over 2048 bytes
                    }
                    try {
                        gdb.request("qNoSuchPacket");
                    } catch (TickwatchException expected) {
                        // recorded: the empty reply
                    }
                    gdb.monitor("info status");
                }
                if (!vm.qmp().queryStatus().running()) {
                    throw new TickwatchException("the VM was left paused");
                }
            }
            String header = "# RSP transcript: QEMU " + version + " gdbstub, appliance on " + kernel.abi()
                    + " (2 vCPUs, nokaslr), recorded by 'tickwatch record-gdb'.\n"
                    + "# S: from the stub, C: to the stub; one frame a line as on the wire, bytes outside"
                    + " printable ASCII (and '\\') as \\xNN.\n";
            Path tmp = Files.createTempFile(out.toAbsolutePath().getParent(), ".transcript", ".tmp");
            synchronized (lines) {
                Files.writeString(tmp, header + String.join("\n", lines) + "\n");
            }
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return ExitCode.OK;
        } finally {
            FileTrees.deleteTree(work);
        }
    }
}
