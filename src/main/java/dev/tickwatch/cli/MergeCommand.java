package dev.tickwatch.cli;

import dev.tickwatch.boot.loop.BootRecord;
import dev.tickwatch.boot.loop.JUnitReport;
import dev.tickwatch.boot.loop.LoopResult;
import dev.tickwatch.boot.loop.ResultsFile;
import dev.tickwatch.util.Json;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch merge FILE...}: joins the JSON-lines files of a sharded boot loop into one
 * verdict and one set of statistics, printed and exited exactly as {@code boot-loop} does. A
 * boot number seen twice (a shard re-run) counts once, the later record winning; boots of the
 * loop with no record at all make the result "cannot test" unless a hang was found.
 */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = {"Joins shard results (boot-loop --results) into one verdict and statistics.",
            "Exit codes as boot-loop: 0 test ok, 1 a hang, 125 could not test or boots missing."})
final class MergeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "FILE.jsonl")
    List<Path> files;

    @Option(names = "--target-rate", paramLabel = "R", description = "also print the boots needed to show the hang rate < R (95%%)")
    Double targetRate;

    @Option(names = "--junit", paramLabel = "FILE.xml", description = "write one JUnit report of all boots")
    Path junit;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Map<Integer, BootRecord> byBoot = new LinkedHashMap<>();
        int expected = 0;
        int duplicates = 0;
        for (Path f : files) {
            for (BootRecord r : ResultsFile.read(f)) {
                if (byBoot.put(r.boot(), r) != null) {
                    duplicates++;
                }
                expected = Math.max(expected, r.bootsTotal());
            }
        }
        List<BootRecord> records = new ArrayList<>(byBoot.values());
        LoopResult r = LoopResult.of(records, expected);
        if (junit != null) {
            JUnitReport.write(junit, "tickwatch.boot-loop", r.records());
        }
        if (json) {
            out.println(Json.compact(LoopReport.json(r, targetRate).put("files", files.size())
                    .put("duplicates", duplicates).put("boots_total", expected)));
            out.flush();
            return LoopReport.exitCode(r);
        }
        out.printf("merge: %d file%s, %d boot records of a %d-boot loop%s%n", files.size(), files.size() == 1 ? "" : "s",
                records.size(), expected, duplicates > 0 ? " (" + duplicates + " duplicates dropped)" : "");
        return LoopReport.print("merge", r, targetRate, out, err);
    }
}
