package dev.tickwatch.command;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.snapshot.ReportHtml;
import dev.tickwatch.snapshot.ReportText;
import dev.tickwatch.snapshot.Snapshot;
import dev.tickwatch.snapshot.SnapshotDoc;
import dev.tickwatch.snapshot.SnapshotException;
import dev.tickwatch.util.IoErrors;
import dev.tickwatch.util.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code report DIR}: rebuilds a snapshot's report from its snapshot.json alone. Needs no guest,
 * so it works in a shell whose QEMU is gone; there DIR defaults to the shell's last snapshot.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Prints a snapshot's report, rebuilt from its snapshot.json alone.",
            "Formats: text (fit for LKML), html (with inline SVG plots) or json."})
public final class ReportCommand implements Callable<Integer> {

    enum Format { text, html, json }

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "DIR",
            description = "a snapshot folder (or its snapshot.json); in the shell, the last snapshot by default")
    Path dir;

    @Option(names = "--format", defaultValue = "text", paramLabel = "FORMAT", description = "text, html or json (default: ${DEFAULT-VALUE})")
    Format format;

    /** The same as {@code --format json}. */
    @Mixin
    JsonOption jsonOption;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path dir;
        try (GuestContext ctx = GuestContext.open(spec)) {
            dir = ctx.reportFolder(spec, this.dir);
        }
        Path file = Files.isDirectory(dir) ? dir.resolve("snapshot.json") : dir;
        JsonNode s;
        try {
            s = Json.MAPPER.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new SnapshotException("cannot read " + file + ": " + IoErrors.reason(e), e);
        }
        if (s == null || !Snapshot.SCHEMA.equals(s.path("schema").asText())) {
            throw new SnapshotException(file + " is not a " + Snapshot.SCHEMA + " snapshot (schema: "
                    + (s == null ? "none" : s.path("schema").asText("none")) + ")");
        }
        String empty = empty(s);
        if (empty != null) {
            throw new SnapshotException(file + " is an empty snapshot (" + empty + "): nothing to report;"
                    + " take one with tickwatch snapshot");
        }
        switch (jsonOption.json() ? Format.json : format) {
            case html -> out.print(ReportHtml.render(SnapshotDoc.of(s)));
            case json -> out.println(Json.pretty(s));
            default -> out.print(ReportText.render(SnapshotDoc.of(s)));
        }
        out.flush();
        return ExitCode.OK;
    }

    /**
     * What a snapshot that holds nothing lacks, or null when it holds something: valid against the
     * schema (every key there) yet no verdict, no samples and no CPU, timer, task or console data.
     * Rendered, it would read as "no verdict", as though a guest had been looked at.
     */
    static String empty(JsonNode s) {
        boolean verdict = s.path("verdict").path("verdict").isTextual();
        for (String key : new String[] {"samples", "cpus", "timers", "tasks"}) {
            if (s.path(key).isContainerNode() && !s.path(key).isEmpty()) {
                return null;
            }
        }
        JsonNode console = s.path("console");
        if (console.path("bytes").asLong() > 0 || !console.path("tail").isEmpty()) {
            return null;
        }
        return verdict ? null : "no verdict, no samples, no CPUs, timers, tasks or console";
    }
}
