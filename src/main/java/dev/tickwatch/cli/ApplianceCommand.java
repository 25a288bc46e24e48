package dev.tickwatch.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.lab.Lab;
import dev.tickwatch.lab.LabMode;
import dev.tickwatch.qemu.Accel;
import dev.tickwatch.qemu.Appliance;
import dev.tickwatch.qemu.KernelCache;
import dev.tickwatch.qemu.QemuConfig;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.util.Json;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ExitCode;
import dev.tickwatch.command.JsonOption;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tickwatch appliance --out DIR}: the built-in guest as files, and the QEMU command line to boot it. */
@CliOnly("writes files for booting the appliance; no guest involved")
@Command(name = "appliance", mixinStandardHelpOptions = true,
        description = {"Writes the built-in appliance (kernel, initramfs) and the exact QEMU command line (run.sh) to DIR.",
            "With --lab-mode flaky --p-permille N, a guest that hangs in N of 1000 boots: the synthetic build of a bisect test."})
final class ApplianceCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "the folder to write to")
    Path out;

    @Option(names = "--smp", defaultValue = "2", paramLabel = "N", description = "vCPUs in run.sh (default: ${DEFAULT-VALUE})")
    int smp;

    @Option(names = "--lab-mode", paramLabel = "MODE", description = "the initramfs loads the hang lab's module in MODE (e.g. flaky); built against the kernel's headers")
    String labMode;

    @Option(names = "--p-permille", paramLabel = "N", description = "with --lab-mode flaky: the chance of a hang per boot in 1/1000, drawn in the guest (default: 0)")
    Integer pPermille;

    @Mixin
    JsonOption jsonOption;

    @Override
    public Integer call() throws Exception {
        PrintWriter pw = spec.commandLine().getOut();
        LabMode mode = null;
        try {
            mode = labMode == null ? null : LabMode.parse(labMode);
            if (pPermille != null && mode != LabMode.FLAKY) {
                throw new IllegalArgumentException("--p-permille goes with --lab-mode flaky");
            }
            if (pPermille != null) {
                Lab.flakyArg(pPermille);
            }
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        KernelCache.Kernel kernel = KernelCache.standard().current();
        Files.createDirectories(out);
        Path dir = out.toAbsolutePath();
        Path vmlinuz = dir.resolve("vmlinuz");
        // Through a temp file and a rename: a bisect's build may be interrupted half-way.
        Path tmpKernel = Files.createTempFile(dir, ".vmlinuz", ".tmp");
        Files.copy(kernel.image(), tmpKernel, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmpKernel, vmlinuz, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Path initrd;
        QemuConfig.Builder cb = QemuConfig.builder().kernel(vmlinuz).smp(smp).accel(Accel.TCG).gdbstub(false);
        if (mode == null) {
            initrd = Appliance.builder().build().write(dir.resolve("initrd.gz"));
        } else {
            try {
                initrd = Lab.initrd(mode, dir.resolve("initrd.gz"),
                        pPermille == null ? List.of() : List.of(Lab.flakyArg(pPermille)), kernel);
            } catch (TickwatchException e) {
                spec.commandLine().getErr().println("tickwatch appliance: cannot build the lab guest: " + e.getMessage());
                return ExitCode.CANNOT_TEST;
            }
            cb.append(Lab.append(true));
        }
        QemuConfig config = cb.initrd(initrd).build();
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
        if (jsonOption.json()) {
            ObjectNode o = Json.object().put("kernel", vmlinuz.toString()).put("initrd", initrd.toString())
                    .put("run", run.toString()).put("abi", kernel.abi()).put("lab_mode", mode == null ? null : mode.label())
                    .put("p_permille", pPermille);
            pw.println(Json.compact(o));
        } else {
            pw.println("kernel  " + vmlinuz + " (" + kernel.abi() + ")");
            pw.println("initrd  " + initrd);
            pw.println("run.sh  " + run);
            if (mode != null) {
                pw.println("lab     " + mode.label() + (pPermille == null ? "" : " p_permille=" + pPermille)
                        + " (append: " + Lab.append(true) + ")");
            }
        }
        pw.flush();
        return ExitCode.OK;
    }

    private static String quote(String s) {
        return s.matches("[A-Za-z0-9_./:=,+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }
}
