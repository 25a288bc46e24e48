package dev.tickwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.snapshot.ReportHtml;
import dev.tickwatch.snapshot.ReportText;
import dev.tickwatch.snapshot.Snapshot;
import dev.tickwatch.snapshot.SnapshotException;
import dev.tickwatch.util.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tickwatch report DIR}: rebuilds a snapshot's report from its snapshot.json alone. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Prints a snapshot's report, rebuilt from its snapshot.json alone:",
            "text (fit for LKML), html (with inline SVG plots) or json."})
final class ReportCommand implements Callable<Integer> {

    enum Format { text, html, json }

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "a snapshot folder (or its snapshot.json)")
    Path dir;

    @Option(names = "--format", defaultValue = "text", description = "text, html or json (default: ${DEFAULT-VALUE})")
    Format format;

    @Option(names = "--json", description = "the same as --format json")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path file = Files.isDirectory(dir) ? dir.resolve("snapshot.json") : dir;
        JsonNode s;
        try {
            s = Json.MAPPER.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new SnapshotException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (s == null || !Snapshot.SCHEMA.equals(s.path("schema").asText())) {
            throw new SnapshotException(file + " is not a " + Snapshot.SCHEMA + " snapshot (schema: "
                    + (s == null ? "none" : s.path("schema").asText("none")) + ")");
        }
        switch (json ? Format.json : format) {
            case html -> out.print(ReportHtml.render(s));
            case json -> out.println(Json.pretty(s));
            default -> out.print(ReportText.render(s));
        }
        out.flush();
        return ExitCode.OK;
    }
}
