package dev.tickwatch.cli;

import dev.tickwatch.boot.loop.JUnitReport;
import dev.tickwatch.boot.loop.LoopResult;
import dev.tickwatch.boot.loop.MergedResults;
import dev.tickwatch.util.Json;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ExitCode;
import dev.tickwatch.command.JsonOption;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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
@CliOnly("joins result files of boot loops; no guest involved")
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = {"Joins shard results (boot-loop --results) into one verdict and statistics.",
            "Exit codes as boot-loop: 0 test ok, 1 a hang, 125 could not test or boots missing, 128 usage error."})
final class MergeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "results files (JSON lines) of boot-loop --results")
    List<Path> files;

    @Option(names = "--target-rate", paramLabel = "R", description = "also print the boots needed to show the hang rate < R (95%%)")
    Double targetRate;

    @Option(names = "--junit", paramLabel = "FILE", description = "write one JUnit XML report of all boots")
    Path junit;

    @Mixin
    JsonOption jsonOption;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        MergedResults m = MergedResults.read(files);
        LoopResult r = m.result();
        int expected = m.bootsTotal();
        int duplicates = m.duplicates();
        if (junit != null) {
            JUnitReport.write(junit, "tickwatch.boot-loop", r.records());
        }
        if (jsonOption.json()) {
            out.println(Json.compact(LoopReport.json(r, targetRate).put("files", files.size())
                    .put("duplicates", duplicates).put("boots_total", expected)));
            out.flush();
            return LoopReport.exitCode(r);
        }
        out.printf("merge: %d file%s, %d boot records of a %d-boot loop%s%n", files.size(), files.size() == 1 ? "" : "s",
                r.records().size(), expected, duplicates > 0 ? " (" + duplicates + " duplicates dropped)" : "");
        return LoopReport.print("merge", r, targetRate, out, err);
    }
}
