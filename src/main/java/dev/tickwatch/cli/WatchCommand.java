package dev.tickwatch.cli;

import dev.tickwatch.boot.Console;
import dev.tickwatch.monitor.Poke;
import dev.tickwatch.monitor.Watch;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.probe.Probe;
import dev.tickwatch.probe.ProbeOptions;
import dev.tickwatch.probe.SampleJson;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.util.Json;
import dev.tickwatch.verdict.Decision;
import dev.tickwatch.verdict.Thresholds;
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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch watch}: samples a running guest a few times a second without pausing it and
 * prints one line per change of verdict; exits with the final verdict's code when the guest stops.
 */
@Command(name = "watch", mixinStandardHelpOptions = true,
        description = {"Watches a running guest and prints one line per change of verdict",
            "(PROGRESSING, TIMER_STALL, SPIN_LOCKUP, SLEEP_DEADLOCK, SOFT_LOCKUP, PANICKED, SHUTDOWN, PAUSED,",
            "FIRMWARE_STUCK). Never pauses the guest. Exit: 0 healthy or shut down, 1 a hang, 125 could not tell."})
final class WatchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--qmp", required = true, converter = EndpointConverter.class, paramLabel = "ADDR",
            description = "QMP socket: unix:/path or tcp:host:port")
    Endpoint qmp;

    @Option(names = "--console", paramLabel = "FILE", description = "the guest's serial console log, for progress and panics")
    Path console;

    @Option(names = "--period-ms", defaultValue = "250", description = "ms between samples (default: ${DEFAULT-VALUE})")
    long periodMs;

    @Option(names = "--stall", defaultValue = "2", paramLabel = "S", description = "TIMER_STALL after S s (default: ${DEFAULT-VALUE})")
    double stallS;

    @Option(names = "--spin", defaultValue = "2", paramLabel = "S", description = "SPIN_LOCKUP after S s (default: ${DEFAULT-VALUE})")
    double spinS;

    @Option(names = "--soft-lockup", defaultValue = "8", paramLabel = "S",
            description = "SOFT_LOCKUP after S s (default: ${DEFAULT-VALUE})")
    double softS;

    @Option(names = "--sleep-deadlock", defaultValue = "30", paramLabel = "S",
            description = "SLEEP_DEADLOCK after S s in D state (default: ${DEFAULT-VALUE})")
    double sleepS;

    @Option(names = "--firmware", defaultValue = "30", paramLabel = "S",
            description = "FIRMWARE_STUCK after S s without a kernel (default: ${DEFAULT-VALUE})")
    double firmwareS;

    @Option(names = "--for", paramLabel = "SECONDS", description = "stop watching after this long (default: until the guest stops)")
    Double forSeconds;

    @Option(names = "--until-hang", description = "stop at the first hang verdict")
    boolean untilHang;

    @Option(names = "--record", paramLabel = "FILE", description = "write every sample as a JSON line")
    Path record;

    @Option(names = "--no-memory", description = "do not read guest memory (registers, LAPIC and host side only)")
    boolean noMemory;

    @Option(names = "--poke", paramLabel = "nmi|key",
            description = "at the first hang, knock once (an NMI, or a key press) and report whether the guest answers;"
                    + " off by default: it touches the guest")
    String poke;

    @Option(names = "--json", description = "JSON lines: {time, verdict, flavour, confidence, evidence, onset_age_s}")
    boolean json;

    private void printPoke(PrintWriter out, QmpClient q, Poke.Kind kind) {
        try {
            Poke.Result r = Poke.poke(q, console == null ? null : new Console(console), kind, Duration.ofSeconds(1));
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
            spec.commandLine().getErr().println("tickwatch watch: poke failed: " + e.getMessage());
        }
    }

    Thresholds thresholds() {
        return new Thresholds(seconds(stallS), seconds(spinS), seconds(softS), seconds(sleepS), seconds(firmwareS),
                Thresholds.DEFAULT_OVERDUE_MARGIN);
    }

    private static Duration seconds(double s) {
        return Duration.ofMillis(Math.round(s * 1000));
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (periodMs < 10) {
            throw new IllegalArgumentException("--period-ms must be at least 10");
        }
        BufferedWriter rec = record == null ? null : Files.newBufferedWriter(record);
        try (QmpClient q = QmpClient.connect(qmp);
                Watch watch = new Watch(new Probe(q, console == null ? null : new Console(console),
                        ProbeOptions.builder().readKernel(!noMemory).build()),
                        new Watch.Options(Duration.ofMillis(periodMs), Watch.Options.DEFAULT_HISTORY, thresholds()))) {
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
            Poke.Kind pokeKind = poke == null ? null : Poke.Kind.parse(poke);
            java.util.concurrent.CompletableFuture<Void> poked = firstHang.thenAcceptAsync(d -> {
                if (pokeKind != null) {
                    printPoke(out, q, pokeKind);
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
            java.util.concurrent.CompletableFuture<?> stop = untilHang
                    ? java.util.concurrent.CompletableFuture.anyOf(watch.end(), firstHang) : watch.end();
            try {
                if (forSeconds != null) {
                    stop.get((long) (forSeconds * 1000), TimeUnit.MILLISECONDS);
                } else {
                    stop.get();
                }
            } catch (TimeoutException e) {
                // --for elapsed: the current verdict decides the exit code.
            } catch (ExecutionException e) {
                spec.commandLine().getErr().println("tickwatch watch: sampling failed: " + e.getCause().getMessage());
                return ExitCode.CANNOT_TEST;
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
