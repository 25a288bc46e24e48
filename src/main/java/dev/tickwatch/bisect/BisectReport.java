package dev.tickwatch.bisect;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.util.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code bisect-report.txt} for LKML, and the same as JSON: the steps table (revision, boots,
 * hangs, verdicts, bound, time), the culprit with its subject line as git names it, and the
 * confidence statement: what the boots showed and what they did not. Pure: from the state.
 */
public final class BisectReport {

    public static final String FILE = "bisect-report.txt";
    public static final String JSON_FILE = "bisect-report.json";

    private final BisectState state;
    private final BisectPlan plan;
    private final Path diagnostics;

    /** @param plan null when the calibration never hung */
    public BisectReport(BisectState state, BisectPlan plan, Path diagnostics) {
        this.state = state;
        this.plan = plan;
        this.diagnostics = diagnostics;
    }

    public String text() {
        StringBuilder sb = new StringBuilder();
        BisectState.Setup s = state.setup();
        sb.append("tickwatch bisect: good ").append(s.good()).append(", bad ").append(s.bad()).append('\n');
        sb.append(String.format(Locale.ROOT, "%,d revisions in good..bad; build: %s; kernel: %s%s%n", state.revisions(), s.build(),
                s.kernel(), s.initrd() == null ? "" : ", initrd: " + s.initrd()));
        if (plan != null) {
            sb.append("plan: ").append(plan.text("")).append('\n');
        }
        sb.append('\n');
        sb.append(String.format(Locale.ROOT, "%-9s %-12s %9s %5s  %-24s %-11s %9s  %s%n", "step", "revision", "boots", "hangs",
                "verdicts", "rate (95%)", "time", "result"));
        List<BisectState.Revision> rows = new ArrayList<>();
        if (state.calibration() != null) {
            rows.add(state.calibration());
        }
        rows.addAll(state.steps());
        if (state.parent() != null && state.parent().sha() != null) {
            rows.add(state.parent());
        }
        if (state.revert() != null) {
            rows.add(state.revert());
        }
        for (BisectState.Revision r : rows) {
            Tally t = r.tally();
            String name = r.role().equals("step") ? Integer.toString(r.index()) : r.role();
            String bound = t.boots() == 0 ? "-" : t.hangs() == 0 ? "< " + BisectPlan.sci(t.upper95()) : BisectPlan.sci((double) t.hangs() / t.boots());
            String result = r.verdict() == null ? "(booting)" : r.verdict() + (r.reason() == null ? "" : ": " + r.reason());
            sb.append(String.format(Locale.ROOT, "%-9s %-12s %,9d %5d  %-24s %-11s %9s  %s%n", name, Bisector.shortSha(r.sha()),
                    t.boots(), t.hangs(), t.verdictText(), bound, BisectPlan.duration(t.wallS()), result));
        }
        sb.append('\n');
        if (state.culprit() != null) {
            sb.append("first bad commit: ").append(state.culprit()).append(' ').append(subject(state.culprit())).append('\n');
        } else if (!state.candidates().isEmpty()) {
            sb.append("no single culprit: only skipped revisions were left; the first bad commit is one of:\n");
            state.candidates().forEach(c -> sb.append("  ").append(c).append('\n'));
        } else {
            sb.append("no conclusion: ").append(noConclusion()).append('\n');
        }
        sb.append('\n');
        for (String line : statement()) {
            sb.append(line).append('\n');
        }
        sb.append('\n').append("Diagnostics (build logs, boots.jsonl, hang snapshots with report.txt): ").append(diagnostics).append('\n');
        return sb.toString();
    }

    /** The confidence statement, in sentences: what was shown and what was not. */
    public List<String> statement() {
        List<String> out = new ArrayList<>();
        if (plan == null) {
            return out;
        }
        List<BisectState.Revision> goods = state.steps().stream().filter(r -> "good".equals(r.verdict())).toList();
        List<BisectState.Revision> skips = state.steps().stream().filter(r -> "skip".equals(r.verdict())).toList();
        long bads = state.steps().stream().filter(r -> "bad".equals(r.verdict())).count();
        out.add(String.format(Locale.ROOT, "Every bad verdict (%d) is a hang seen; its diagnostics are in the step's folder.", bads));
        if (goods.isEmpty()) {
            out.add("No step was called good, so no good verdict can be wrong.");
        } else {
            double risk = Planner.riskOf(plan.low(), goods.size(), plan.bootsPerGood());
            out.add(String.format(Locale.ROOT, "Each of the %d good verdicts rests on %,d clean boots. The bad revision hung %d in %,d boots"
                            + " (rate %s, 95 %% CI %s..%s); if the culprit's hang rate is at least %s, the chance that any good"
                            + " verdict is wrong is at most %s (%s was stated up front for %d steps).",
                    goods.size(), plan.bootsPerGood(), plan.calibrationHangs(), plan.calibrationBoots(), BisectPlan.sci(plan.rate()),
                    BisectPlan.sci(plan.low()), BisectPlan.sci(plan.high()), BisectPlan.sci(plan.low()), BisectPlan.percent(risk),
                    BisectPlan.percent(plan.risk()), plan.steps()));
        }
        if (!skips.isEmpty()) {
            out.add("Skipped, and so not shown either way: " + String.join(", ", skips.stream()
                    .map(r -> Bisector.shortSha(r.sha()) + " (" + r.reason() + ")").toList()) + ".");
        }
        BisectState.Revision p = state.parent();
        if (p != null) {
            out.add(checkLine("parent", p,
                    "that bounds, it does not prove, a latent bug before the culprit",
                    "the hang is older than the culprit (a latent bug, or another one): the culprit is where it became"
                            + " this frequent, not necessarily where it began"));
        }
        BisectState.Revision r = state.revert();
        if (r != null) {
            out.add(checkLine("revert of the culprit on top of bad", r,
                    "reverting the culprit removes the hang as far as these boots can show",
                    "reverting the culprit does not remove the hang: it is not the whole cause"));
        }
        if (state.culprit() != null) {
            out.add("Not shown: that revisions before the culprit never hang (only a bound on their rate, from the parent's boots),"
                    + " nor that the hang has a single cause.");
        }
        return out;
    }

    private static String checkLine(String what, BisectState.Revision c, String ifClean, String ifHung) {
        Tally t = c.tally();
        String sha = c.role().equals("revert") ? "" : " " + Bisector.shortSha(c.sha());
        if ("hung".equals(c.verdict())) {
            return String.format(Locale.ROOT, "%s%s: hung (%s) within %,d boots: %s.", cap(what), sha, t.verdictText(), t.boots(), ifHung);
        }
        if ("clean".equals(c.verdict())) {
            return String.format(Locale.ROOT, "%s%s: 0 hangs in %,d boots: rate < %s (95 %%); %s.", cap(what), sha, t.boots(),
                    BisectPlan.sci(t.upper95()), ifClean);
        }
        return String.format(Locale.ROOT, "%s%s: not tested: %s.", cap(what), sha, c.reason() == null ? "interrupted" : c.reason());
    }

    private String noConclusion() {
        BisectState.Revision c = state.calibration();
        if (c == null) {
            return "the bisection did not start";
        }
        if ("untested".equals(c.verdict())) {
            return "the bad revision could not be used: " + c.reason();
        }
        return String.format(Locale.ROOT, "the bad revision did not hang in %,d boots (%s) within --calibrate-timeout",
                c.tally().boots(), BisectPlan.duration(c.tally().wallS()));
    }

    private String subject(String sha) {
        for (BisectState.Revision r : state.steps()) {
            if (sha.equals(r.sha()) && r.subject() != null) {
                return r.subject();
            }
        }
        if (state.calibration() != null && sha.equals(state.calibration().sha())) {
            return state.calibration().subject();
        }
        return "";
    }

    public ObjectNode json(int exit) {
        ObjectNode o = Json.object().put("exit", exit).put("culprit", state.culprit())
                .put("culprit_subject", state.culprit() == null ? null : subject(state.culprit()));
        o.set("plan", plan == null ? null : plan.toJson());
        o.set("state", state.toJson());
        ArrayNode st = o.putArray("statement");
        statement().forEach(st::add);
        o.put("diagnostics", diagnostics.toString());
        return o;
    }

    private static String cap(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
