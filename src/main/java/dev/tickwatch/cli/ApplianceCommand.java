package dev.tickwatch.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.boot.Accel;
import dev.tickwatch.boot.Appliance;
import dev.tickwatch.boot.KernelCache;
import dev.tickwatch.boot.QemuConfig;
import dev.tickwatch.boot.QemuVm;
import dev.tickwatch.util.Json;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tickwatch appliance --out DIR}: the built-in guest as files, and the QEMU command line to boot it. */
@Command(name = "appliance", mixinStandardHelpOptions = true,
        description = "Writes the built-in appliance (kernel, initramfs) and the exact QEMU command line (run.sh) to DIR.")
final class ApplianceCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR")
    Path out;

    @Option(names = "--smp", defaultValue = "2")
    int smp;

    @Option(names = "--json", description = "print the paths as JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
        PrintWriter pw = spec.commandLine().getOut();
        KernelCache.Kernel kernel = KernelCache.standard().current();
        Files.createDirectories(out);
        Path dir = out.toAbsolutePath();
        Path vmlinuz = dir.resolve("vmlinuz");
        Files.copy(kernel.image(), vmlinuz, StandardCopyOption.REPLACE_EXISTING);
        Path initrd = Appliance.builder().build().write(dir.resolve("initrd.gz"));
        QemuConfig config = QemuConfig.builder().kernel(vmlinuz).initrd(initrd).smp(smp).accel(Accel.TCG)
                .gdbstub(false).build();
        // The same command line the launcher uses, with the console on stdio instead of a private folder.
        List<String> cmd = QemuVm.commandLine(config, Accel.TCG, Path.of("/tmp/tickwatch-appliance"));
        String line = cmd.stream().map(ApplianceCommand::quote).collect(Collectors.joining(" "))
                .replace("-chardev file,id=console0,path=/tmp/tickwatch-appliance/console.log -serial chardev:console0",
                        "-serial stdio")
                .replace("-qmp unix:/tmp/tickwatch-appliance/qmp.sock,server=on,wait=off",
                        "-qmp unix:\"${QMP:-/tmp/tickwatch-appliance.qmp}\",server=on,wait=off");
        Path run = dir.resolve("run.sh");
        Files.writeString(run, "#!/bin/sh\n# Boots tickwatch's appliance (" + kernel.abi() + "); it prints its milestones and powers off.\n"
                + "cd \"$(dirname \"$0\")\"\nexec " + line.replace(dir + "/", "") + "\n");
        run.toFile().setExecutable(true);
        if (json) {
            ObjectNode o = Json.object().put("kernel", vmlinuz.toString()).put("initrd", initrd.toString())
                    .put("run", run.toString()).put("abi", kernel.abi());
            pw.println(Json.compact(o));
        } else {
            pw.println("kernel  " + vmlinuz + " (" + kernel.abi() + ")");
            pw.println("initrd  " + initrd);
            pw.println("run.sh  " + run);
        }
        pw.flush();
        return ExitCode.OK;
    }

    private static String quote(String s) {
        return s.matches("[A-Za-z0-9_./:=,+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }
}
