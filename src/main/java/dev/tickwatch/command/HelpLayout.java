package dev.tickwatch.command;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * Help that breaks lines at spaces only. Picocli wraps with Java's line {@link java.text.BreakIterator},
 * which breaks after a dot or a slash ({@code unix:/run/vm/gdb.}⏎{@code sock}, {@code FILE.}⏎{@code jsonl});
 * so every section is rendered unwrapped and wrapped here, at spaces, to the usage width: a word
 * longer than its column runs past the margin instead of being cut. Table rows (options, commands,
 * exit codes) continue under their description, indented by two like picocli's own wrapped lines.
 */
public final class HelpLayout {

    /** Wide enough that picocli wraps nothing of ours. */
    private static final int UNWRAPPED = 4000;

    private static final Set<String> TABLES = Set.of(UsageMessageSpec.SECTION_KEY_OPTION_LIST,
            UsageMessageSpec.SECTION_KEY_PARAMETER_LIST, UsageMessageSpec.SECTION_KEY_COMMAND_LIST,
            UsageMessageSpec.SECTION_KEY_EXIT_CODE_LIST, UsageMessageSpec.SECTION_KEY_AT_FILE_PARAMETER,
            UsageMessageSpec.SECTION_KEY_END_OF_OPTIONS);

    /** A table row: the cell on the left, two or more spaces, the description. */
    private static final Pattern ROW = Pattern.compile("^( *\\S.*?\\S? {2,})\\S");
    private static final Pattern SHORT_WITH_VALUE = Pattern.compile("(?<=[\\[\\s(|])(-[A-Za-z0-9])=(?=\\S)");
    private static final Pattern ANSI = Pattern.compile("\u001B\\[[0-9;]*m");

    private HelpLayout() {
    }

    /** Installs the wrapping on every command of the tree under (and including) {@code root}. */
    public static CommandLine install(CommandLine root) {
        Map<String, CommandLine.IHelpSectionRenderer> wrapped = new LinkedHashMap<>();
        root.getHelpSectionMap().forEach((key, renderer) -> wrapped.put(key, wrap(key, renderer)));
        root.setHelpSectionMap(wrapped);
        return root;
    }

    private static CommandLine.IHelpSectionRenderer wrap(String key, CommandLine.IHelpSectionRenderer renderer) {
        return help -> {
            UsageMessageSpec u = help.commandSpec().usageMessage();
            int width = u.width(); // the terminal's, when auto width is on and this is a terminal
            boolean auto = u.autoWidth();
            String text;
            u.autoWidth(false);
            u.width(UNWRAPPED);
            try {
                text = renderer.render(help);
            } finally {
                u.width(width);
                u.autoWidth(auto);
            }
            if (text == null || text.isEmpty()) {
                return text;
            }
            if (UsageMessageSpec.SECTION_KEY_SYNOPSIS.equals(key)) {
                // Picocli names an option by its short name here, as "-n=N"; "-n N" is how one types it.
                text = SHORT_WITH_VALUE.matcher(text).replaceAll("$1 ");
                int heading = help.synopsisHeadingLength();
                return wrap(text, width, heading, heading + help.commandSpec().qualifiedName().length() + 1);
            }
            return wrap(text, width, TABLES.contains(key));
        };
    }

    /** Wraps every line of {@code text} at spaces to {@code width}. */
    static String wrap(String text, int width, boolean table) {
        StringBuilder out = new StringBuilder();
        for (String line : lines(text)) {
            if (line.endsWith("\n")) {
                int hanging = indent(line.substring(0, line.length() - 1), table);
                out.append(wrapLine(line.substring(0, line.length() - 1), width, 0, hanging)).append('\n');
            } else {
                out.append(wrapLine(line, width, 0, indent(line, table)));
            }
        }
        return out.toString();
    }

    private static String wrap(String text, int width, int firstOffset, int hanging) {
        StringBuilder out = new StringBuilder();
        boolean first = true;
        for (String line : lines(text)) {
            boolean nl = line.endsWith("\n");
            String body = nl ? line.substring(0, line.length() - 1) : line;
            out.append(wrapLine(body, width, first ? firstOffset : 0, Math.min(hanging, width / 2)));
            if (nl) {
                out.append('\n');
            }
            first = false;
        }
        return out.toString();
    }

    private static List<String> lines(String text) {
        return List.of(text.replace("\r\n", "\n").split("(?<=\n)"));
    }

    /** Where a line's continuation starts. */
    private static int indent(String line, boolean table) {
        String plain = ANSI.matcher(line).replaceAll("");
        int lead = plain.length() - plain.stripLeading().length();
        if (!table) {
            return lead;
        }
        Matcher m = ROW.matcher(plain);
        return (m.find() ? m.end(1) : lead) + 2;
    }

    /**
     * Breaks {@code line} at spaces so that no piece is wider than {@code width} (the first starting
     * at column {@code offset}), unless a single word is; continuation pieces get {@code hanging}
     * spaces. Never breaks inside the leading indentation or the hanging part of the first piece.
     */
    public static String wrapLine(String line, int width, int offset, int hanging) {
        if (visible(line) + offset <= width) {
            return line;
        }
        StringBuilder out = new StringBuilder();
        String rest = line;
        int start = offset;
        int minBreak = hanging; // a break before the description column would break the left cell
        int depth = 0;
        while (visible(rest) + start > width) {
            int cut = breakAt(rest, width - start, Math.max(1, minBreak - start), depth);
            if (cut < 0) {
                break;
            }
            depth = depth(rest.substring(0, cut), depth);
            out.append(stripTrailing(rest.substring(0, cut))).append('\n');
            rest = " ".repeat(hanging) + rest.substring(cut).stripLeading();
            start = 0;
            minBreak = hanging + 1;
        }
        return out.append(rest).toString();
    }

    /**
     * The index of the space to break {@code s} at so that the part before fits in {@code room}, or
     * -1. A space outside parentheses is taken when there is one ({@code depth} are open where
     * {@code s} starts): a parenthesis is read whole on one line unless it is wider than the line.
     */
    private static int breakAt(String s, int room, int notBefore, int depth) {
        int best = -1;
        int bestOutside = -1;
        int col = 0;
        int d = depth;
        boolean inEscape = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\u001B') {
                inEscape = true;
            }
            if (inEscape) {
                if (c == 'm') {
                    inEscape = false;
                }
                continue;
            }
            if (c == '(') {
                d++;
            } else if (c == ')') {
                d = Math.max(0, d - 1);
            }
            if (c == ' ' && col >= notBefore && i > 0 && s.charAt(i - 1) != ' ') {
                if (col <= room) {
                    best = i;
                    if (d == 0) {
                        bestOutside = i;
                    }
                } else {
                    // a word too long for the room runs past the margin
                    return bestOutside >= 0 ? bestOutside : best >= 0 ? best : i;
                }
            }
            col++;
        }
        if (col <= room) {
            return -1;
        }
        return bestOutside >= 0 ? bestOutside : best;
    }

    /** How many parentheses are open after {@code s}, {@code depth} being open before it. */
    static int depth(String s, int depth) {
        int d = depth;
        for (char c : s.toCharArray()) {
            if (c == '(') {
                d++;
            } else if (c == ')') {
                d = Math.max(0, d - 1);
            }
        }
        return d;
    }

    private static String stripTrailing(String s) {
        return s.replaceAll(" +$", "");
    }

    private static int visible(String s) {
        return ANSI.matcher(s).replaceAll("").length();
    }

    /** For tests: the help of {@code c} at {@code width} columns, without colours. */
    public static String render(CommandLine c, int width) {
        c.setUsageHelpAutoWidth(false);
        c.setUsageHelpWidth(width);
        return c.getUsageMessage(Help.Ansi.OFF);
    }
}
