package dev.tickwatch.snapshot;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** Line wrapping and shell quoting for reports that must stay within 80 columns. */
final class Text {

    static final int WIDTH = 80;
    private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_./:=,@%+-]+");

    private Text() {
    }

    /**
     * Wraps {@code text} at spaces to {@code width} columns; the first line starts with
     * {@code first}, the others with {@code rest}. A word longer than a line (a path, a symbol)
     * stands on a line of its own and runs past the width: cut, it would no longer be found by
     * grep or pasted whole.
     */
    static List<String> wrap(String text, int width, String first, String rest) {
        List<String> out = new ArrayList<>();
        StringBuilder line = new StringBuilder(first);
        boolean empty = true;
        for (String w : text.strip().split("\\s+")) {
            String prefix = empty ? "" : " ";
            if (empty || line.length() + prefix.length() + w.length() <= width) {
                line.append(prefix).append(w);
                empty = false;
                continue;
            }
            out.add(line.toString());
            line = new StringBuilder(rest).append(w);
        }
        out.add(line.toString());
        return out;
    }

    /**
     * A console or kernel-log line as the report quotes it: whole, after {@code indent}, however
     * long (LKML keeps log lines as they are; a line cut inside a word no longer greps), with tabs
     * expanded and control characters dropped.
     */
    static String quote(String line, String indent) {
        return indent + line.replace("\t", "    ").replaceAll("\\p{Cntrl}", "").stripTrailing();
    }

    /**
     * A command line for a POSIX shell, one argument per line joined by backslash-newline,
     * every line at most {@code width} columns. An argument too long for a line is double-quoted
     * and split with backslash-newline inside the quotes, which the shell removes: pasting the
     * lines gives back the exact argv.
     */
    static List<String> shellCommand(List<String> argv, int width, String indent) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i);
            boolean last = i == argv.size() - 1;
            String lead = i == 0 ? indent : indent + "  ";
            // Options and their values share a line when they fit: "-smp 2".
            if (!last && a.startsWith("-") && !argv.get(i + 1).startsWith("-")) {
                String pair = quote(a) + " " + quote(argv.get(i + 1));
                if (lead.length() + pair.length() + 2 <= width) {
                    out.add(lead + pair + (i + 1 == argv.size() - 1 ? "" : " \\"));
                    i++;
                    continue;
                }
            }
            String q = quote(a);
            String end = last ? "" : " \\";
            if (lead.length() + q.length() + end.length() <= width) {
                out.add(lead + q + end);
                continue;
            }
            // Split inside double quotes: backslash-newline there is a line continuation.
            String body = doubleQuoted(a);
            StringBuilder line = new StringBuilder(lead).append('"');
            int p = 0;
            while (p < body.length()) {
                int room = width - line.length() - 1;
                int n = Math.min(room, body.length() - p);
                // Never split an escape pair.
                if (n > 1 && n < body.length() - p && body.charAt(p + n - 1) == '\\') {
                    n--;
                }
                line.append(body, p, p + n);
                p += n;
                if (p < body.length()) {
                    out.add(line.append('\\').toString());
                    line = new StringBuilder();
                }
            }
            line.append('"');
            if (line.length() + end.length() > width) {
                out.add(line.toString().substring(0, line.length() - 1) + "\\");
                line = new StringBuilder("\"");
            }
            out.add(line + end);
        }
        return out;
    }

    static String quote(String a) {
        if (!a.isEmpty() && SHELL_SAFE.matcher(a).matches()) {
            return a;
        }
        if (!a.contains("'")) {
            return "'" + a + "'";
        }
        return "\"" + doubleQuoted(a) + "\"";
    }

    private static String doubleQuoted(String a) {
        return a.replace("\\", "\\\\").replace("\"", "\\\"").replace("$", "\\$").replace("`", "\\`");
    }
}
