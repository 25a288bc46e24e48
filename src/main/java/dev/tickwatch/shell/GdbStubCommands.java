package dev.tickwatch.shell;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.command.JsonOption;
import dev.tickwatch.command.ShellOnly;
import dev.tickwatch.gdb.Registers;
import dev.tickwatch.gdb.ShowRegs;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.util.Json;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code regs}: one gdbstub pause of the session, the registers printed as the kernel prints an
 * oops ({@link ShowRegs}: the report's layout; JSON as snapshot.json's {@code cpus[].registers}).
 * The CLI's gdbstub reads are {@code gdb regs|threads|read}, JSON first, for scripts; call traces
 * are the shared {@code bt} ({@link dev.tickwatch.command.BtCommand}).
 */
final class GdbStubCommands {

    private GdbStubCommands() {
    }

    static List<Registers> select(List<Registers> all, Integer cpu) {
        if (cpu == null) {
            return all;
        }
        for (Registers r : all) {
            if (r.thread().cpuIndex() == cpu) {
                return List.of(r);
            }
        }
        throw new IllegalArgumentException("no CPU " + cpu + " (the guest has " + all.size() + ")");
    }

    @ShellOnly("the oops layout on the session's gdbstub and kernel view; the CLI's 'gdb regs' prints every register as JSON")
    @Command(name = "regs", description = "Exact registers through the gdbstub, like an oops (pauses only inside the command)")
    static final class Regs extends ShellCommands.Sub {
        @Parameters(arity = "0..1", paramLabel = "CPU", description = "one vCPU (default: all)")
        Integer cpu;

        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) {
            session().requireGdb("regs");
            GuestKernel k = session().kernelOrNull();
            List<Registers> regs = session().withGdbPause("regs", g -> select(g.registersOfAll(), cpu));
            ArrayNode a = Json.MAPPER.createArrayNode();
            StringBuilder t = new StringBuilder();
            for (Registers r : regs) {
                Map<String, Long> values = ShowRegs.of(r);
                int cpl = values.containsKey("cs") ? (int) (values.get("cs") & 3) : 0;
                String sym = k != null && cpl == 0 ? k.symbolize(r.get("rip")) : null;
                ObjectNode c = a.addObject().put("cpu", r.thread().cpuIndex());
                ObjectNode rj = c.putObject("registers");
                ShowRegs.json(values).forEach(rj::put);
                c.put("rip_symbol", sym);
                t.append("CPU").append(r.thread().cpuIndex()).append(":\n").append(ShowRegs.text(values, sym));
            }
            ShellCommands.print(out, o.json(), a, t.toString());
        }
    }
}
