package dev.tickwatch.bisect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.boot.loop.BootOutcome;
import dev.tickwatch.boot.loop.BootRecord;
import dev.tickwatch.boot.loop.LoopResult;
import dev.tickwatch.boot.stats.BootStats;
import dev.tickwatch.util.Json;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * The boots of one revision so far, added up batch by batch: what the state file keeps, so that
 * a resumed bisection goes on counting where it stopped and no boot is counted twice (a batch
 * counts only once it has ended and been saved).
 *
 * @param boots      boots with an outcome (clean + hangs)
 * @param hangs      of them, hangs and timeouts
 * @param cannotTest boots that could not run (not in {@code boots})
 * @param batches    batches run (each batch's seed derives from its number)
 * @param wallS      wall time of the batches, seconds
 * @param verdicts   hang verdict to count
 * @param firstHang  the diagnostics folder of the first hang, or null
 */
public record Tally(long boots, long hangs, long cannotTest, int batches, double wallS, Map<String, Long> verdicts,
        String firstHang) {

    public static final Tally EMPTY = new Tally(0, 0, 0, 0, 0, Map.of(), null);

    public Tally {
        verdicts = java.util.Collections.unmodifiableMap(new TreeMap<>(verdicts));
    }

    /** This tally with one more batch's result. */
    public Tally plus(LoopResult r) {
        BootStats s = r.stats();
        Map<String, Long> v = new TreeMap<>(verdicts);
        s.hangsByVerdict().forEach((k, n) -> v.merge(k, n, Long::sum));
        String first = firstHang;
        if (first == null && r.firstBad() != null) {
            first = r.firstBad().diagnostic();
        }
        return new Tally(boots + s.done(), hangs + s.hangs(), cannotTest + s.cannotTest(), batches + 1,
                wallS + s.wallS(), v, first);
    }

    /** Why a batch could not test, for the step's reason, or null. */
    static String cannotTestReason(LoopResult r) {
        BootRecord c = r.cannotTest();
        if (c != null) {
            BootOutcome o = c.outcome();
            return o.reason() != null ? o.reason() : o.verdict();
        }
        return null;
    }

    /** Boots per minute of boot wall time, NaN before any. */
    public double bootsPerMin() {
        return wallS > 0 ? boots * 60.0 / wallS : Double.NaN;
    }

    /** One-sided 95 % upper bound on the hang rate, 1 before any boot. */
    public double upper95() {
        return boots == 0 ? 1.0 : dev.tickwatch.boot.stats.ClopperPearson.upper95(hangs, boots);
    }

    /** "TIMER_STALL x2, PANICKED x1", or "-" with no hang. */
    public String verdictText() {
        if (verdicts.isEmpty()) {
            return "-";
        }
        StringBuilder sb = new StringBuilder();
        verdicts.forEach((k, n) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(n > 1 ? " x" + n : ""));
        return sb.toString();
    }

    public ObjectNode toJson() {
        ObjectNode o = Json.object().put("boots", boots).put("hangs", hangs).put("cannot_test", cannotTest)
                .put("batches", batches).put("wall_s", Math.round(wallS * 1000) / 1000.0)
                .put("upper95", upper95()).put("first_hang", firstHang);
        ObjectNode v = o.putObject("verdicts");
        verdicts.forEach(v::put);
        return o;
    }

    public static Tally fromJson(JsonNode o) {
        if (o == null || o.isMissingNode() || o.isNull()) {
            return EMPTY;
        }
        Map<String, Long> v = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = o.path("verdicts").fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            v.put(e.getKey(), e.getValue().asLong());
        }
        JsonNode fh = o.path("first_hang");
        return new Tally(o.path("boots").asLong(), o.path("hangs").asLong(), o.path("cannot_test").asLong(),
                o.path("batches").asInt(), o.path("wall_s").asDouble(), v, fh.isNull() || fh.isMissingNode() ? null : fh.asText());
    }
}
