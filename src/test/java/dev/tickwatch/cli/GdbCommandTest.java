package dev.tickwatch.cli;

import dev.tickwatch.command.ExitCode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.testing.FakeGdbStub;
import dev.tickwatch.testing.RspTranscript;
import dev.tickwatch.util.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code tickwatch gdb} through its exit code and captured output, against the replaying fake stub. */
class GdbCommandTest {

    private static final RspTranscript SESSION = RspTranscript.load("session-7.2.txt");

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void threadsPrintsOneThreadPerVcpu() throws Exception {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            Run r = run("gdb", "--gdb", stub.endpoint().toString(), "threads", "--json");
            assertEquals(ExitCode.OK, r.code(), r.err());
            JsonNode j = Json.MAPPER.readTree(r.out());
            assertEquals(2, j.get("threads").size());
            assertEquals("p01.02", j.get("threads").get(1).get("id").asText());
            assertEquals(4096, j.get("packet_size").asInt());
            assertTrue(r.out().strip().indexOf('\n') < 0, "--json is one line");
        }
    }

    @Test
    void regsPrintsNamedHexValuesPerVcpu() throws Exception {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            Run r = run("gdb", "--gdb", stub.endpoint().toString(), "regs");
            assertEquals(ExitCode.OK, r.code(), r.err());
            JsonNode cpus = Json.MAPPER.readTree(r.out()).get("cpus");
            assertEquals(2, cpus.size());
            assertTrue(cpus.get(0).get("registers").get("rip").asText().matches("0xffffffff8[0-9a-f]{7}"), r.out());
            assertTrue(cpus.get(1).get("registers").has("cr3"));
        }
    }

    @Test
    void readPrintsAddressAndHexBytes() throws Exception {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            Run r = run("gdb", "--gdb", stub.endpoint().toString(), "read", "0xffffffff81000000", "64");
            assertEquals(ExitCode.OK, r.code(), r.err());
            JsonNode j = Json.MAPPER.readTree(r.out());
            assertEquals("0xffffffff81000000", j.get("address").asText());
            assertEquals(128, j.get("hex").asText().length());
            assertTrue(j.get("hex").asText().startsWith("488d2551"));
        }
    }

    @Test
    void textOutputIsReadable() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            Run r = run("gdb", "--gdb", stub.endpoint().toString(), "--text", "read", "0xffffffff81000000", "16");
            assertEquals(ExitCode.OK, r.code(), r.err());
            assertEquals("ffffffff81000000: 48 8d 25 51 3f a0 01 48 8d 3d f2 ff ff ff b9 01", r.out().strip());
        }
    }

    @Test
    void aWrongSocketPathIsOneClearLine() {
        Run r = run("gdb", "--gdb", "unix:/nonexistent/tickwatch/gdb.sock", "regs");
        assertEquals(ExitCode.CANNOT_TEST, r.code());
        assertEquals("tickwatch: cannot connect to unix:/nonexistent/tickwatch/gdb.sock: no such socket", r.err().strip());
    }

    @Test
    void unreadableMemoryFailsWithTheStubsError() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            Run r = run("gdb", "--gdb", stub.endpoint().toString(), "read", "0", "16");
            assertEquals(ExitCode.CANNOT_TEST, r.code());
            assertTrue(r.err().contains("E14") && r.err().contains("not readable"), r.err());
        }
    }

    @Test
    void missingSubcommandOrBadLengthIsAUsageError() {
        assertEquals(ExitCode.USAGE, run("gdb", "--gdb", "unix:/x").code());
        assertEquals(ExitCode.USAGE, run("gdb", "--gdb", "unix:/x", "read", "0x10", "lots").code());
    }
}
