package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tickwatch report DIR}: the report from snapshot.json alone, through exit code and output. */
class ReportCommandTest {

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return Main.run(new PrintWriter(out), new PrintWriter(err), args);
    }

    @Test
    void textFromAFolderIsTheReportThatWasWritten() throws IOException {
        assertEquals(0, run("report", "samples/snapshots/spin-deadlock"));
        assertEquals(Files.readString(Path.of("samples/snapshots/spin-deadlock/report.txt")), out.toString());
    }

    @Test
    void htmlAndJsonFromTheJsonFileItself() throws IOException {
        assertEquals(0, run("report", "samples/snapshots/timer-stall-lost/snapshot.json", "--format", "html"));
        assertTrue(out.toString().startsWith("<!DOCTYPE html>"));
        assertTrue(out.toString().contains("<svg "));
        StringWriter json = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(json), new PrintWriter(err), "report", "samples/snapshots/timer-stall-lost",
                "--format", "json"));
        assertTrue(json.toString().contains("\"schema\" : \"tickwatch-snapshot/1\""));
    }

    @Test
    void aFileThatIsNotASnapshotIsOneLineAndExit125() throws IOException {
        Files.writeString(dir.resolve("snapshot.json"), "{\"schema\":\"something-else\"}");
        assertEquals(125, run("report", dir.toString()));
        assertEquals("tickwatch: " + dir.resolve("snapshot.json") + " is not a tickwatch-snapshot/1 snapshot (schema:"
                + " something-else)", err.toString().strip());
        assertEquals("", out.toString());
    }

    @Test
    void anUnknownFormatIsAUsageError() {
        assertEquals(128, run("report", "samples/snapshots/spin-deadlock", "--format", "pdf"));
        assertTrue(err.toString().contains("--format"), err.toString());
    }
}
