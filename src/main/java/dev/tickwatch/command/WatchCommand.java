package dev.tickwatch.command;

import dev.tickwatch.probe.Console;
import dev.tickwatch.watch.Poke;
import dev.tickwatch.watch.Watch;
import dev.tickwatch.probe.Probe;
import dev.tickwatch.probe.ProbeOptions;
import dev.tickwatch.probe.SampleJson;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.util.Json;
import dev.tickwatch.verdict.Decision;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code watch}: samples a running guest a few times a second without pausing it and prints one
 * line per change of verdict; exits with the final verdict's code when the guest stops. In the
 * shell it also ends at Ctrl-C (and says so) or when QEMU goes away, sampling through the
 * session's kernel view.
 */
@Command(name = "watch", mixinStandardHelpOptions = true, modelTransformer = QmpOption.Required.class,
        description = {"Watches a running guest and prints one line per change of verdict.",
            "Verdicts: PROGRESSING, TIMER_STALL, SPIN_LOCKUP, SLEEP_DEADLOCK, SOFT_LOCKUP, PANICKED, SHUTDOWN,"
                + " PAUSED, FIRMWARE_STUCK, UNDECIDED. A hang verdict holds until something progresses."
                + " Never pauses the guest.",
            "Exit: 0 healthy or shut down; 1 a hang verdict, and only that; 125 could not tell (UNDECIDED,"
                + " FIRMWARE_STUCK, PAUSED) or could not connect (no socket, refused, held by another client);"
                + " 128 usage error."})
public final class WatchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    QmpOption qmp;

    @Mixin
    ConsoleOption console;

    @Mixin
    KernelFilesOption kernelFiles;

    @Option(names = "--period-ms", defaultValue = "250", paramLabel = "MS", description = "ms between samples (default: ${DEFAULT-VALUE})")
    long periodMs;

    @Mixin
    ThresholdOptions thresholds;

    @Option(names = "--for", paramLabel = "SECONDS", description = "stop watching after this long (default: until the guest stops)")
    Double forSeconds;

    @Option(names = "--until-hang", description = "stop at the first hang verdict")
    boolean untilHang;

    @Option(names = "--record", paramLabel = "FILE", description = "write every sample as a JSON line")
    Path record;

    @Option(names = "--no-memory", description = "do not read guest memory: registers, LAPIC and host side only")
    boolean noMemory;

    @Option(names = "--poke", paramLabel = "nmi|key",
            description = "at the first hang, knock once (an NMI or a key press) and report whether the guest answers;"
                    + " off by default: it touches the guest")
    String poke;

    @Mixin
    JsonOption jsonOption;

    private void printPoke(PrintWriter out, QmpClient q, Console con, Poke.Kind kind) {
        boolean json = jsonOption.json();
        try {
            // A console of its own: the knock looks for an answer after it, not where the probe read up to.
            Poke.Result r = Poke.poke(q, con == null ? null : new Console(con.file()), kind, Duration.ofSeconds(1));
            long wall = System.currentTimeMillis();
            synchronized (out) {
                if (json) {
                    com.fasterxml.jackson.databind.node.ObjectNode o = Json.object()
                            .put("time", java.time.Instant.ofEpochMilli(wall).toString())
                            .put("poke", kind.name().toLowerCase(java.util.Locale.ROOT)).put("responded", r.responded());
                    r.evidence().forEach(o.putArray("evidence")::add);
                    out.println(Json.compact(o));
                } else {
                    out.println("poke " + kind.name().toLowerCase(java.util.Locale.ROOT) + ": "
                            + (r.responded() ? "the guest answered" : "no answer on the console") + ": "
                            + String.join("; ", r.evidence()));
                }
                out.flush();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (dev.tickwatch.TickwatchException e) {
            spec.commandLine().getErr().println(Commands.who(spec) + ": poke failed: " + e.getMessage());
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (periodMs < 10) {
            throw Commands.usage(spec, "--period-ms must be at least 10, got " + periodMs);
        }
        if (forSeconds != null && !(forSeconds > 0)) {
            throw Commands.usage(spec, "--for must be more than 0 seconds, got " + forSeconds);
        }
        Poke.Kind pokeKind;
        try {
            pokeKind = poke == null ? null : Poke.Kind.parse(poke);
        } catch (IllegalArgumentException e) {
            throw Commands.usage(spec, "--poke: '" + poke + "' (expected: nmi or key)");
        }
        BufferedWriter rec = record == null ? null : Files.newBufferedWriter(record);
        boolean json = jsonOption.json();
        try (GuestContext ctx = GuestContext.open(spec);
                Watch watch = new Watch(new Probe(ctx.qmp(), ctx.console(),
                        ProbeOptions.builder().readKernel(!noMemory).kernelFiles(ctx.kernelFiles()).build(),
                        noMemory ? null : ctx.probeKernel()),
                        new Watch.Options(Duration.ofMillis(periodMs), Watch.Options.DEFAULT_HISTORY, thresholds.thresholds()))) {
            QmpClient q = ctx.qmp();
            if (rec != null) {
                watch.onSample(s -> {
                    try {
                        rec.write(Json.compact(SampleJson.toJson(s)));
                        rec.newLine();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
            java.util.concurrent.CompletableFuture<Decision> firstHang = new java.util.concurrent.CompletableFuture<>();
            java.util.concurrent.CompletableFuture<Void> poked = firstHang.thenAcceptAsync(d -> {
                if (pokeKind != null) {
                    printPoke(out, q, ctx.console(), pokeKind);
                }
            });
            watch.onChange(d -> {
                long wall = System.currentTimeMillis();
                synchronized (out) {
                    out.println(json ? Json.compact(VerdictFormat.json(d, wall)) : VerdictFormat.text(d, wall));
                    out.flush();
                }
                if (d.verdict().isHang()) {
                    firstHang.complete(d);
                }
            });
            watch.start();
            // The shell's Ctrl-C, or QEMU leaving under it, also ends the watch.
            java.util.concurrent.CompletableFuture<?> stop = untilHang
                    ? java.util.concurrent.CompletableFuture.anyOf(watch.end(), firstHang, ctx.stopRequested())
                    : java.util.concurrent.CompletableFuture.anyOf(watch.end(), ctx.stopRequested());
            try {
                if (forSeconds != null) {
                    stop.get((long) (forSeconds * 1000), TimeUnit.MILLISECONDS);
                } else {
                    stop.get();
                }
            } catch (TimeoutException e) {
                // --for elapsed: the current verdict decides the exit code.
            } catch (ExecutionException e) {
                spec.commandLine().getErr().println(Commands.who(spec) + ": sampling failed: " + e.getCause().getMessage());
                return ExitCode.CANNOT_TEST;
            }
            if (ctx.cancelled()) {
                out.println("(watch stopped)");
            }
            if (pokeKind != null && firstHang.isDone()) {
                poked.join();
            }
            Decision last = watch.current();
            return last == null ? ExitCode.CANNOT_TEST : last.verdict().exitCode();
        } finally {
            if (rec != null) {
                rec.close();
            }
        }
    }
}
