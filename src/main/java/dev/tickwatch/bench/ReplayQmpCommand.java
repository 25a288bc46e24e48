package dev.tickwatch.bench;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.qmp.replay.QmpReplayServer;
import dev.tickwatch.qmp.replay.QmpScript;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ExitCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tickwatch bench replay-qmp}: N fake QMP monitors, each on its own unix socket, replaying
 * the recorded session with one lab mode's recorded HMP outputs (modes taken in turn), so that a
 * benchmark can watch many "guests" from another process. Prints one {@code guest I MODE
 * unix:PATH} line per server, then {@code ready N}; serves until its standard input closes (so
 * it ends with the process that started it), then deletes its sockets.
 */
@CliOnly("a benchmark or recorder: figures and transcripts, not a look at a guest")
@Command(name = "replay-qmp", hidden = true, mixinStandardHelpOptions = true,
        description = {"Serves N recorded QMP sessions on unix sockets in DIR until stdin closes."})
public final class ReplayQmpCommand implements Callable<Integer> {

    static final String DEFAULT_TRANSCRIPT = "protocols/qmp/session-7.2.txt";
    static final String DEFAULT_HMP = "protocols/hmp";

    @Spec
    CommandSpec spec;

    @Option(names = "--count", paramLabel = "N", defaultValue = "100", description = "servers (default: ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "folder for the sockets (must exist)")
    Path dir;

    @Option(names = "--transcript", paramLabel = "FILE", defaultValue = DEFAULT_TRANSCRIPT, description = {"QMP transcript; default:", "${DEFAULT-VALUE}"})
    Path transcript;

    @Option(names = "--hmp", paramLabel = "DIR", defaultValue = DEFAULT_HMP,
            description = "folder of recorded HMP outputs, one subfolder per lab mode (default: ${DEFAULT-VALUE})")
    Path hmp;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "1", description = "event-loop threads (default: ${DEFAULT-VALUE})")
    int threads;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<String> modes = modes(hmp);
        QmpScript base = QmpScript.load(transcript);
        List<QmpScript> scripts = new ArrayList<>();
        for (String m : modes) {
            scripts.add(base.withHmpFolder(hmp.resolve(m)));
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("replay-io", true),
                NioIoHandler.newFactory());
        List<QmpReplayServer> servers = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                QmpReplayServer s = QmpReplayServer.start(scripts.get(i % modes.size()), dir.resolve("qmp-" + i + ".sock"), group);
                servers.add(s);
                out.println("guest " + i + " " + modes.get(i % modes.size()) + " " + s.endpoint());
            }
            out.println("ready " + count);
            out.flush();
            // Standard input, not a picocli stream: its end is how this process learns that its
            // parent is gone, even when the parent died without cleaning up.
            InputStream in = System.in;
            while (in.read() >= 0) {
                // Discard: nothing is expected on stdin.
            }
        } finally {
            long answered = 0;
            long unknown = 0;
            for (QmpReplayServer s : servers) {
                answered += s.answered();
                unknown += s.unknown();
                s.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            out.println("answered " + answered + " unknown " + unknown);
            out.flush();
        }
        return ExitCode.OK;
    }

    /** The lab modes recorded under {@code hmp}: its subfolders, sorted. */
    static List<String> modes(Path hmp) {
        try (var s = Files.list(hmp)) {
            List<String> modes = s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
            if (modes.isEmpty()) {
                throw new TickwatchException("no recorded lab modes under " + hmp);
            }
            return modes;
        } catch (IOException e) {
            throw new TickwatchException("cannot list recorded HMP outputs in " + hmp
                    + ": " + e.getMessage() + " (run from the project folder, or pass --hmp)", e);
        }
    }
}
