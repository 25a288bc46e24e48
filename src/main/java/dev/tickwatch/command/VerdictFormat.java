package dev.tickwatch.command;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.util.Json;
import dev.tickwatch.verdict.Decision;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * One verdict as a line for people or as a JSON object, shared by watch, boot-loop and the shell.
 * Every verdict, UNDECIDED too, prints the same way: its name, confidence and evidence (for
 * UNDECIDED the reason comes first); a hang's JSON also says how its onset was estimated.
 */
public final class VerdictFormat {

    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

    private VerdictFormat() {
    }

    /** {@code 12:00:01.234 TIMER_STALL lost-timer (0.95): evidence; evidence}. */
    public static String text(Decision d, long wallTimeMs) {
        return CLOCK.format(Instant.ofEpochMilli(wallTimeMs)) + " " + d.verdict()
                + (d.flavour() == null ? "" : " " + d.flavour())
                + String.format(Locale.ROOT, " (%.2f): ", d.confidence()) + String.join("; ", d.evidence());
    }

    public static ObjectNode json(Decision d, long wallTimeMs) {
        ObjectNode o = Json.object();
        o.put("time", Instant.ofEpochMilli(wallTimeMs).toString()).put("verdict", d.verdict().name())
                .put("flavour", d.flavour()).put("confidence", Math.round(d.confidence() * 100) / 100.0);
        ArrayNode ev = o.putArray("evidence");
        d.evidence().forEach(ev::add);
        o.put("onset_age_s", Math.round((d.decidedNs() - d.onsetNs()) / 1e7) / 100.0);
        if (d.verdict().isHang()) {
            o.put("onset_how", d.onsetHow());
        }
        return o;
    }
}
