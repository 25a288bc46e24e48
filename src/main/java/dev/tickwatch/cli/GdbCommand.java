package dev.tickwatch.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.gdb.GdbClient;
import dev.tickwatch.gdb.GdbOptions;
import dev.tickwatch.gdb.GdbPause;
import dev.tickwatch.gdb.GdbThread;
import dev.tickwatch.gdb.Registers;
import dev.tickwatch.gdb.codec.Rsp;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ExitCode;
import dev.tickwatch.command.GdbOption;
import dev.tickwatch.command.JsonOption;
import dev.tickwatch.command.Mixins;
import dev.tickwatch.command.QmpOption;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.util.Json;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch gdb}: one-shot looks through QEMU's gdbstub. Each attaches, pauses, does one
 * thing, and leaves the VM as it found it (running, or paused if it was paused before).
 */
@CliOnly("one-shot gdbstub reads for scripts, JSON first; the shell has regs on its session's gdbstub (and bt, shared)")
@Command(name = "gdb", mixinStandardHelpOptions = true,
        description = {"One-shot reads through QEMU's gdbstub: attach, pause, read, resume, detach.",
            "Prints JSON (addresses and register values as hex strings); --text for a readable form.",
            "Example: tickwatch gdb --gdb unix:/tmp/vm/gdb.sock --qmp unix:/tmp/vm/qmp.sock regs"},
        subcommands = {GdbCommand.Regs.class, GdbCommand.Threads.class, GdbCommand.Read.class})
final class GdbCommand {

    @Mixin
    GdbOption gdb;

    /** The VM's QMP socket: lets tickwatch resume the VM if the gdbstub connection breaks. */
    @Mixin
    QmpOption qmp;

    /** Compact one-line JSON; the default is indented JSON. */
    @Mixin
    JsonOption json;

    @Option(names = "--text", scope = ScopeType.INHERIT, description = "readable text instead of JSON")
    boolean text;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10", scope = ScopeType.INHERIT,
            description = "per-request timeout (default: ${DEFAULT-VALUE})")
    double timeoutSeconds;

    /** What a subcommand does while the VM is paused. */
    interface Action {
        int run(GdbClient gdb, Printer out);
    }

    /** Each subcommand takes the endpoints and --json here or after its name (gdb --gdb A regs, gdb regs --gdb A). */
    abstract static class Sub {
        @CommandLine.ParentCommand
        GdbCommand parent;
        @Spec
        CommandSpec spec;
        @Mixin
        GdbOption gdb;
        @Mixin
        QmpOption qmp;
        @Mixin
        JsonOption json;
    }

    int attach(CommandSpec spec, Action action) {
        PrintWriter out = spec.commandLine().getOut();
        if (timeoutSeconds <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--timeout must be > 0");
        }
        Endpoint gdb = Mixins.nearest(spec, GdbOption.class, GdbOption::endpoint).orElseThrow(
                () -> new CommandLine.ParameterException(spec.commandLine(), "Missing required option: '--gdb=ADDR'"));
        Endpoint qmp = Mixins.nearest(spec, QmpOption.class, QmpOption::endpoint).orElse(null);
        boolean compact = JsonOption.given(spec);
        QmpClient q = qmp == null ? null : QmpClient.connect(qmp);
        try {
            GdbOptions options = GdbOptions.builder()
                    .fallbackResume(q == null ? null : q::contAsync)
                    .requestTimeout(Duration.ofMillis((long) (timeoutSeconds * 1000))).build();
            try (GdbClient client = GdbClient.connect(gdb, options); GdbPause paused = client.pause()) {
                int code = action.run(client, new Printer(out, compact));
                out.flush();
                return code;
            }
        } finally {
            if (q != null) {
                q.close();
            }
        }
    }

    /** The command's writer, and whether {@code --json} asked for one-line JSON. */
    static final class Printer extends PrintWriter {
        private final boolean compact;

        Printer(PrintWriter out, boolean compact) {
            super(out);
            this.compact = compact;
        }

        void printJson(ObjectNode node) {
            println(compact ? Json.compact(node) : Json.pretty(node));
        }
    }

    @CliOnly("part of tickwatch gdb")
    @Command(name = "regs", mixinStandardHelpOptions = true,
            description = "Registers of every vCPU, named from the stub's target description.")
    static final class Regs extends Sub implements Callable<Integer> {

        @Override
        public Integer call() {
            return parent.attach(spec, (gdb, out) -> {
                ObjectNode root = Json.object();
                root.put("architecture", gdb.target() == null ? null : gdb.target().architecture());
                ArrayNode cpus = root.putArray("cpus");
                for (Registers r : gdb.registersOfAll()) {
                    if (parent.text) {
                        out.println("CPU " + r.thread().cpuIndex() + " (thread " + r.thread().id() + ")");
                        StringBuilder line = new StringBuilder();
                        int n = 0;
                        for (Map.Entry<String, byte[]> e : r.values().entrySet()) {
                            if (e.getValue().length > 8) {
                                continue; // x87 and SSE registers: JSON has them
                            }
                            line.append(String.format("  %-9s %18s", e.getKey(), r.hex(e.getKey())));
                            if (++n % 3 == 0) {
                                out.println(line);
                                line.setLength(0);
                            }
                        }
                        if (line.length() > 0) {
                            out.println(line);
                        }
                        continue;
                    }
                    ObjectNode cpu = cpus.addObject();
                    cpu.put("cpu", r.thread().cpuIndex());
                    cpu.put("thread", r.thread().id());
                    ObjectNode regs = cpu.putObject("registers");
                    for (String name : r.values().keySet()) {
                        regs.put(name, r.hex(name));
                    }
                }
                if (!parent.text) {
                    out.printJson(root);
                }
                return ExitCode.OK;
            });
        }
    }

    @CliOnly("part of tickwatch gdb")
    @Command(name = "threads", mixinStandardHelpOptions = true,
            description = "The stub's threads (one per vCPU) and what it supports.")
    static final class Threads extends Sub implements Callable<Integer> {

        @Override
        public Integer call() {
            return parent.attach(spec, (gdb, out) -> {
                if (parent.text) {
                    for (GdbThread t : gdb.threads()) {
                        out.println("thread " + t.id() + "  cpu " + t.cpuIndex());
                    }
                    out.println("packet size " + gdb.packetSize() + ", stub features " + gdb.features());
                    return ExitCode.OK;
                }
                ObjectNode root = Json.object();
                ArrayNode threads = root.putArray("threads");
                for (GdbThread t : gdb.threads()) {
                    threads.addObject().put("id", t.id()).put("cpu", t.cpuIndex());
                }
                root.put("packet_size", gdb.packetSize());
                root.put("multiprocess", gdb.multiprocess());
                root.put("architecture", gdb.target() == null ? null : gdb.target().architecture());
                root.put("vm_was_running", gdb.wasRunningAtAttach());
                ObjectNode f = root.putObject("features");
                gdb.features().forEach(f::put);
                out.printJson(root);
                return ExitCode.OK;
            });
        }
    }

    @CliOnly("part of tickwatch gdb")
    @Command(name = "read", mixinStandardHelpOptions = true,
            description = "Reads guest virtual memory as a vCPU sees it; prints address and hex bytes.")
    static final class Read implements Callable<Integer> {
        /** Enough for a kernel's text and data; a larger read is better done with QMP dump-guest-memory. */
        static final int MAX_LENGTH = 64 << 20;

        @CommandLine.ParentCommand
        GdbCommand parent;
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "ADDR", description = "virtual address, hex with 0x or decimal")
        String address;

        @Parameters(index = "1", paramLabel = "LEN", description = "bytes to read, hex with 0x or decimal")
        String length;

        @Option(names = "--cpu", defaultValue = "0", paramLabel = "N", description = "vCPU whose page tables are used (default: 0)")
        int cpu;

        @Override
        public Integer call() {
            long addr = number(address, "ADDR");
            long len = number(length, "LEN");
            if (len < 0 || len > MAX_LENGTH) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "LEN: " + len + " (expected: 0-" + MAX_LENGTH + ")");
            }
            return parent.attach(spec, (gdb, out) -> {
                GdbThread thread = gdb.threads().stream().filter(t -> t.cpuIndex() == cpu).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("no vCPU " + cpu + " (have "
                                + gdb.threads().size() + ")"));
                gdb.selectThread(thread);
                byte[] data = gdb.readMemory(addr, (int) len);
                if (parent.text) {
                    for (int i = 0; i < data.length; i += 16) {
                        byte[] line = java.util.Arrays.copyOfRange(data, i, Math.min(data.length, i + 16));
                        out.println(String.format("%016x: %s", addr + i, Rsp.hex(line).replaceAll("(..)(?!$)", "$1 ")));
                    }
                    return ExitCode.OK;
                }
                ObjectNode root = Json.object();
                root.put("address", Json.hex(addr));
                root.put("length", data.length);
                root.put("cpu", cpu);
                root.put("hex", Rsp.hex(data));
                out.printJson(root);
                return ExitCode.OK;
            });
        }

        private long number(String s, String what) {
            try {
                String t = s.strip().toLowerCase(java.util.Locale.ROOT);
                return t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseLong(t);
            } catch (NumberFormatException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), what + ": not a number: " + s);
            }
        }
    }
}
