package dev.tickwatch.shell;

import java.util.ArrayList;
import java.util.List;

/**
 * One line typed at the shell, split the way crash splits it before any command sees it:
 * {@code ;} between commands, {@code | REST} hands the command's output to {@code /bin/sh -c REST},
 * {@code > FILE} and {@code >> FILE} write or append it to a file, and a line (or a command after
 * {@code ;}) starting with {@code !} is a host shell command. Single and double quotes keep these
 * characters in a word ({@code print 'struct hrtimer_cpu_base' ADDR}); a backslash outside single
 * quotes keeps the next character. What follows {@code |} or {@code !} is passed to the host shell
 * as typed, quotes and all.
 */
record ShellLine(List<Step> steps) {

    /**
     * One command: {@code words} for the tickwatch command (quotes removed), or {@code host} for a
     * {@code !} command; {@code pipe} the host command its output goes to, or null; {@code file}
     * the file it goes to ({@code append} for {@code >>}), or null.
     */
    record Step(List<String> words, String host, String pipe, String file, boolean append) {

        Step {
            words = List.copyOf(words);
        }

        boolean isHost() {
            return host != null;
        }
    }

    ShellLine {
        steps = List.copyOf(steps);
    }

    /** Parses {@code line}; an unclosed quote or a {@code >} without a file is an {@link IllegalArgumentException}. */
    static ShellLine parse(String line) {
        List<Step> steps = new ArrayList<>();
        for (String part : splitCommands(line)) {
            String p = part.strip();
            if (p.isEmpty()) {
                continue;
            }
            if (p.startsWith("!")) {
                String host = p.substring(1).strip();
                if (host.isEmpty()) {
                    throw new IllegalArgumentException("'!' needs a host command, e.g. '!ls'");
                }
                steps.add(new Step(List.of(), host, null, null, false));
            } else {
                steps.add(step(p));
            }
        }
        return new ShellLine(steps);
    }

    /** Splits at unquoted {@code ;}; a {@code !} command takes the rest of the line, {@code ;} included. */
    private static List<String> splitCommands(String line) {
        List<String> parts = new ArrayList<>();
        Scan s = new Scan(line);
        int start = 0;
        while (s.pos < line.length()) {
            if (s.quote == 0 && line.substring(start, s.pos).isBlank() && line.charAt(s.pos) == '!') {
                break; // a host command: the host shell splits the rest itself
            }
            char c = s.next();
            if (s.plain && c == '|') {
                break; // the rest belongs to the host shell's pipeline
            }
            if (s.plain && c == ';') {
                parts.add(line.substring(start, s.pos - 1));
                start = s.pos;
            }
        }
        parts.add(line.substring(start));
        return parts;
    }

    private static Step step(String text) {
        List<String> words = new ArrayList<>();
        String pipe = null;
        String file = null;
        boolean append = false;
        Scan s = new Scan(text);
        StringBuilder word = null;
        boolean redirect = false;
        while (s.pos < text.length()) {
            char c = s.next();
            if (s.plain && (c == '|' || c == '>' || Character.isWhitespace(c))) {
                if (word != null) {
                    if (redirect) {
                        if (file != null) {
                            throw new IllegalArgumentException("one file after '>': got '" + file + "' and '" + word + "'");
                        }
                        file = word.toString();
                    } else {
                        words.add(word.toString());
                    }
                    word = null;
                }
                if (c == '|') {
                    pipe = text.substring(s.pos).strip();
                    if (pipe.isEmpty()) {
                        throw new IllegalArgumentException("'|' needs a host command after it, e.g. '| grep kworker'");
                    }
                    break;
                }
                if (c == '>') {
                    if (redirect) {
                        throw new IllegalArgumentException("one '>' or '>>' per command");
                    }
                    redirect = true;
                    if (s.pos < text.length() && text.charAt(s.pos) == '>') {
                        s.pos++;
                        append = true;
                    }
                }
                continue;
            }
            if (s.plain || s.literal) {
                if (word == null) {
                    word = new StringBuilder();
                }
                word.append(c);
            } else if (word == null) {
                word = new StringBuilder(); // an opening quote: '' is an empty word
            }
        }
        if (s.quote != 0) {
            throw new IllegalArgumentException("unclosed " + (s.quote == '\'' ? "single" : "double") + " quote");
        }
        if (word != null) {
            if (redirect && file == null) {
                file = word.toString();
            } else if (redirect) {
                throw new IllegalArgumentException("one file after '>': got '" + file + "' and '" + word + "'");
            } else {
                words.add(word.toString());
            }
        }
        if (redirect && file == null) {
            throw new IllegalArgumentException("'>' needs a file name, e.g. 'timers > timers.txt'");
        }
        if (redirect && pipe != null) {
            throw new IllegalArgumentException("either '|' or '>', not both (pipe into the host command's own '>')");
        }
        return new Step(words, null, pipe, file, append);
    }

    /**
     * A character scanner that tracks quotes: after {@link #next()}, {@code plain} says the
     * character was unquoted and unescaped (so it may be special), {@code literal} that it is part
     * of a word although quoted or escaped (quote characters themselves are neither).
     */
    private static final class Scan {
        final String text;
        int pos;
        char quote;
        boolean plain;
        boolean literal;

        Scan(String text) {
            this.text = text;
        }

        char next() {
            char c = text.charAt(pos++);
            plain = false;
            literal = false;
            if (quote == '\'') {
                if (c == '\'') {
                    quote = 0;
                } else {
                    literal = true;
                }
            } else if (c == '\\' && pos < text.length() && (quote == 0 || "\"\\$`".indexOf(text.charAt(pos)) >= 0)) {
                c = text.charAt(pos++);
                literal = true;
            } else if (quote == '"') {
                if (c == '"') {
                    quote = 0;
                } else {
                    literal = true;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else {
                plain = true;
            }
            return c;
        }
    }
}
