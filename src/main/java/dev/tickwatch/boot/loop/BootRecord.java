package dev.tickwatch.boot.loop;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.boot.stats.BootStats;
import dev.tickwatch.util.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * One boot as it goes into the results file, one JSON line each, and comes back from it for
 * {@code tickwatch merge}. Seeds are hex strings like addresses; durations carry their unit.
 *
 * @param shard      the shard that ran it
 * @param bootsTotal boots in the whole loop (all shards)
 * @param boot       0-based boot number in the whole loop
 * @param worker     0-based worker in its shard's process
 * @param seed       the boot's seed
 * @param smp        vCPUs it had
 * @param labMode    injected lab mode, or null
 * @param outcome    the outcome (kind, verdict, evidence, times)
 * @param startedMs  wall clock at QEMU start, epoch milliseconds
 * @param endedMs    wall clock when the outcome was known
 * @param diagnostic where the hang handler wrote, or null
 */
public record BootRecord(Shard shard, int bootsTotal, int boot, int worker, long seed, int smp, String labMode,
        BootOutcome outcome, long startedMs, long endedMs, String diagnostic) {

    public ObjectNode toJson() {
        ObjectNode o = Json.object().put("shard", shard.toString()).put("boots_total", bootsTotal).put("boot", boot)
                .put("worker", worker).put("seed", Json.hex(seed)).put("smp", smp).put("lab_mode", labMode)
                .put("outcome", outcome.kind().name()).put("verdict", outcome.verdict())
                .put("flavour", outcome.flavour());
        putSeconds(o, "boot_s", outcome.bootS());
        putSeconds(o, "detect_s", outcome.detectS());
        o.put("started_ms", startedMs).put("ended_ms", endedMs).put("reason", outcome.reason())
                .put("diagnostic", diagnostic);
        ArrayNode ev = o.putArray("evidence");
        outcome.evidence().forEach(ev::add);
        return o;
    }

    public String toJsonLine() {
        return Json.compact(toJson());
    }

    /** Parses one line of a results file. */
    public static BootRecord parse(String line) {
        JsonNode o;
        try {
            o = Json.MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            throw new TickwatchException("not a JSON line: " + e.getOriginalMessage());
        }
        if (!o.isObject() || !o.has("boot") || !o.has("outcome")) {
            throw new TickwatchException("not a boot record (needs \"boot\" and \"outcome\")");
        }
        List<String> ev = new ArrayList<>();
        o.path("evidence").forEach(e -> ev.add(e.asText()));
        BootOutcome.Kind kind;
        try {
            kind = BootOutcome.Kind.valueOf(o.path("outcome").asText());
        } catch (IllegalArgumentException e) {
            throw new TickwatchException("unknown outcome '" + o.path("outcome").asText() + "'");
        }
        BootOutcome out = new BootOutcome(kind, text(o, "verdict"), text(o, "flavour"), ev,
                seconds(o, "boot_s"), seconds(o, "detect_s"), text(o, "reason"), null, null);
        return new BootRecord(Shard.parse(o.path("shard").asText("0/1")), o.path("boots_total").asInt(),
                o.path("boot").asInt(), o.path("worker").asInt(), Long.parseUnsignedLong(
                        o.path("seed").asText("0x0").replaceFirst("^0x", ""), 16),
                o.path("smp").asInt(), text(o, "lab_mode"), out, o.path("started_ms").asLong(),
                o.path("ended_ms").asLong(), text(o, "diagnostic"));
    }

    /** The record as statistics see it. */
    public BootStats.Boot toStats() {
        switch (outcome.kind()) {
            case OK:
                return new BootStats.Boot(BootStats.Result.CLEAN, null, outcome.bootS());
            case HUNG:
            case TIMEOUT:
                return new BootStats.Boot(BootStats.Result.HANG, outcome.verdict(), Double.NaN);
            default:
                return new BootStats.Boot(BootStats.Result.CANNOT_TEST, outcome.verdict(), Double.NaN);
        }
    }

    static double round3(double s) {
        return Double.isNaN(s) ? Double.NaN : Math.round(s * 1000) / 1000.0;
    }

    private static void putSeconds(ObjectNode o, String key, double s) {
        if (Double.isNaN(s)) {
            o.putNull(key);
        } else {
            o.put(key, round3(s));
        }
    }

    private static double seconds(JsonNode o, String key) {
        JsonNode n = o.path(key);
        return n.isNumber() ? n.asDouble() : Double.NaN;
    }

    private static String text(JsonNode o, String key) {
        JsonNode n = o.path(key);
        return n.isNull() || n.isMissingNode() ? null : n.asText();
    }
}
