package dev.tickwatch.shell;

import static org.awaitility.Awaitility.await;

import dev.tickwatch.net.Endpoint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.jline.terminal.Size;
import org.jline.terminal.impl.DumbTerminal;

/**
 * A shell over a JLine {@link DumbTerminal} whose input is scripted keystrokes and whose output is
 * kept for assertions, as JLine's own {@code ReaderTestSupport} does: no real terminal needed.
 */
final class ShellHarness implements AutoCloseable {

    private static final Pattern ANSI = Pattern.compile("\u001B\\[[0-9;?]*[A-Za-z]|\r");

    /** Keystrokes, byte by byte; closing gives end of input. Not a PipedInputStream: that one dies with its writer thread. */
    static final class Keys extends InputStream {
        private static final int EOF = -1;
        private final BlockingQueue<Integer> queue = new LinkedBlockingQueue<>();

        void type(String s) {
            for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
                queue.add(b & 0xff);
            }
        }

        @Override
        public int read() throws IOException {
            try {
                int b = queue.take();
                if (b == EOF) {
                    queue.add(EOF);
                }
                return b;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            int b = read();
            if (b == EOF) {
                return EOF;
            }
            buf[off] = (byte) b;
            int n = 1;
            Integer next;
            while (n < len && (next = queue.peek()) != null && next != EOF) {
                buf[off + n++] = (byte) (int) queue.poll();
            }
            return n;
        }

        @Override
        public int available() {
            return queue.size();
        }

        @Override
        public void close() {
            queue.add(EOF);
        }
    }

    final Keys keys = new Keys();
    final ByteArrayOutputStream output = new ByteArrayOutputStream();
    final DumbTerminal terminal;
    final ShellSession session;
    final CompletableFuture<Integer> exit = new CompletableFuture<>();
    final Shell shell;

    ShellHarness(Endpoint qmp, Endpoint gdb, Path history) {
        try {
            terminal = new DumbTerminal("terminal", "ansi", keys, output, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        terminal.setSize(new Size(200, 50));
        session = ShellSession.open(qmp, gdb, null);
        shell = new Shell(terminal, session, history);
        Thread t = new Thread(() -> {
            try {
                exit.complete(shell.run());
            } catch (Throwable e) {
                exit.completeExceptionally(e);
            }
        }, "shell-under-test");
        t.setDaemon(true);
        t.start();
    }

    /** Everything printed so far, without ANSI sequences and carriage returns. */
    String text() {
        return ANSI.matcher(output.toString(StandardCharsets.UTF_8)).replaceAll("");
    }

    int mark() {
        return text().length();
    }

    /** Waits until the output after {@code mark} satisfies {@code p}; returns that output. */
    String awaitAfter(int mark, Duration timeout, Predicate<String> p) {
        try {
            await().atMost(timeout).pollInterval(Duration.ofMillis(100))
                    .until(() -> p.test(text().substring(Math.min(mark, text().length()))));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("the shell did not print what was expected within " + timeout
                    + "; after the mark it printed:\n" + text().substring(Math.min(mark, text().length())), e);
        }
        return text().substring(mark);
    }

    /** Types {@code line} and Enter, and waits until the next prompt; returns what the command printed. */
    String command(String line, Duration timeout) {
        int m = mark();
        keys.type(line + "\n");
        String after = awaitAfter(m, timeout, t -> {
            int cmd = t.indexOf(line);
            return cmd >= 0 && promptAfter(t, cmd + line.length()) >= 0;
        });
        int cmd = after.indexOf(line) + line.length();
        return after.substring(cmd, promptAfter(after, cmd));
    }

    private static int promptAfter(String t, int from) {
        return t.indexOf("tickwatch [", from);
    }

    int awaitExit(Duration timeout) throws Exception {
        return exit.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws Exception {
        keys.close();
        try {
            exit.get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // The test already failed, or the shell is stuck: the session closes anyway.
        }
        session.close();
        terminal.close();
    }
}
