package dev.tickwatch.util;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * How tickwatch's log records reach the terminal: one line each on stderr, spoken like the CLI's
 * own messages ({@code tickwatch: warning: sample failed: ...}), instead of java.util.logging's
 * two-line default (a date, a class name, {@code WARNING:}). Everything keeps logging through
 * {@code System.Logger}/java.util.logging; {@code Main} calls {@link #configure} once at startup.
 * {@code --verbose} shows tickwatch's debug records (FINE) and the stack traces of logged
 * exceptions; without it an expected failure is its message alone.
 */
public final class Logs {

    /** Kept referenced: java.util.logging holds loggers weakly, and a collected one forgets its level. */
    private static final Logger ROOT = Logger.getLogger("");
    private static final Logger TICKWATCH = Logger.getLogger("dev.tickwatch");
    private static volatile boolean verbose;

    private Logs() {
    }

    /** Replaces the root logger's handlers by one that writes {@link LineFormat} lines to {@code sink}. */
    public static synchronized void configure(PrintStream sink, boolean verbose) {
        Logs.verbose = verbose;
        for (Handler h : ROOT.getHandlers()) {
            ROOT.removeHandler(h);
        }
        Handler h = new LineHandler(sink, new LineFormat(verbose));
        h.setLevel(Level.ALL);
        ROOT.addHandler(h);
        // Debug detail from tickwatch's own loggers only: Netty's FINE records are not for users.
        TICKWATCH.setLevel(verbose ? Level.FINE : null);
    }

    /**
     * Something that holds a line of the terminal open (the boot loop's progress, rewritten in place
     * with {@code \r}): a log record clears it first and has it redrawn after, instead of being
     * glued to its end ({@code ETA 0:35tickwatch: warning: ...}).
     */
    public interface OpenLine {
        /**
         * Clears the open line, runs {@code print} (which then starts at column 0) and draws the line
         * again below it; all under the line's own lock, so that no redraw comes in between.
         */
        void printAbove(Runnable print);
    }

    private static volatile OpenLine openLine;

    /** Makes log records go around {@code line} until {@link #release} (one at a time: the last one wins). */
    public static void hold(OpenLine line) {
        openLine = line;
    }

    /** Stops going around {@code line}, if it is the one held. */
    public static void release(OpenLine line) {
        if (openLine == line) {
            openLine = null;
        }
    }

    /** Prints {@code text} around the open line, if one is held. */
    static void around(PrintStream sink, String text) {
        Runnable print = () -> {
            sink.print(text);
            sink.flush();
        };
        OpenLine line = openLine;
        if (line != null) {
            line.printAbove(print);
        } else {
            print.run();
        }
    }

    /** Whether {@code --verbose} was given. */
    public static boolean verbose() {
        return verbose;
    }

    /** {@code tickwatch: warning: MESSAGE}, one line; with {@code verbose}, a logged exception's stack trace follows. */
    public static final class LineFormat extends Formatter {
        private final boolean verbose;

        public LineFormat(boolean verbose) {
            this.verbose = verbose;
        }

        @Override
        public String format(LogRecord r) {
            StringBuilder b = new StringBuilder("tickwatch: ").append(label(r.getLevel()));
            String message = formatMessage(r);
            b.append(message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", " "));
            Throwable t = r.getThrown();
            if (t != null && !verbose && t.getMessage() != null && (message == null || !message.contains(t.getMessage()))) {
                b.append(": ").append(t.getMessage().strip().replaceAll("\\s*\\R\\s*", " "));
            }
            b.append(System.lineSeparator());
            if (t != null && verbose) {
                StringWriter trace = new StringWriter();
                t.printStackTrace(new PrintWriter(trace));
                b.append(trace);
            }
            return b.toString();
        }

        private static String label(Level level) {
            if (level.intValue() >= Level.SEVERE.intValue()) {
                return "error: ";
            }
            if (level.intValue() >= Level.WARNING.intValue()) {
                return "warning: ";
            }
            return level.intValue() >= Level.INFO.intValue() ? "" : "debug: ";
        }
    }

    /** Writes each record at once (a warning must not wait in a buffer behind a progress line). */
    static final class LineHandler extends Handler {
        private final PrintStream sink;

        LineHandler(PrintStream sink, Formatter format) {
            this.sink = sink;
            setFormatter(format);
        }

        @Override
        public synchronized void publish(LogRecord r) {
            if (!isLoggable(r)) {
                return;
            }
            around(sink, getFormatter().format(r));
        }

        @Override
        public void flush() {
            sink.flush();
        }

        @Override
        public void close() {
            flush();
        }
    }
}
