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
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Tab completion read from the picocli tree, so help and completion come from one place:
 * command names, then the command's option names, then each parameter by its label
 * (see {@link ShellCommands}) or its {@code completionCandidates}.
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

    @Override
    public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
        List<String> words = line.words();
        int wi = line.wordIndex();
        String cur = line.word().substring(0, Math.min(line.wordCursor(), line.word().length()));
        if (wi == 0) {
            commands(cur, candidates);
            return;
        }
        CommandLine sub = root.getSubcommands().get(words.get(0));
        if (sub == null) {
            return;
        }
        CommandSpec spec = sub.getCommandSpec();
        if (cur.startsWith("-")) {
            for (OptionSpec o : spec.options()) {
                if (o.hidden()) {
                    continue;
                }
                for (String n : o.names()) {
                    candidates.add(new Candidate(n, n, null, first(o.description()), null, null, true));
                }
            }
            return;
        }
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
        for (Map.Entry<String, CommandLine> e : root.getSubcommands().entrySet()) {
            candidates.add(new Candidate(e.getKey(), e.getKey(), null,
                    first(e.getValue().getCommandSpec().usageMessage().description()), null, null, true));
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
                commands(cur, candidates);
                break;
            case "QMP-COMMAND":
                for (String c : qmpCommands()) {
                    candidates.add(new Candidate(c));
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

    private static String first(String[] description) {
        return description == null || description.length == 0 ? null : description[0];
    }
}
