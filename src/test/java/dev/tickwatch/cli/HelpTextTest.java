package dev.tickwatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.command.HelpLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Every command's {@code --help}, rendered at 80 columns from the real command tree, reads well:
 * no line break inside a word or a path (every token at 80 columns is a token of the same help
 * rendered without wrapping), none inside parentheses, every option and parameter described, no
 * picocli {@code <camelCase>} placeholder, summaries that are sentences, one option order.
 */
class HelpTextTest {

    private static final Pattern PLACEHOLDER = Pattern.compile("<[^>\\s]*>");

    /** Every command in the tree, the root first, hidden ones included. */
    static List<CommandLine> all(CommandLine root) {
        List<CommandLine> found = new ArrayList<>();
        found.add(root);
        for (CommandLine sub : new java.util.LinkedHashSet<>(root.getSubcommands().values())) {
            found.addAll(all(sub));
        }
        return found;
    }

    static String help(CommandLine c, int width) {
        return HelpLayout.render(c, width);
    }

    static List<String> problems(CommandLine c) {
        List<String> p = new ArrayList<>();
        String name = c.getCommandSpec().qualifiedName();
        String narrow = help(c, 80);
        String wide = help(c, 2000);
        Set<String> words = new HashSet<>(Arrays.asList(wide.split("\\s+")));
        String[] lines = narrow.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.length() > 80) {
                p.add(name + ": line longer than 80 columns: " + line);
            }
            for (String t : line.strip().split("\\s+")) {
                if (!t.isEmpty() && !words.contains(t)) {
                    p.add(name + ": line break inside a word ('" + t + "'): " + line);
                }
            }
            if (depth(line) > 0) {
                p.add(name + ": line break inside parentheses: " + line);
            }
            Matcher m = PLACEHOLDER.matcher(line);
            while (m.find()) {
                p.add(name + ": placeholder " + m.group() + " (say it in a word: N, MS, FILE)");
            }
        }
        CommandSpec spec = c.getCommandSpec();
        List<ArgSpec> args = new ArrayList<>(spec.options());
        args.addAll(spec.positionalParameters());
        for (ArgSpec a : args) {
            if (a.hidden()) {
                continue;
            }
            String d = String.join(" ", a.description()).strip();
            String label = a instanceof OptionSpec o ? o.longestName() : a.paramLabel();
            if (d.isEmpty()) {
                p.add(name + ": " + label + " has no description");
            }
        }
        for (CommandLine sub : c.getSubcommands().values()) {
            CommandSpec s = sub.getCommandSpec();
            String[] summary = s.usageMessage().header().length > 0 ? s.usageMessage().header()
                    : s.usageMessage().description();
            String first = summary.length == 0 ? "" : summary[0].strip();
            if (!first.endsWith(".")) {
                p.add(name + " " + s.name() + ": summary is not one sentence ending with a full stop: '" + first + "'");
            }
        }
        for (CommandLine sub : c.getSubcommands().values()) {
            if (sub.getCommandSpec().usageMessage().hidden() && !narrow.contains(sub.getCommandName())) {
                p.add(name + ": hidden command " + sub.getCommandName() + " is not named in the help");
            }
        }
        if (!spec.usageMessage().sortOptions()) {
            p.add(name + ": options not in the one order (alphabetical)");
        }
        return p;
    }

    /** How many parentheses {@code line} leaves open. */
    static int depth(String line) {
        int d = 0;
        for (char ch : line.toCharArray()) {
            if (ch == '(') {
                d++;
            } else if (ch == ')') {
                d = Math.max(0, d - 1);
            }
        }
        return d;
    }

    @Test
    void theTopLevelListsBenchAndUsesShortOptionsAsTyped() {
        CommandLine root = Main.commandLine();
        String help = help(root, 80);
        assertTrue(help.contains("\n  bench "), help);
        String loop = help(root.getSubcommands().get("boot-loop"), 80);
        assertTrue(loop.contains("[-n N]") && loop.contains("[-j T]"), loop);
    }

    @Test
    void linesBreakAtSpacesOnlyAndKeepParenthesesWhole() {
        String row = "      --gdb=ADDR    gdbstub socket, e.g. unix:/run/vm/gdb.sock (or tcp:host:port, as QEMU writes it)";
        assertEquals("      --gdb=ADDR    gdbstub socket, e.g. unix:/run/vm/gdb.sock\n"
                + "                    (or tcp:host:port, as QEMU writes it)", HelpLayout.wrapLine(row, 64, 0, 20));
        assertEquals("      --gdb=ADDR    gdbstub socket, e.g.\n"
                + "                    unix:/run/vm/gdb.sock\n"
                + "                    (or tcp:host:port, as QEMU writes it)", HelpLayout.wrapLine(row, 60, 0, 20));
        // A word wider than the room runs past the margin instead of being cut.
        assertEquals("abc\n  /a/very/long/path/that/does/not/fit\n  x",
                HelpLayout.wrapLine("abc /a/very/long/path/that/does/not/fit x", 12, 0, 2));
        // A parenthesis wider than a line starts one and is broken at a space, never inside a word.
        assertEquals("see\n(one two\nthree four)", HelpLayout.wrapLine("see (one two three four)", 12, 0, 0));
    }

    @Test
    void everyHelpReadsWellAt80Columns() {
        List<String> p = new ArrayList<>();
        for (CommandLine c : all(Main.commandLine())) {
            p.addAll(problems(c));
        }
        assertEquals("", String.join("\n", p));
    }
}
