package dev.tickwatch.shell;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.guest.GuestKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jline.builtins.Completers;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;
import org.jline.reader.impl.completer.AggregateCompleter;
import org.jline.reader.impl.completer.SystemCompleter;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.shell.jline3.PicocliCommands;

/**
 * Tab completion read from the picocli tree, so help and completion come from one place.
 * picocli-shell-jline3's {@link PicocliCommands} completes command and option names from the
 * spec ({@link #of}); this completer adds only what it cannot know: the values of positional
 * parameters and options, by their label (see {@link ShellCommands}) or their
 * {@code completionCandidates}: kernel symbols from the session's kallsyms, vCPU numbers, the
 * commands this QEMU offers, file names. (PicocliCommands completes no positional parameter at
 * all, and option values only from static candidates.)
 */
final class ShellCompleter implements Completer {

    /** Symbols offered at once; kallsyms has ~100 000, and a list longer than this helps nobody. */
    static final int MAX_SYMBOLS = 400;

    private final CommandLine root;
    private final ShellSession session;
    private final Completer files = new Completers.FileNameCompleter();
    private List<String> qmpCommands;

    ShellCompleter(CommandLine root, ShellSession session) {
        this.root = root;
        this.session = session;
    }

    /** Command and option names from picocli-shell-jline3, values from this completer. */
    static Completer of(CommandLine root, ShellSession session) {
        SystemCompleter names = new PicocliCommands(root).compileCompleters();
        int width = root.getSubcommands().keySet().stream().mapToInt(String::length).max().orElse(0);
        names.compile(name -> {
            CommandLine c = root.getSubcommands().get(name);
            return new Candidate(name, listed(name, width, c == null ? null : first(c.getCommandSpec().usageMessage().description())),
                    null, null, null, null, true);
        });
        return new AggregateCompleter(names, new ShellCompleter(root, session));
    }

    @Override
    public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
        List<String> words = line.words();
        int wi = line.wordIndex();
        String cur = line.word().substring(0, Math.min(line.wordCursor(), line.word().length()));
        if (wi == 0 || cur.startsWith("-")) {
            return; // command and option names: PicocliCommands
        }
        CommandLine sub = root.getSubcommands().get(words.get(0));
        if (sub == null) {
            return;
        }
        CommandSpec spec = sub.getCommandSpec();
        OptionSpec previous = wi >= 2 ? spec.findOption(words.get(wi - 1)) : null;
        if (previous != null && previous.arity().max() > 0) {
            argument(previous, reader, line, cur, candidates);
            return;
        }
        int position = 0;
        for (int i = 1; i < wi; i++) {
            String w = words.get(i);
            OptionSpec o = w.startsWith("-") ? spec.findOption(w) : null;
            if (o != null) {
                if (o.arity().max() > 0 && !w.contains("=")) {
                    i++;
                }
                continue;
            }
            position++;
        }
        for (PositionalParamSpec p : spec.positionalParameters()) {
            if (p.index().contains(position)) {
                argument(p, reader, line, cur, candidates);
                return;
            }
        }
    }

    private void commands(String prefix, List<Candidate> candidates) {
        int width = root.getSubcommands().keySet().stream().mapToInt(String::length).max().orElse(0);
        for (Map.Entry<String, CommandLine> e : root.getSubcommands().entrySet()) {
            candidates.add(new Candidate(e.getKey(), listed(e.getKey(), width,
                    first(e.getValue().getCommandSpec().usageMessage().description())), null, null, null, null, true));
        }
    }

    private void argument(ArgSpec a, LineReader reader, ParsedLine line, String cur, List<Candidate> candidates) {
        if (a.completionCandidates() != null) {
            for (String c : a.completionCandidates()) {
                candidates.add(new Candidate(c));
            }
            return;
        }
        switch (a.paramLabel()) {
            case "NAME":
            case "ADDR":
                symbols(cur, candidates);
                break;
            case "CPU":
                int n = session.isGone() ? -1 : session.cpuCount();
                for (int i = 0; i < n; i++) {
                    candidates.add(new Candidate(Integer.toString(i)));
                }
                break;
            case "DIR":
            case "FILE":
                files.complete(reader, line, candidates);
                break;
            case "COMMAND":
                if (a.command() != null && a.command().name().equals("qmp")) {
                    for (String c : qmpCommands()) {
                        candidates.add(new Candidate(c));
                    }
                } else {
                    commands(cur, candidates);
                }
                break;
            default:
                break;
        }
    }

    private void symbols(String prefix, List<Candidate> candidates) {
        if (prefix.isEmpty() || prefix.startsWith("0x")) {
            return; // every one of ~100 000 names, or an address: nothing useful to offer
        }
        GuestKernel k = session.isGone() ? null : session.attachedKernel();
        if (k == null) {
            return;
        }
        for (String s : k.symbols().namesStartingWith(prefix, MAX_SYMBOLS)) {
            candidates.add(new Candidate(s));
        }
    }

    private synchronized List<String> qmpCommands() {
        if (qmpCommands == null) {
            List<String> names = new ArrayList<>();
            try {
                for (JsonNode c : session.qmp().execute("query-commands")) {
                    names.add(c.path("name").asText());
                }
            } catch (TickwatchException e) {
                return List.of();
            }
            names.sort(null);
            qmpCommands = List.copyOf(names);
        }
        return qmpCommands;
    }

    /**
     * A command as the completion list shows it: the name padded to the longest, then the summary
     * cut before its first parenthesis or colon. JLine would put a description in parentheses of
     * its own, right-aligned in a column as wide as the longest (a ragged list, and double
     * brackets around summaries that hold parentheses); one display string per command lines
     * the summaries up.
     */
    static String listed(String name, int width, String summary) {
        if (summary == null || summary.isBlank()) {
            return name;
        }
        String s = summary;
        for (String cut : new String[] {" (", ": ", "; "}) {
            int i = s.indexOf(cut);
            if (i > 0) {
                s = s.substring(0, i);
            }
        }
        s = s.replaceAll("[,.:;\\s]+$", "");
        return String.format(java.util.Locale.ROOT, "%-" + width + "s  %s", name, s);
    }

    private static String first(String[] description) {
        return description == null || description.length == 0 ? null : description[0];
    }
}
