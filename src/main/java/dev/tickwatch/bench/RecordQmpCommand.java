package dev.tickwatch.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.qemu.Accel;
import dev.tickwatch.qemu.Appliance;
import dev.tickwatch.qemu.KernelCache;
import dev.tickwatch.probe.Milestone;
import dev.tickwatch.qemu.QemuConfig;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.QmpOptions;
import dev.tickwatch.qmp.hmp.Hmp;
import dev.tickwatch.util.FileTrees;
import dev.tickwatch.util.Json;
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
 * Records the QMP transcript that {@code protocols/qmp/} keeps and the tests' fake peer replays:
 * boots the appliance, waits for userland, then runs every command tickwatch uses, including
 * failing ones, on one connection, with every frame written as it crossed the wire.
 */
@CliOnly("a benchmark or recorder: figures and transcripts, not a look at a guest")
@Command(name = "record-qmp", hidden = true, mixinStandardHelpOptions = true,
        description = "Records a real QMP session with the built-in appliance (for protocols/qmp/).")
public final class RecordQmpCommand implements Callable<Integer> {

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
            QmpOptions options = QmpOptions.builder().transcript((dir, frame) -> {
                synchronized (lines) {
                    lines.add(dir + ": " + frame);
                }
            }).build();
            try (QemuVm vm = QemuVm.start(config, options)) {
                if (!vm.console().await(t -> t.contains(Milestone.USERLAND.marker()), Duration.ofSeconds(120))) {
                    throw new TickwatchException("the appliance did not reach userland");
                }
                QmpClient q = vm.qmp();
                version = q.greeting().qemuVersion();
                q.queryStatus();
                q.queryCpusFast();
                for (Hmp.Line l : Hmp.RECORDED_SESSION) {
                    q.hmp(l.commandLine(), l.cpuIndex());
                }
                q.memsave(0xffffffff81000000L, 4096, work.resolve("text.bin"), 0);
                tryCommand(q, "memsave", Json.object().put("val", 0L).put("size", 4096)
                        .put("filename", work.resolve("zero.bin").toString()));
                tryCommand(q, "memsave", Json.object().put("val", "0xffffffff81000000").put("size", 16)
                        .put("filename", work.resolve("bad.bin").toString()));
                tryCommand(q, "no-such-command", null);
                q.stop();
                q.queryStatus();
                q.cont();
                q.injectNmi();
                q.quit();
                vm.waitForExit(Duration.ofSeconds(10));
            }
            String header = "# QMP transcript: QEMU " + version + ", appliance on " + kernel.abi()
                    + ", recorded by 'tickwatch record-qmp'.\n# S: from QEMU, C: to QEMU; one JSON object a line.\n";
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

    private static void tryCommand(QmpClient q, String command, ObjectNode args) {
        try {
            q.execute(command, args);
        } catch (TickwatchException expected) {
            // recorded: the error reply is what we want in the transcript
        }
    }
}
