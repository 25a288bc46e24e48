package dev.tickwatch.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.qemu.KernelCache;
import dev.tickwatch.qemu.QemuConfig;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.lab.Lab;
import dev.tickwatch.lab.LabCheck;
import dev.tickwatch.lab.LabMode;
import dev.tickwatch.util.FileTrees;
import dev.tickwatch.util.Json;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ExitCode;
import dev.tickwatch.command.JsonOption;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch lab MODE}: starts a guest that hangs in the chosen way and prints where to
 * reach it, as one JSON object; keeps it until Ctrl-C or {@code --for}. With {@code --check},
 * confirms the state from outside and prints how long it took; {@code --repeat N} does that on
 * N fresh guests and prints the tally (the lab's determinism measurement).
 */
@CliOnly("starts guests of its own")
@Command(name = "lab", mixinStandardHelpOptions = true,
        description = {"Starts a guest that hangs in a chosen way (the hang lab), for tools and people to attach to.",
            "Prints its QMP, gdbstub and console addresses as JSON and keeps it until Ctrl-C or --for.",
            "Exit: 0; with --check, 0 when every guest reached the state, 125 when one did not or QEMU did"
                + " not start; 128 usage error."})
final class LabCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODE", description = "healthy, timer-stall-lost, timer-stall-storm,"
            + " spin-deadlock, spin-one, sleep-deadlock, soft-lockup, panic or flaky")
    String modeName;

    @Option(names = "--kernel", paramLabel = "NAME",
            description = "a kernel from the cache by name, e.g. 6.12.117+deb12-rt-amd64 or built-6.1-defconfig;"
                    + " bin/setup --matrix installs them (default: the current one)")
    String kernelName;

    @Option(names = "--smp", defaultValue = "2", paramLabel = "N", description = "vCPUs (default: ${DEFAULT-VALUE})")
    int smp;

    @Option(names = "--memory", defaultValue = "256", paramLabel = "MiB", description = "guest memory (default: ${DEFAULT-VALUE})")
    int memory;

    @Option(names = "--kaslr", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "keep KASLR on (default), or --no-kaslr")
    boolean kaslr;

    @Option(names = "--append", paramLabel = "ARGS", description = "extra kernel arguments")
    String append;

    @Option(names = "--module-arg", paramLabel = "K=V", description = "extra lab module parameter, e.g. cpu=0")
    List<String> moduleArgs = new ArrayList<>();

    @Option(names = "--qemu-arg", paramLabel = "ARG", description = "extra QEMU argument (repeatable)")
    List<String> qemuArgs = new ArrayList<>();

    @Option(names = "--p-permille", paramLabel = "N", description = "flaky: the chance of a hang per boot in 1/1000, drawn in the guest (default: 0)")
    Integer pPermille;

    @Option(names = "--for", paramLabel = "SECONDS", description = "end the guest after this long (default: until Ctrl-C)")
    Double forSeconds;

    @Option(names = "--check", description = "confirm the state from outside (raw QMP), print the result, and exit")
    boolean check;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "1", description = "with --check: on N fresh guests")
    int repeat;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "90", description = "with --check: give up after")
    double timeout;

    @Option(names = "--record-hmp", paramLabel = "DIR", description = "with --check: save the HMP outputs seen")
    Path recordHmp;

    @Mixin
    JsonOption jsonOption;

    @Override
    public Integer call() throws Exception {
        boolean json = jsonOption.json();
        PrintWriter out = spec.commandLine().getOut();
        LabMode mode = LabMode.parse(modeName);
        List<String> moduleArgs = new ArrayList<>(this.moduleArgs);
        if (pPermille != null) {
            if (mode != LabMode.FLAKY || pPermille < 0 || pPermille > 1000) {
                spec.commandLine().getErr().println("tickwatch lab: --p-permille goes with flaky, and 0 <= N <= 1000");
                return ExitCode.USAGE;
            }
            moduleArgs.add(Lab.flakyArg(pPermille));
        }
        if (repeat < 1 || (repeat > 1 && !check)) {
            spec.commandLine().getErr().println("tickwatch lab: --repeat needs --check and N >= 1");
            return ExitCode.USAGE;
        }
        List<Double> times = new ArrayList<>();
        int reached = 0;
        FileTrees.TempTree temp = FileTrees.tempTree("tickwatch-lab-");
        Path work = temp.path();
        try {
            QemuConfig.Builder b = Lab.config(mode, work, kaslr, moduleArgs, kernelName == null
                    ? KernelCache.standard().current() : KernelCache.standard().kernel(kernelName)).smp(smp).memoryMiB(memory)
                    .userMonitor(true).extraArgs(qemuArgs);
            if (append != null) {
                b.append(b.build().append() + " " + append);
            }
            QemuConfig config = b.build();
            for (int run = 1; run <= repeat; run++) {
                try (QemuVm vm = QemuVm.start(config)) {
                    ObjectNode where = Json.object().put("mode", mode.label()).put("qmp", vm.userQmpEndpoint().toString())
                            .put("gdb", vm.gdbEndpoint().toString()).put("console", vm.console().file().toString())
                            .put("pid", vm.pid()).put("smp", smp);
                    if (!check) {
                        out.println(Json.compact(where));
                        out.flush();
                        if (forSeconds != null) {
                            vm.waitForExit(Duration.ofMillis((long) (forSeconds * 1000)));
                        } else {
                            vm.process().onExit().get();
                        }
                        return ExitCode.OK;
                    }
                    LabCheck.Result r = LabCheck.await(vm, mode, Duration.ofMillis((long) (timeout * 1000)));
                    if (r.reached()) {
                        reached++;
                        times.add(r.timeToStateS());
                        if (recordHmp != null && r.last() != null) {
                            LabCheck.record(r.last(), recordHmp.resolve(mode.label()));
                        }
                    }
                    ObjectNode o = where.put("run", run).put("reached", r.reached())
                            .put("time_to_state_s", Math.round(r.timeToStateS() * 100) / 100.0);
                    ArrayNode ev = o.putArray("evidence");
                    r.evidence().forEach(ev::add);
                    out.println(Json.compact(o));
                    out.flush();
                    if (forSeconds != null) {
                        vm.waitForExit(Duration.ofMillis((long) (forSeconds * 1000)));
                    }
                }
            }
        } finally {
            temp.close();
        }
        List<Double> sorted = times.stream().sorted().toList();
        double median = sorted.isEmpty() ? Double.NaN : sorted.size() % 2 == 1 ? sorted.get(sorted.size() / 2)
                : (sorted.get(sorted.size() / 2 - 1) + sorted.get(sorted.size() / 2)) / 2;
        ObjectNode summary = Json.object().put("mode", mode.label()).put("runs", repeat).put("reached", reached)
                .put("median_time_to_state_s", sorted.isEmpty() ? null : Math.round(median * 100) / 100.0);
        if (repeat > 1 || !json) {
            out.println(json ? Json.compact(summary)
                    : String.format("lab %s: reached %d of %d, median %.2f s after insmod", mode.label(), reached, repeat, median));
        }
        out.flush();
        // Not reaching the state is the lab failing to do what was asked, not a hang verdict.
        return reached == repeat ? ExitCode.OK : ExitCode.CANNOT_TEST;
    }
}
