package dev.tickwatch.shell;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.command.JsonOption;
import dev.tickwatch.command.ShellOnly;
import dev.tickwatch.command.VerdictFormat;
import dev.tickwatch.probe.Probe;
import dev.tickwatch.probe.ProbeOptions;
import dev.tickwatch.util.Json;
import dev.tickwatch.verdict.Decision;
import dev.tickwatch.watch.Poke;
import dev.tickwatch.watch.Watch;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The shell's own looks at the attached guest through its session: {@code verdict} (sample a
 * while and decide), {@code poke} (knock once) and {@code hmp} (one human-monitor line). Their CLI
 * twins are {@code watch --for S}, {@code watch --poke} and {@code qmp human-monitor-command}.
 */
final class ProbeCommands {

    private ProbeCommands() {
    }

    /** Samples with a fresh {@link Watch} until {@code seconds} pass, QEMU goes, or Ctrl-C; null seconds: no limit. */
    static Watch sample(ShellSession s, Double seconds, java.util.function.Consumer<Decision> onChange)
            throws InterruptedException {
        Watch w = new Watch(new Probe(s.qmp(), s.console(), ProbeOptions.defaults(), s.kernelOrNull()),
                Watch.Options.defaults());
        if (onChange != null) {
            w.onChange(onChange);
        }
        w.start();
        CompletableFuture<Object> stop = CompletableFuture.anyOf(w.end(), s.goneFuture(), s.cancelled());
        try {
            if (seconds == null) {
                stop.get();
            } else {
                stop.get(Math.round(seconds * 1000), TimeUnit.MILLISECONDS);
            }
        } catch (TimeoutException e) {
            // The sampling time is over: the usual way.
        } catch (ExecutionException e) {
            // Sampling kept failing: the latest decision, if any, is still the answer.
        }
        w.close();
        return w;
    }

    @ShellOnly("the CLI's twin is 'watch --for S', whose exit code is the verdict")
    @Command(name = "verdict", description = "Samples for a few seconds and decides (TIMER_STALL, SPIN_LOCKUP, ...)")
    static final class VerdictCmd extends ShellCommands.Sub {
        @Option(names = "--for", paramLabel = "SECONDS", defaultValue = "3",
                description = "sample this long (default: ${DEFAULT-VALUE})")
        double seconds;

        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) throws InterruptedException {
            if (seconds <= 0 || seconds > 3600) {
                throw new IllegalArgumentException("--for must be within (0, 3600]");
            }
            Watch w = sample(session(), seconds, null);
            Decision d = w.current();
            if (session().cancelled().isDone()) {
                out.println("(interrupted)");
            }
            if (d == null) {
                throw new TickwatchException("no verdict: no sample was taken");
            }
            session().lastDecision(d);
            long wall = System.currentTimeMillis();
            ShellCommands.print(out, o.json(), VerdictFormat.json(d, wall), VerdictFormat.text(d, wall));
        }
    }

    static final class PokeKinds implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("nmi", "key").iterator();
        }
    }

    @ShellOnly("acts on the attached guest; the CLI's twin is 'watch --poke', at the first hang")
    @Command(name = "poke", description = "Knocks once (an NMI to every vCPU, or a key press) and says whether the guest answered")
    static final class PokeCmd extends ShellCommands.Sub {
        @Parameters(paramLabel = "nmi|key", completionCandidates = PokeKinds.class, description = "nmi or key")
        String kind;

        @Mixin
        JsonOption o;

        @Override
        void run(PrintWriter out) throws InterruptedException {
            Poke.Kind k;
            try {
                k = Poke.Kind.parse(kind);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("poke: '" + kind + "' (expected: nmi or key)");
            }
            Poke.Result r = Poke.poke(session().qmp(), session().console(), k, Duration.ofSeconds(1));
            ObjectNode j = Json.object().put("poke", kind.toLowerCase(Locale.ROOT)).put("responded", r.responded());
            r.evidence().forEach(j.putArray("evidence")::add);
            ShellCommands.print(out, o.json(), j, "poke " + kind.toLowerCase(Locale.ROOT) + ": "
                    + (r.responded() ? "the guest answered" : "no answer") + ": " + String.join("; ", r.evidence()));
        }
    }

    @ShellOnly("the CLI's twin is 'qmp human-monitor-command {\"command-line\": ...}'")
    @Command(name = "hmp", description = "One HMP (human monitor) command line, e.g. 'hmp info registers'")
    static final class Hmp extends ShellCommands.Sub {
        @Option(names = "--cpu", paramLabel = "CPU", description = "the vCPU the command runs on (default: QEMU's, CPU 0)")
        Integer cpu;

        @Parameters(arity = "1..*", paramLabel = "WORD")
        List<String> words;

        @Override
        void run(PrintWriter out) {
            String text = session().qmp().hmp(String.join(" ", words), cpu == null ? -1 : cpu);
            out.print(text.replace("\r\n", "\n"));
        }
    }
}
