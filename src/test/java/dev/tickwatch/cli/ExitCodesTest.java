package dev.tickwatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.command.ExitCode;
import dev.tickwatch.testing.FakeQmpPeer;
import dev.tickwatch.testing.QmpTranscript;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exit 1 is a hang verdict and nothing else: what a new user's typos and wrong sockets exit with,
 * and the one line they read, through {@link Main#run} as a script would see it.
 */
class ExitCodesTest {

    private static final QmpTranscript SESSION = QmpTranscript.load("session-7.2.txt");

    @TempDir
    Path dir;

    private static QmpCommandTest.Result cannotTest(String... args) {
        QmpCommandTest.Result r = QmpCommandTest.run(args);
        assertEquals(ExitCode.CANNOT_TEST, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r.err());
        assertFalse(r.err().contains("Exception"), "no Java exception's text: " + r.err());
        return r;
    }

    @Test
    void aMissingSocketIs125() {
        Path sock = dir.resolve("nope.sock");
        QmpCommandTest.Result r = cannotTest("watch", "--qmp", "unix:" + sock, "--for", "1");
        assertEquals("tickwatch: cannot connect to unix:" + sock + ": no such socket", r.err().strip());
    }

    @Test
    void aRegularFileGivenAsSocketIs125InPlainWords() throws IOException {
        Path file = Files.writeString(dir.resolve("qmp.sock"), "not a socket");
        QmpCommandTest.Result r = cannotTest("watch", "--qmp", "unix:" + file);
        assertEquals("tickwatch: cannot connect to unix:" + file + ": is a regular file, not a socket", r.err().strip());
        QmpCommandTest.Result folder = cannotTest("qmp", "--qmp", "unix:" + dir, "query-status");
        assertTrue(folder.err().contains(": is a folder, not a socket"), folder.err());
    }

    @Test
    void aRefusedTcpPortIs125AndSaysHowQemuShouldListen() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        QmpCommandTest.Result r = cannotTest("watch", "--qmp", "tcp:127.0.0.1:" + port);
        assertEquals("tickwatch: cannot connect to tcp:127.0.0.1:" + port + ": connection refused: is QEMU running"
                + " with -qmp tcp:127.0.0.1:" + port + ",server=on?", r.err().strip());
    }

    @Test
    void aStaleUnixSocketIs125AndSaysNothingListens() throws IOException {
        Path sock = dir.resolve("stale.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(sock));
        }
        assertTrue(Files.exists(sock), "closing leaves the socket file, as a QEMU that died does");
        QmpCommandTest.Result r = cannotTest("qmp", "--qmp", "unix:" + sock, "query-status");
        assertEquals("tickwatch: cannot connect to unix:" + sock + ": connection refused: nothing listens on the socket;"
                + " is QEMU running with -qmp unix:" + sock + ",server=on?", r.err().strip());
    }

    @Test
    void aNumberThatIsNotOneIsAUsageErrorInPlainWords() {
        QmpCommandTest.Result r = QmpCommandTest.run("boot-loop", "--boots", "abc");
        assertEquals(ExitCode.USAGE, r.code(), r.err());
        assertTrue(r.err().startsWith("tickwatch: --boots: 'abc' is not a whole number\n"), r.err());
        QmpCommandTest.Result d = QmpCommandTest.run("watch", "--qmp", "unix:/nope.sock", "--for", "soon");
        assertTrue(d.err().startsWith("tickwatch: --for: 'soon' is not a number\n"), d.err());
    }

    @Test
    void aMissingSnapshotIs125InPlainWords() throws IOException {
        QmpCommandTest.Result r = cannotTest("report", dir.toString());
        assertEquals("tickwatch: cannot read " + dir.resolve("snapshot.json") + ": no such file", r.err().strip());
        QmpCommandTest.Result none = cannotTest("report", dir.resolve("gone").toString());
        assertEquals("tickwatch: cannot read " + dir.resolve("gone") + ": no such file", none.err().strip());
    }

    @Test
    void anEmptySnapshotIsRefusedNotReportedAsNoVerdict() throws IOException {
        // Every key the schema requires, and nothing in them.
        Files.writeString(dir.resolve("snapshot.json"), "{\"schema\":\"tickwatch-snapshot/1\",\"taken_at\":\"\","
                + "\"tickwatch_version\":\"\",\"status_before\":\"\",\"status_after\":\"\",\"verdict\":null,"
                + "\"samples\":[],\"environment\":{},\"registers_source\":\"\",\"cpus\":[],\"timers\":{},"
                + "\"tasks\":[],\"console\":{\"bytes\":0,\"file\":\"console.log\",\"tail\":[]},\"vmcore\":null,"
                + "\"notes\":[],\"timings_ms\":{}}");
        Files.writeString(dir.resolve("bare.json"), "{\"schema\":\"tickwatch-snapshot/1\"}");
        for (Path file : new Path[] {dir.resolve("snapshot.json"), dir.resolve("bare.json")}) {
            QmpCommandTest.Result r = cannotTest("report", file.toString());
            assertEquals("tickwatch: " + file + " is an empty snapshot (no verdict, no samples, no CPUs, timers,"
                    + " tasks or console): nothing to report; take one with tickwatch snapshot", r.err().strip());
            assertEquals("", r.out());
        }
    }

    @Test
    void aFileThatCannotBeWrittenIs125InPlainWords() {
        Path record = dir.resolve("no-such-folder").resolve("samples.jsonl");
        QmpCommandTest.Result r = cannotTest("watch", "--qmp", "unix:/nope.sock", "--record", record.toString());
        assertEquals("tickwatch: no such file or folder: " + record, r.err().strip());
    }

    @Test
    void aSocketHeldByAnotherClientIs125AfterTheGreetingTimeout() {
        // QEMU queues a second client: it connects, and no greeting comes until the first leaves.
        try (FakeQmpPeer taken = new FakeQmpPeer(SESSION).greeting("")) {
            long t0 = System.nanoTime();
            QmpCommandTest.Result r = cannotTest("watch", "--qmp", taken.endpoint().toString(),
                    "--qmp-connect-timeout", "0.3", "--until-hang");
            assertTrue(r.err().contains("the QMP socket " + taken.endpoint() + " is held by another client"), r.err());
            assertTrue(r.err().contains("QEMU serves one at a time; use a second -qmp socket"), r.err());
            assertTrue(r.err().contains("no greeting within 300 ms"), r.err());
            assertTrue(Duration.ofNanos(System.nanoTime() - t0).compareTo(Duration.ofSeconds(4)) < 0,
                    "the short timeout was used, not the 5 s default");
        }
    }

    @Test
    void aBadValueRefusedInCallIsAUsageError() {
        QmpCommandTest.Result r = QmpCommandTest.run("watch", "--qmp", "unix:/nope.sock", "--period-ms", "-5");
        assertEquals(ExitCode.USAGE, r.code(), r.err());
        assertTrue(r.err().contains("--period-ms must be at least 10, got -5"), r.err());
        assertTrue(r.err().contains("Try 'tickwatch watch --help'"), r.err());
        QmpCommandTest.Result poke = QmpCommandTest.run("watch", "--qmp", "unix:/nope.sock", "--poke", "kick");
        assertEquals(ExitCode.USAGE, poke.code(), poke.err());
        assertTrue(poke.err().contains("--poke: 'kick' (expected: nmi or key)"), poke.err());
        assertEquals(ExitCode.USAGE, QmpCommandTest.run("watch", "--qmp", "unix:/nope.sock", "--for", "0").code());
        assertEquals(ExitCode.USAGE, QmpCommandTest.run("watch", "--qmp", "unix:/nope.sock",
                "--qmp-connect-timeout", "-1").code());
        QmpCommandTest.Result lab = QmpCommandTest.run("lab", "nope");
        assertEquals(ExitCode.USAGE, lab.code(), lab.err());
        assertTrue(lab.err().contains("unknown lab mode 'nope'"), lab.err());
    }

    @Test
    void bootLoopRefusesAFileThatIsNotAKernelBeforeAnyQemuStarts() throws IOException {
        // /etc/hostname: a short text file every Linux has; a file of ours says the same.
        Path text = Files.writeString(dir.resolve("vmlinuz"), "hello\n");
        for (Path file : Files.isRegularFile(Path.of("/etc/hostname")) ? new Path[] {Path.of("/etc/hostname"), text}
                : new Path[] {text}) {
            QmpCommandTest.Result r = cannotTest("boot-loop", "--kernel", file.toString(), "--boots", "1");
            assertEquals("tickwatch boot-loop: cannot test: " + file + " is not a Linux kernel: no bzImage header"
                    + " (HdrS at 0x202) and not an ELF file", r.err().strip());
            assertEquals("", r.out(), "nothing booted, no progress line");
        }
        QmpCommandTest.Result missing = cannotTest("boot-loop", "--kernel", dir.resolve("none").toString());
        assertEquals("tickwatch boot-loop: cannot test: kernel " + dir.resolve("none") + " not found",
                missing.err().strip());
    }
}
