package dev.tickwatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.util.Logs;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** The boot loop's progress line: log records go above it, Ctrl-C says how far the loop got. */
class ProgressTest {

    @Test
    void aWarningDuringTheLoopClearsTheLineAndRedrawsItBelow() {
        StringBuilder screen = new StringBuilder();
        // One terminal: progress on stdout and log records on stderr end up on the same screen.
        PrintWriter stdout = new PrintWriter(new Writer() {
            @Override
            public void write(char[] c, int off, int len) {
                synchronized (screen) {
                    screen.append(c, off, len);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
        PrintStream stderr = new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                synchronized (screen) {
                    screen.append((char) b);
                }
            }
        }, true, StandardCharsets.UTF_8);
        Logs.configure(stderr, false);
        try (Progress p = new Progress(stdout, "boot-loop: ", true, 10)) {
            p.started(6);
            p.tick();
            Logger.getLogger("dev.tickwatch.monitor.Watch").warning("sample failed: timed out");
            String s;
            synchronized (screen) {
                s = screen.toString();
            }
            int warning = s.indexOf("tickwatch: warning: sample failed: timed out");
            assertTrue(warning > 0, s);
            assertEquals("\r\u001b[K", s.substring(warning - 4, warning), "the status line was cleared first: " + s);
            assertTrue(s.substring(warning).contains("\n\rboot-loop: 0/6 boots"), "and drawn again below: " + s);
        } finally {
            Logs.configure(System.err, false);
        }
        // Closed, the line is let go: a record now is printed as it is.
        Logger.getLogger("dev.tickwatch.monitor.Watch").fine("nothing");
    }

    @Test
    void ctrlCSaysHowFarTheLoopGotAndWhereItsResultsAre() {
        assertEquals("boot-loop: interrupted after 2 of 6 boots, 0 hangs; results in /tmp/r.jsonl",
                Progress.interrupted("boot-loop: ", 2, 6, 0, Path.of("/tmp/r.jsonl"), null));
        assertEquals("demo: interrupted after 3 of 5 boots, 1 hang; diagnostics in /tmp/tickwatch-hangs",
                Progress.interrupted("demo: ", 3, 5, 1, null, Path.of("/tmp/tickwatch-hangs")));
        assertEquals("boot-loop: interrupted after 0 of 6 boots, 0 hangs; nothing kept (--results FILE keeps one"
                + " line per boot)", Progress.interrupted("boot-loop: ", 0, 6, 0, null, null));
    }

    @Test
    void theInterruptedLineCountsWhatTheProgressCounted() {
        try (Progress p = new Progress(new PrintWriter(Writer.nullWriter()), "boot-loop: ", false, 10)) {
            p.started(6);
            assertEquals("boot-loop: interrupted after 0 of 6 boots, 0 hangs; results in r.jsonl",
                    p.interrupted(Path.of("r.jsonl"), Path.of("hangs")));
        }
    }
}
