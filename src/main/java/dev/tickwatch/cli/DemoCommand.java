package dev.tickwatch.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.boot.Accel;
import dev.tickwatch.boot.Appliance;
import dev.tickwatch.boot.KernelCache;
import dev.tickwatch.boot.Milestone;
import dev.tickwatch.boot.QemuConfig;
import dev.tickwatch.boot.QemuVm;
import dev.tickwatch.qmp.QmpOptions;
import dev.tickwatch.qmp.codec.QmpEvent;
import dev.tickwatch.util.FileTrees;
import dev.tickwatch.util.Json;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch demo}: boots the built-in appliance once and reports what it saw. The boot
 * loop (thousands of boots, verdicts) takes this command's place when it lands.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Boots the built-in appliance once under QEMU (TCG) and reports the boot.")
final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--smp", defaultValue = "2", description = "vCPUs (default: ${DEFAULT-VALUE})")
    int smp;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        KernelCache.Kernel kernel = KernelCache.standard().current();
        Path work = Files.createTempDirectory("tickwatch-demo-");
        try {
            Path initrd = Appliance.builder().build().write(work.resolve("initrd.gz"));
            QemuConfig config = QemuConfig.builder().kernel(kernel.image()).initrd(initrd).smp(smp)
                    .accel(Accel.TCG).build();
            CompletableFuture<QmpEvent> shutdown = new CompletableFuture<>();
            long t0 = System.nanoTime();
            try (QemuVm vm = QemuVm.start(config, QmpOptions.builder().eventListener(e -> {
                if (e.name().equals("SHUTDOWN")) {
                    shutdown.complete(e);
                }
            }).build())) {
                if (!json) {
                    out.println("demo: booting " + kernel.abi() + " with " + smp + " vCPUs under TCG (QEMU "
                            + vm.qmp().greeting().qemuVersion() + ")");
                    out.flush();
                }
                boolean down = vm.waitForExit(Duration.ofSeconds(120));
                shutdown.complete(null);
                QmpEvent ev = shutdown.get(1, TimeUnit.SECONDS);
                double seconds = (System.nanoTime() - t0) / 1e9;
                Milestone last = Milestone.last(vm.console().text());
                boolean ok = down && last == Milestone.DONE;
                if (json) {
                    ObjectNode o = Json.object().put("kernel", kernel.abi()).put("smp", smp)
                            .put("ok", ok).put("boot_s", Math.round(seconds * 1000) / 1000.0)
                            .put("last_milestone", last == null ? null : last.name().toLowerCase())
                            .put("shutdown_reason", ev == null ? null : ev.data().path("reason").asText());
                    out.println(Json.compact(o));
                } else if (ok) {
                    out.printf("demo: the guest reached %s and powered off in %.2f s (%s)%n", last,
                            seconds, ev == null ? "no SHUTDOWN event" : "SHUTDOWN " + ev.data().path("reason").asText());
                    out.println("demo: boot loops, hang verdicts and snapshots are still to come"
                            + " (see 'tickwatch help')");
                } else {
                    out.println("demo: the guest did not finish: last milestone " + last + "; console tail:");
                    out.println(vm.console().tail(10));
                }
                out.flush();
                return ok ? ExitCode.OK : ExitCode.FAILED;
            }
        } finally {
            FileTrees.deleteTree(work);
        }
    }
}
