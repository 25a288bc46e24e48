package dev.tickwatch.cli;

import dev.tickwatch.command.ExitCode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.boot.loop.BootOutcome;
import dev.tickwatch.boot.loop.BootRecord;
import dev.tickwatch.boot.loop.ConsoleWatcher;
import dev.tickwatch.boot.loop.LoopResult;
import dev.tickwatch.boot.stats.BootStats;
import dev.tickwatch.util.Json;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;

/**
 * The end of a boot loop, printed the same way by {@code boot-loop}, {@code merge} and
 * {@code demo}: the hang (verdict, evidence, diagnostics), the statistics, the bound on the
 * hang rate, and the last line ({@code test ok} / {@code test FAILED} / {@code cannot test}),
 * and the bisect-safe exit code.
 */
final class LoopReport {

    private LoopReport() {
    }

    static int exitCode(LoopResult r) {
        switch (r.status()) {
            case OK:
                return ExitCode.OK;
            case HUNG:
                return ExitCode.HANG;
            default:
                return ExitCode.CANNOT_TEST;
        }
    }

    /** Prints the text report to {@code out} (and the cannot-test reason to {@code err}); returns the exit code. */
    static int print(String name, LoopResult r, Double targetRate, PrintWriter out, PrintWriter err) {
        BootStats s = r.stats();
        BootRecord bad = r.firstBad();
        if (bad != null) {
            BootOutcome o = bad.outcome();
            out.printf(Locale.ROOT, "%s: boot %d %s: %s%s%s %.1f s after QEMU started (worker %d, %d vCPU%s, seed %s%s)%n",
                    name, bad.boot(), o.kind(), o.verdict(), o.flavour() == null ? "" : " (" + o.flavour() + ")",
                    provisional(o.verdict()) ? " [provisional: console only]" : "", o.detectS(), bad.worker(),
                    bad.smp(), bad.smp() == 1 ? "" : "s", Json.hex(bad.seed()),
                    bad.labMode() == null ? "" : ", lab " + bad.labMode());
            for (String e : o.evidence()) {
                out.println("  " + e);
            }
            if (bad.diagnostic() != null) {
                out.println(name + ": diagnostics in " + bad.diagnostic());
                java.nio.file.Path report = dev.tickwatch.boot.loop.SnapshotOnHang.report(java.nio.file.Path.of(bad.diagnostic()));
                if (report != null) {
                    out.println(name + ": report for LKML: " + report);
                }
            }
        }
        out.printf(Locale.ROOT, "%s: %,d boot%s in %.1f s (%.1f/min)", name, s.done(), s.done() == 1 ? "" : "s",
                s.wallS(), s.ratePerMin());
        if (s.clean() > 0) {
            out.printf(Locale.ROOT, "; boot time median %.2f s, p95 %.2f s, p99 %.2f s", s.medianS(), s.p95S(), s.p99S());
        }
        out.println();
        if (s.hangs() > 0) {
            StringBuilder v = new StringBuilder();
            for (Map.Entry<String, Long> e : s.hangsByVerdict().entrySet()) {
                v.append(v.length() == 0 ? "" : ", ").append(e.getKey()).append(' ').append(e.getValue());
            }
            out.println(name + ": hangs by verdict: " + v);
        }
        Map<String, java.util.List<Integer>> host = hostFailures(r);
        for (Map.Entry<String, java.util.List<Integer>> e : host.entrySet()) {
            out.printf(Locale.ROOT, "%s: host-side failures, counted as passed: %s %d (boot%s %s)%n", name, e.getKey(),
                    e.getValue().size(), e.getValue().size() == 1 ? "" : "s",
                    e.getValue().stream().limit(10).map(String::valueOf).collect(java.util.stream.Collectors.joining(", "))
                            + (e.getValue().size() > 10 ? ", ..." : ""));
        }
        if (s.done() > 0) {
            out.println(name + ": " + s.boundLine());
        }
        if (targetRate != null && s.done() > 0) {
            long need = s.bootsFor(targetRate);
            out.printf(Locale.ROOT, "%s: to show rate < %.1e (95%%), %s: %,d boots in all, %,d more without a hang%n",
                    name, targetRate, BootStats.inWords(targetRate), need, Math.max(0, need - s.done()));
        }
        if (r.missing() > 0 && bad == null) {
            out.printf(Locale.ROOT, "%s: %d boot%s of the loop have no result%n", name, r.missing(), r.missing() == 1 ? "" : "s");
        }
        int code = exitCode(r);
        if (code == ExitCode.OK) {
            out.println("test ok");
        } else if (code == ExitCode.HANG) {
            out.printf("test FAILED: boot %d %s (%s)%n", bad.boot(), bad.outcome().kind() == BootOutcome.Kind.TIMEOUT
                    ? "timed out" : "hung", bad.outcome().verdict());
        } else {
            BootRecord c = r.cannotTest();
            String why = c != null ? c.outcome().verdict() + ": " + c.outcome().reason()
                    : r.records().isEmpty() ? "no boot ran" : r.missing() + " boots have no result";
            out.println("cannot test");
            err.println("tickwatch " + name + ": cannot test: " + why);
        }
        out.flush();
        err.flush();
        return code;
    }

    /** The same as one JSON object. */
    static ObjectNode json(LoopResult r, Double targetRate) {
        BootStats s = r.stats();
        ObjectNode o = Json.object().put("status", r.status().name().toLowerCase(Locale.ROOT))
                .put("exit_code", exitCode(r)).put("boots_done", s.done()).put("clean", s.clean())
                .put("hangs", s.hangs()).put("cannot_test", s.cannotTest()).put("missing", r.missing());
        ObjectNode v = o.putObject("hangs_by_verdict");
        s.hangsByVerdict().forEach(v::put);
        ObjectNode h = o.putObject("host_failures");
        hostFailures(r).forEach((k, boots) -> h.put(k, boots.size()));
        putS(o, "wall_s", s.wallS());
        putS(o, "rate_per_min", s.ratePerMin());
        putS(o, "boot_median_s", s.medianS());
        putS(o, "boot_p95_s", s.p95S());
        putS(o, "boot_p99_s", s.p99S());
        o.put("hang_rate_upper95", s.upper95());
        if (targetRate != null && s.done() > 0) {
            o.put("target_rate", targetRate).put("boots_for_target", s.bootsFor(targetRate));
        }
        if (r.firstBad() != null) {
            o.set("first_hang", r.firstBad().toJson());
            o.put("diagnostic", r.firstBad().diagnostic());
            if (r.firstBad().diagnostic() != null) {
                java.nio.file.Path report = dev.tickwatch.boot.loop.SnapshotOnHang.report(java.nio.file.Path.of(r.firstBad().diagnostic()));
                o.put("report", report == null ? null : report.toString());
            }
        }
        if (r.cannotTest() != null) {
            o.put("cannot_test_reason", r.cannotTest().outcome().reason());
        }
        return o;
    }

    /** Passed boots whose QEMU failed on the host side, by label, with their boot numbers. */
    static Map<String, java.util.List<Integer>> hostFailures(LoopResult r) {
        Map<String, java.util.List<Integer>> m = new java.util.TreeMap<>();
        for (BootRecord b : r.records()) {
            if (b.outcome().isHostFailure()) {
                m.computeIfAbsent(b.outcome().verdict(), k -> new java.util.ArrayList<>()).add(b.boot());
            }
        }
        m.values().forEach(java.util.Collections::sort);
        return m;
    }

    private static void putS(ObjectNode o, String key, double v) {
        if (Double.isNaN(v)) {
            o.putNull(key);
        } else {
            o.put(key, Math.round(v * 1000) / 1000.0);
        }
    }

    private static boolean provisional(String verdict) {
        return ConsoleWatcher.STALLED_CONSOLE.equals(verdict);
    }
}
