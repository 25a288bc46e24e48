package dev.tickwatch.cli;

import dev.tickwatch.command.ExitCode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.testing.FakeQmpPeer;
import dev.tickwatch.testing.QmpTranscript;
import dev.tickwatch.util.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tickwatch qmp} through its exit code and captured output, against the replaying peer. */
class QmpCommandTest {

    private static final QmpTranscript SESSION = QmpTranscript.load("session-7.2.txt");

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void replyIsPrintedAsJson() throws Exception {
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION)) {
            Result r = run("qmp", "--qmp", peer.endpoint().toString(), "--json", "query-status");
            assertEquals(0, r.code(), r.err());
            JsonNode reply = Json.MAPPER.readTree(r.out());
            assertEquals("running", reply.path("status").asText());
            assertEquals(1, r.out().strip().lines().count());
        }
    }

    @Test
    void argumentsAreSentAsGiven() {
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION)) {
            Result r = run("qmp", "--qmp", peer.endpoint().toString(), "human-monitor-command",
                    "{\"command-line\": \"x /4gx 0xffffffff81000000\"}");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("ffffffff81000000: 0x4801a03f51258d48"), r.out());
        }
    }

    @Test
    void qemuErrorGivesClassAndExit125NotTheHangCode() throws Exception {
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION)) {
            Result r = run("qmp", "--qmp", peer.endpoint().toString(), "no-such-command");
            assertEquals(ExitCode.CANNOT_TEST, r.code());
            assertEquals("CommandNotFound: The command no-such-command has not been found", r.err().strip());
            Result j = run("qmp", "--qmp", peer.endpoint().toString(), "--json", "no-such-command");
            assertEquals(ExitCode.CANNOT_TEST, j.code());
            assertEquals("CommandNotFound", Json.MAPPER.readTree(j.out()).path("error").path("class").asText());
        }
    }

    @Test
    void transcriptRecordsBothDirections(@TempDir Path dir) throws Exception {
        Path t = dir.resolve("t.txt");
        try (FakeQmpPeer peer = new FakeQmpPeer(SESSION)) {
            assertEquals(0, run("qmp", "--qmp", peer.endpoint().toString(), "--transcript", t.toString(),
                    "query-status").code());
        }
        String text = Files.readString(t);
        assertTrue(text.contains("S: {\"QMP\""), text);
        assertTrue(text.contains("C: {\"execute\":\"query-status\",\"id\":2}"), text);
        assertTrue(text.contains("S: {\"return\":{\"status\":\"running\""), text);
    }

    @Test
    void wrongSocketIsOneLineAndExit125() {
        Result r = run("qmp", "--qmp", "unix:/nonexistent/qmp.sock", "query-status");
        assertEquals(ExitCode.CANNOT_TEST, r.code());
        assertEquals("tickwatch: cannot connect to unix:/nonexistent/qmp.sock: no such socket", r.err().strip());
    }

    @Test
    void usageErrorsExitAt128SoBisectStops() {
        Result bad = run("qmp", "--qmp", "nonsense", "query-status");
        assertEquals(ExitCode.USAGE, bad.code());
        assertTrue(bad.err().contains("expected: unix:/path or tcp:host:port"), bad.err());
        assertEquals(ExitCode.USAGE, run("qmp", "--qmp", "unix:/x", "query-status", "[1]").code());
        assertEquals(ExitCode.USAGE, run("no-such-subcommand").code());
    }
}
