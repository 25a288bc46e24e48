package dev.tickwatch.bisect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.util.Json;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything a bisection has learnt, as the state file keeps it ({@code .git/tickwatch-bisect.json}
 * or {@code --state FILE}): the setup, the calibration, every step with its boots so far and its
 * verdict, the culprit and its checks. Written through a temp file and a rename after every batch
 * of boots, so a crash leaves the last complete batch; {@code --resume} replays the verdicts into
 * a fresh {@code git bisect} and goes on with the step in progress. Not thread-safe: the
 * bisection's one thread owns it.
 */
public final class BisectState {

    public static final int VERSION = 1;
    /** The state file's name in the tree's git folder. */
    public static final String FILE = "tickwatch-bisect.json";

    /** Where the bisection is. */
    public enum Phase { CALIBRATE, BISECT, PARENT, REVERT, DONE }

    /** What the bisection was asked to do; fixed at its start. */
    public record Setup(String good, String bad, String build, String kernel, String initrd, String vmlinux, double risk,
            int calibrateHangs, double calibrateTimeoutS, Long bootsPerGood, boolean revertCheck, long seed,
            int maxCannotTest, int batch) {

        public Setup {
            Objects.requireNonNull(good, "good");
            Objects.requireNonNull(bad, "bad");
            Objects.requireNonNull(build, "build");
            Objects.requireNonNull(kernel, "kernel");
        }

        ObjectNode toJson() {
            return Json.object().put("good", good).put("bad", bad).put("build", build).put("kernel", kernel)
                    .put("initrd", initrd).put("vmlinux", vmlinux).put("risk", risk).put("calibrate_hangs", calibrateHangs)
                    .put("calibrate_timeout_s", calibrateTimeoutS).put("boots_per_good", bootsPerGood)
                    .put("revert_check", revertCheck).put("seed", seed).put("max_cannot_test", maxCannotTest)
                    .put("batch", batch);
        }

        static Setup fromJson(JsonNode o) {
            return new Setup(o.path("good").asText(), o.path("bad").asText(), o.path("build").asText(),
                    o.path("kernel").asText(), text(o, "initrd"), text(o, "vmlinux"), o.path("risk").asDouble(),
                    o.path("calibrate_hangs").asInt(), o.path("calibrate_timeout_s").asDouble(),
                    o.path("boots_per_good").isNumber() ? o.path("boots_per_good").asLong() : null,
                    o.path("revert_check").asBoolean(), o.path("seed").asLong(), o.path("max_cannot_test").asInt(),
                    o.path("batch").asInt());
        }
    }

    /**
     * One revision booted: the calibration, a step, the parent or revert check.
     *
     * @param role    calibrate, step, parent or revert
     * @param index   the step's number (1-based), 0 for the others
     * @param verdict for a step good, bad or skip; for the others hung, clean or untested; null while booting
     * @param reason  why skipped or untested, else null
     * @param buildS  seconds the build took (NaN if not built)
     */
    public record Revision(String role, int index, String sha, String subject, Tally tally, String verdict, String reason,
            double buildS) {

        public Revision with(Tally t) {
            return new Revision(role, index, sha, subject, t, verdict, reason, buildS);
        }

        public Revision decided(String v, String why) {
            return new Revision(role, index, sha, subject, tally, v, why, buildS);
        }

        public Revision built(double s) {
            return new Revision(role, index, sha, subject, tally, verdict, reason, s);
        }

        public boolean pending() {
            return verdict == null;
        }

        ObjectNode toJson() {
            ObjectNode o = Json.object().put("role", role).put("index", index).put("sha", sha).put("subject", subject)
                    .put("verdict", verdict).put("reason", reason);
            if (Double.isNaN(buildS)) {
                o.putNull("build_s");
            } else {
                o.put("build_s", Math.round(buildS * 1000) / 1000.0);
            }
            o.set("tally", tally.toJson());
            return o;
        }

        static Revision fromJson(JsonNode o) {
            return new Revision(o.path("role").asText(), o.path("index").asInt(), o.path("sha").asText(), text(o, "subject"),
                    Tally.fromJson(o.path("tally")), text(o, "verdict"), text(o, "reason"),
                    o.path("build_s").isNumber() ? o.path("build_s").asDouble() : Double.NaN);
        }
    }

    private final Setup setup;
    private long revisions;
    private Phase phase = Phase.CALIBRATE;
    private Revision calibration;
    private final List<Revision> steps = new ArrayList<>();
    private String culprit;
    private List<String> candidates = List.of();
    private Revision parent;
    private Revision revert;
    private long startedMs;

    public BisectState(Setup setup, long revisions, long startedMs) {
        this.setup = setup;
        this.revisions = revisions;
        this.startedMs = startedMs;
    }

    public Setup setup() {
        return setup;
    }

    public long revisions() {
        return revisions;
    }

    public Phase phase() {
        return phase;
    }

    public void phase(Phase p) {
        this.phase = p;
    }

    public Revision calibration() {
        return calibration;
    }

    public void calibration(Revision r) {
        this.calibration = r;
    }

    public List<Revision> steps() {
        return List.copyOf(steps);
    }

    /** The step in progress (no verdict yet), or null. */
    public Revision pendingStep() {
        return steps.isEmpty() || !steps.get(steps.size() - 1).pending() ? null : steps.get(steps.size() - 1);
    }

    /** Adds a step, or replaces the last one when it is the same step (same index). */
    public void step(Revision r) {
        if (!steps.isEmpty() && steps.get(steps.size() - 1).index() == r.index()) {
            steps.set(steps.size() - 1, r);
        } else {
            steps.add(r);
        }
    }

    public String culprit() {
        return culprit;
    }

    public List<String> candidates() {
        return candidates;
    }

    public void culprit(String sha, List<String> cands) {
        this.culprit = sha;
        this.candidates = List.copyOf(cands);
    }

    public Revision parent() {
        return parent;
    }

    public void parent(Revision r) {
        this.parent = r;
    }

    public Revision revert() {
        return revert;
    }

    public void revert(Revision r) {
        this.revert = r;
    }

    public long startedMs() {
        return startedMs;
    }

    public ObjectNode toJson() {
        ObjectNode o = Json.object().put("version", VERSION).put("phase", phase.name().toLowerCase(java.util.Locale.ROOT))
                .put("revisions", revisions).put("started_ms", startedMs);
        o.set("setup", setup.toJson());
        o.set("calibration", calibration == null ? null : calibration.toJson());
        ArrayNode a = o.putArray("steps");
        steps.forEach(s -> a.add(s.toJson()));
        o.put("culprit", culprit);
        ArrayNode c = o.putArray("candidates");
        candidates.forEach(c::add);
        o.set("parent", parent == null ? null : parent.toJson());
        o.set("revert", revert == null ? null : revert.toJson());
        return o;
    }

    public static BisectState fromJson(JsonNode o) {
        if (o.path("version").asInt() != VERSION) {
            throw new BisectException("the state file's version is " + o.path("version").asText("missing")
                    + " (expected: " + VERSION + ")");
        }
        BisectState s = new BisectState(Setup.fromJson(o.path("setup")), o.path("revisions").asLong(),
                o.path("started_ms").asLong());
        s.phase = Phase.valueOf(o.path("phase").asText().toUpperCase(java.util.Locale.ROOT));
        s.calibration = o.path("calibration").isObject() ? Revision.fromJson(o.path("calibration")) : null;
        o.path("steps").forEach(n -> s.steps.add(Revision.fromJson(n)));
        s.culprit = text(o, "culprit");
        List<String> c = new ArrayList<>();
        o.path("candidates").forEach(n -> c.add(n.asText()));
        s.candidates = List.copyOf(c);
        s.parent = o.path("parent").isObject() ? Revision.fromJson(o.path("parent")) : null;
        s.revert = o.path("revert").isObject() ? Revision.fromJson(o.path("revert")) : null;
        return s;
    }

    /** Writes the state through a temp file in the same folder and a rename: never half a file. */
    public void save(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, ".tickwatch-bisect", ".tmp");
            Files.writeString(tmp, Json.pretty(toJson()) + "\n");
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new BisectException("cannot write the bisection's state to " + file + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: a stray temp file next to the state
                }
            }
        }
    }

    public static BisectState load(Path file) {
        try {
            return fromJson(Json.MAPPER.readTree(Files.readString(file)));
        } catch (IOException e) {
            throw new BisectException("cannot read the bisection's state " + file + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new BisectException("the bisection's state " + file + " is not one tickwatch wrote: " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode o, String key) {
        JsonNode n = o.path(key);
        return n.isNull() || n.isMissingNode() ? null : n.asText();
    }
}
