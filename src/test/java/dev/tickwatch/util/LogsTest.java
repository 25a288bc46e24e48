package dev.tickwatch.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Log records reach the terminal as one line each, in the CLI's own voice; --verbose adds debug detail. */
class LogsTest {

    private static final System.Logger LOG = System.getLogger("dev.tickwatch.watch.Watch");
    private final ByteArrayOutputStream sink = new ByteArrayOutputStream();

    private String logged() {
        return sink.toString(StandardCharsets.UTF_8);
    }

    @AfterEach
    void restore() {
        Logs.configure(System.err, false);
    }

    @Test
    void aWarningIsOneLineWithoutDateClassOrStackTrace() {
        Logs.configure(new PrintStream(sink, true, StandardCharsets.UTF_8), false);
        LOG.log(System.Logger.Level.WARNING, "sample failed: {0}", "QMP connection closed");
        LOG.log(System.Logger.Level.WARNING, "QMP event listener failed on STOP", new IllegalStateException("boom"));
        LOG.log(System.Logger.Level.DEBUG, "not shown without --verbose");
        String nl = System.lineSeparator();
        assertEquals("tickwatch: warning: sample failed: QMP connection closed" + nl
                + "tickwatch: warning: QMP event listener failed on STOP: boom" + nl, logged());
    }

    @Test
    void verboseShowsDebugRecordsAndTraces() {
        Logs.configure(new PrintStream(sink, true, StandardCharsets.UTF_8), true);
        assertTrue(Logs.verbose());
        LOG.log(System.Logger.Level.DEBUG, "kernel not readable yet: {0}", "no kallsyms");
        LOG.log(System.Logger.Level.WARNING, "detach failed", new IllegalStateException("boom"));
        String[] lines = logged().split("\\R");
        assertEquals("tickwatch: debug: kernel not readable yet: no kallsyms", lines[0]);
        assertEquals("tickwatch: warning: detach failed", lines[1]);
        assertTrue(lines[2].startsWith("java.lang.IllegalStateException: boom"), logged());
    }

    @Test
    void aMessageWithLineBreaksStaysOnOneLine() {
        Logs.configure(new PrintStream(sink, true, StandardCharsets.UTF_8), false);
        LOG.log(System.Logger.Level.ERROR, "QEMU said:\n  no such device\n");
        assertEquals("tickwatch: error: QEMU said: no such device" + System.lineSeparator(), logged());
    }
}
