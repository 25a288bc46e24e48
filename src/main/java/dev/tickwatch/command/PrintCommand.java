package dev.tickwatch.command;

import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.TypedValue;
import dev.tickwatch.guest.Values;
import dev.tickwatch.util.Json;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code print}: a kernel variable or a typed address, decoded by the guest's BTF as drgn and
 * crash print them ({@link Values}, {@link PrintFormat}). Per-CPU variables take {@code --cpu}
 * (or crash's {@code NAME:CPU}); a field path follows the name ({@code hrtimer_bases.expires_next}).
 */
@Command(mixinStandardHelpOptions = true, name = "print", aliases = "p",
        description = {"Prints a kernel variable or a typed address, decoded by BTF.",
            "Examples: print jiffies_64; print tick_cpu_sched --cpu 1;",
            "print hrtimer_bases.expires_next --cpu 1; print 'struct hrtimer_cpu_base' ADDR"})
public final class PrintCommand extends GuestReadings.Sub {

    @Parameters(arity = "1..2", paramLabel = "NAME",
            description = "a variable: NAME, NAME.FIELD or NAME:CPU; or a TYPE, then an ADDR: hex or symbol[+offset]")
    List<String> words;

    @Option(names = "--cpu", paramLabel = "CPU", description = "the CPU of a per-CPU variable (default: 0)")
    Integer cpu;

    @Override
    int run(GuestKernel k, PrintWriter out) {
        Values.Target target;
        if (words.size() == 2) {
            if (cpu != null) {
                throw Commands.usage(spec, "--cpu is for a per-CPU variable, not a typed address");
            }
            target = Values.at(k, words.get(0), GuestFormat.parseAddress(k, words.get(1)));
        } else {
            String name = words.get(0);
            Integer on = cpu;
            int colon = name.lastIndexOf(':');
            if (colon > 0 && name.substring(colon + 1).matches("\\d+")) {
                if (cpu != null) {
                    throw Commands.usage(spec, "the CPU twice: " + name + " and --cpu " + cpu);
                }
                on = Integer.parseInt(name.substring(colon + 1));
                name = name.substring(0, colon);
            }
            target = Values.variable(k, name, on);
        }
        TypedValue v = Values.read(k, target);
        out.print(json() ? Json.compact(PrintFormat.json(target, v)) + "\n" : PrintFormat.text(target, v));
        return ExitCode.OK;
    }
}
