package dev.tickwatch.shell;

import java.io.IOException;
import java.io.Writer;

/**
 * A built-in pager in the way of {@code more}: output passes straight through to the terminal
 * until a screenful (the terminal's height less one row, long lines counted as the rows they wrap
 * to) is shown, then {@link #PROMPT} waits for a key: space shows the next screen, Enter one more
 * line, {@code q} (or Ctrl-C, or the end of input) drops the rest and stops the command. It streams,
 * so a command that prints for long ({@code watch}) is paged as it goes, and it needs nothing of the
 * host ({@code less} would fight JLine for the terminal and is not everywhere).
 */
final class Pager extends Writer {

    static final String PROMPT = "--More-- (space: next page, enter: next line, q: quit)";

    /** The next key the user presses, or -1 when there will be none (Ctrl-C, end of input). */
    interface Keys {
        int next();
    }

    private final Writer out;
    private final int page;
    private final int columns;
    private final Keys keys;
    private final Runnable onQuit;
    private int rows;
    private int column;
    private int shown;
    private boolean quit;

    /**
     * @param height  the terminal's rows; a screenful is one less, for the prompt
     * @param columns the terminal's columns (0: lines are not counted as wrapping)
     * @param onQuit  run once when the user quits (the shell cancels the command)
     */
    Pager(Writer out, int height, int columns, Keys keys, Runnable onQuit) {
        this.out = out;
        this.page = Math.max(1, height - 1);
        this.columns = columns;
        this.keys = keys;
        this.onQuit = onQuit;
        this.shown = page;
    }

    /** Whether the user quit: the rest of the output was dropped. */
    boolean quit() {
        return quit;
    }

    @Override
    public void write(char[] buf, int off, int len) throws IOException {
        int from = off;
        int end = off + len;
        for (int i = off; i < end && !quit; i++) {
            if (rows >= shown) {
                out.write(buf, from, i - from);
                from = i;
                waitForKey();
                if (quit) {
                    return;
                }
            }
            char c = buf[i];
            if (c == '\n') {
                rows++;
                column = 0;
            } else if (c != '\r') {
                column++;
                if (columns > 0 && column > columns) {
                    rows++;
                    column = 1;
                }
            }
        }
        if (!quit) {
            out.write(buf, from, end - from);
        }
    }

    private void waitForKey() throws IOException {
        out.write(PROMPT);
        out.flush();
        int k = keys.next();
        out.write("\r" + " ".repeat(PROMPT.length()) + "\r");
        if (k == ' ') {
            shown = rows + page;
        } else if (k == '\n' || k == '\r') {
            shown = rows + 1;
        } else if (k == 'q' || k == 'Q' || k < 0) {
            quit = true;
            out.flush();
            onQuit.run();
        } else {
            shown = rows + page; // any other key: like more, the next page
        }
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.flush();
    }
}
