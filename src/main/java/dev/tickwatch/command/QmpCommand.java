package dev.tickwatch.command;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.QmpCommandException;
import dev.tickwatch.qmp.QmpOptions;
import dev.tickwatch.qmp.codec.QmpEvent;
import dev.tickwatch.util.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code qmp}: one raw QMP call, and/or the events for a while, as JSON. In the shell it goes
 * over the session's connection (so {@code --transcript}, which needs a connection of its own, is
 * refused there) and {@code --events} also ends at Ctrl-C.
 */
@Command(name = "qmp", mixinStandardHelpOptions = true, modelTransformer = QmpOption.Required.class,
        description = {"Runs one QMP command and prints the reply as JSON.",
            "When QEMU refuses, prints its error class and description (exit 125: QEMU could not do it;"
                + " never 1, which means a hang).",
            "Exit: 0 the reply, 125 QEMU's error or no connection, 128 usage error.",
            "Example: tickwatch qmp --qmp unix:/tmp/q.sock human-monitor-command '{\"command-line\":\"info lapic\"}'"})
public final class QmpCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    QmpOption qmp;

    @Parameters(index = "0", arity = "0..1", paramLabel = "COMMAND", description = "QMP command, e.g. query-status")
    String command;

    @Parameters(index = "1", arity = "0..1", paramLabel = "JSON-ARGS", description = "arguments as a JSON object")
    String arguments;

    @Option(names = "--events", paramLabel = "SECONDS",
            description = "then print events as JSON lines for this long; 0: only the command")
    double eventSeconds;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "per-command timeout (default: ${DEFAULT-VALUE})")
    double timeoutSeconds;

    /** Compact one-line JSON; the default output is indented JSON. */
    @Mixin
    JsonOption jsonOption;

    @Option(names = "--transcript", paramLabel = "FILE",
            description = "record every frame to FILE, S: from QEMU and C: to QEMU, as in protocols/qmp/")
    Path transcript;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String who = Commands.who(spec);
        if (command == null && eventSeconds <= 0) {
            err.println(who + ": give a COMMAND, or --events SECONDS");
            return ExitCode.USAGE;
        }
        JsonNode args = null;
        if (arguments != null) {
            try {
                args = Json.MAPPER.readTree(arguments);
            } catch (IOException e) {
                err.println(who + ": JSON-ARGS is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
                return ExitCode.USAGE;
            }
            if (!args.isObject()) {
                err.println(who + ": JSON-ARGS must be a JSON object, like '{\"command-line\": \"info lapic\"}'");
                return ExitCode.USAGE;
            }
        }
        Duration timeout = Duration.ofMillis((long) (timeoutSeconds * 1000));
        Writer tw = transcript == null ? null : Files.newBufferedWriter(transcript);
        try {
            QmpOptions.Builder ob = QmpOptions.builder().commandTimeout(timeout);
            if (tw != null) {
                tw.write("# QMP transcript recorded by tickwatch qmp; S: from QEMU, C: to QEMU\n");
                ob.transcript((dir, frame) -> {
                    try {
                        synchronized (tw) {
                            tw.write(dir + ": " + frame + "\n");
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
            try (GuestContext ctx = GuestContext.open(spec)) {
                // A connection of its own when every frame is to be recorded.
                QmpClient qmp = tw == null ? ctx.qmp() : ctx.qmp(ob.build());
                AutoCloseable events = eventSeconds > 0 ? qmp.addEventListener(e -> printEvent(out, e)) : null;
                try {
                    int code = ExitCode.OK;
                    if (command != null) {
                        code = runCommand(qmp, args, timeout, out, err);
                    }
                    if (eventSeconds > 0) {
                        waitForEvents(qmp, ctx);
                    }
                    return code;
                } finally {
                    if (events != null) {
                        events.close();
                    }
                }
            }
        } finally {
            if (tw != null) {
                tw.close();
            }
        }
    }

    private int runCommand(QmpClient qmp, JsonNode args, Duration timeout, PrintWriter out, PrintWriter err) {
        try {
            JsonNode reply = qmp.execute(command, args, timeout);
            out.println(jsonOption.json() ? Json.compact(reply) : Json.pretty(reply));
            out.flush();
            return ExitCode.OK;
        } catch (QmpCommandException e) {
            if (jsonOption.json()) {
                ObjectNode o = Json.object();
                o.putObject("error").put("class", e.errorClass()).put("desc", e.description());
                out.println(Json.compact(o));
                out.flush();
            } else {
                err.println(e.errorClass() + ": " + e.description());
                err.flush();
            }
            return ExitCode.CANNOT_TEST;
        }
    }

    private void waitForEvents(QmpClient qmp, GuestContext ctx) {
        CountDownLatch closed = new CountDownLatch(1);
        qmp.closeFuture().thenRun(closed::countDown);
        ctx.stopRequested().thenRun(closed::countDown);
        try {
            closed.await((long) (eventSeconds * 1000), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void printEvent(PrintWriter out, QmpEvent e) {
        ObjectNode o = Json.object();
        o.put("event", e.name());
        o.set("data", e.data());
        o.put("timestamp_us", e.timestampMicros());
        synchronized (out) {
            out.println(Json.compact(o));
            out.flush();
        }
    }
}
