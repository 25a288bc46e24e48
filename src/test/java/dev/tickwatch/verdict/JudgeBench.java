package dev.tickwatch.verdict;

import dev.tickwatch.probe.Sample;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A micro-measure of the judge alone: every recorded series, each also extended by a minute (a
 * hang held, a guest idle) and that seen through HMP alone, replayed sample by sample through {@link Judge#next} as the watch
 * does, with its history trimmed to the last minute; and an HMP-only guest idle in the kernel
 * image, what bench watch-scale replays. Prints ns per call (the median and the least of the
 * measured rounds), per series and over all.
 * Not a test: run its main with the test classpath ({@code [rounds [series name part]]}, default 200 rounds of all).
 */
final class JudgeBench {

    static final long HISTORY_NS = 60_000_000_000L;

    private JudgeBench() {
    }

    public static void main(String[] args) throws IOException {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        Map<String, List<Sample>> series = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(JudgeTest.SERIES)) {
            for (String n : files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jsonl")
                    && !n.endsWith(".verdicts.jsonl")).sorted().toList()) {
                List<Sample> s = JudgeTest.load(n.replace(".jsonl", ""));
                series.put(n.replace(".jsonl", ""), s);
                if (s.size() >= 3) {
                    series.put(n.replace(".jsonl", "") + " +60s", JudgeStateTest.extend(s, 60));
                    // As bench watch-scale's replayed guests are seen: through HMP alone, no console, no guest memory.
                    series.put(n.replace(".jsonl", "") + " +60s hmp only", JudgeStateTest.extend(s, 60).stream()
                            .map(x -> new Sample(x.hostTimeNs(), x.wallTimeMs(), x.status(), -1, null, false, x.cpus(), null,
                                    x.sources(), -1)).toList());
                }
            }
        }
        // What bench watch-scale replays: HMP alone, vCPUs idle in the kernel image, two minutes.
        series.put("hmp only, idle in the kernel", JudgeGolden.hmpOnly(480));
        if (args.length > 1) {
            series.keySet().removeIf(k -> !k.contains(args[1]));
        }
        // The windows each call sees, built once: the measure is the judge, not List.copyOf.
        Map<String, List<List<Sample>>> windows = new LinkedHashMap<>();
        for (Map.Entry<String, List<Sample>> e : series.entrySet()) {
            List<Sample> s = e.getValue();
            List<List<Sample>> w = new ArrayList<>();
            int from = 0;
            for (int i = 1; i <= s.size(); i++) {
                while (i - from > 2 && s.get(from).hostTimeNs() < s.get(i - 1).hostTimeNs() - HISTORY_NS) {
                    from++;
                }
                w.add(List.copyOf(s.subList(from, i)));
            }
            windows.put(e.getKey(), w);
        }
        Thresholds t = Thresholds.defaults();
        // Per series, each measured round's time: the median and the least of them are what a
        // shared, busy machine lets through (a sum would carry every other process's bursts).
        Map<String, List<Long>> ns = new LinkedHashMap<>();
        long sink = 0;
        for (int r = 0; r < rounds; r++) {
            for (Map.Entry<String, List<List<Sample>>> e : windows.entrySet()) {
                long t0 = System.nanoTime();
                Decision previous = null;
                for (List<Sample> w : e.getValue()) {
                    previous = Judge.next(previous, w, t);
                    sink += previous.evidence().size();
                }
                long dt = System.nanoTime() - t0;
                // The first half of the rounds warms up the JIT.
                if (r >= rounds / 2) {
                    ns.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(dt);
                }
            }
        }
        double medianAll = 0;
        double minAll = 0;
        long calls = 0;
        System.out.printf(Locale.ROOT, "%-40s %6s %12s %12s%n", "series", "calls", "median ns", "min ns");
        for (Map.Entry<String, List<Long>> e : ns.entrySet()) {
            List<Long> times = e.getValue().stream().sorted().toList();
            int n = windows.get(e.getKey()).size();
            double median = times.get(times.size() / 2) / (double) n;
            double min = times.get(0) / (double) n;
            System.out.printf(Locale.ROOT, "%-40s %6d %12.0f %12.0f%n", e.getKey(), n, median, min);
            medianAll += median * n;
            minAll += min * n;
            calls += n;
        }
        System.out.printf(Locale.ROOT, "%-40s %6d %12.0f %12.0f  per call (sink %d)%n", "ALL", calls, medianAll / calls,
                minAll / calls, sink);
    }
}
