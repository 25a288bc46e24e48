package dev.tickwatch.gdb;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.CommandTimeoutException;
import dev.tickwatch.ConnectionException;
import dev.tickwatch.gdb.codec.Rsp;
import dev.tickwatch.testing.FakeGdbStub;
import dev.tickwatch.testing.RspTranscript;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The client against a fake stub replaying QEMU 7.2's recorded session, with faults QEMU never makes. */
class GdbClientTest {

    private static final RspTranscript SESSION = RspTranscript.load("session-7.2.txt");
    private static final long TEXT = 0xffffffff81000000L;
    /** What QEMU 7.2 answered to {@code mffffffff81000000,40} in the recording. */
    private static final String RECORDED_TEXT = "488d25513fa001488d3df2ffffffb9010100c0488b05fe9cbf0148c7c2"
            + "000000814829d04801f84889c248c1ea200f3056e8aa0700005e6a10488d0503000000";

    private static GdbOptions options() {
        return GdbOptions.builder().shutdownHook(false).build();
    }

    private static List<Registers> registersThrough(FakeGdbStub stub) {
        try (GdbClient gdb = GdbClient.connect(stub.endpoint(), options()); GdbPause p = gdb.pause()) {
            return gdb.registersOfAll();
        }
    }

    @Test
    void replayedSessionGivesRegistersNamedByTheTargetDescription() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            try (GdbClient gdb = GdbClient.connect(stub.endpoint(), options())) {
                assertTrue(gdb.wasRunningAtAttach(), "the recorded T02 on attach");
                assertEquals(4096, gdb.packetSize());
                assertTrue(gdb.multiprocess());
                assertEquals(List.of("target.xml", "i386-64bit.xml"), gdb.target().files());
                assertEquals(2, gdb.threads().size());
                assertTrue(gdb.isRunning(), "resumed after the attach");
                try (GdbPause p = gdb.pause()) {
                    assertTrue(p.ours());
                    List<Registers> regs = gdb.registersOfAll();
                    assertEquals(2, regs.size());
                    // The recorded p10 (regnum 16 is rip) on CPU 1 agrees with its g reply.
                    assertEquals(Registers.hex(gdb.register(gdb.threads().get(1), "rip")), regs.get(1).hex("rip"));
                    assertTrue(regs.get(0).get("rip") < 0, "a kernel address: " + regs.get(0).hex("rip"));
                    assertEquals(16, regs.get(0).values().get("xmm0").length, "xmm0 is 128 bits");
                }
            }
            List<String> sent = stub.received();
            // Resume after the attach, 0x03 for the pause, vCont;c to end it, 0x03 + D;1 to detach.
            int resume = sent.indexOf("vCont;c");
            assertEquals(List.of("vCont;c", "\\x03"), sent.subList(resume, resume + 2));
            assertEquals("D;1", sent.stream().filter(s -> s.startsWith("D")).findFirst().orElse(null));
        }
    }

    @Test
    void badChecksumIsNakedAndTheRetransmitAnswers() {
        List<Registers> clean;
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            clean = registersThrough(stub);
        }
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            stub.rewrite("g", frames -> frames.stream().map(f -> "CORRUPT:" + f).toList());
            List<Registers> noisy = registersThrough(stub);
            assertEquals(clean.get(0).hex("rip"), noisy.get(0).hex("rip"));
            assertEquals(clean.get(1).hex("cr3"), noisy.get(1).hex("cr3"));
            assertTrue(stub.received().contains("-"), "the client asked again: " + stub.received());
        }
    }

    @Test
    void runLengthEncodingNotificationsAndConsoleOutputChangeNothing() {
        List<Registers> clean;
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            clean = registersThrough(stub);
        }
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            stub.rewrite("g", frames -> {
                List<String> out = new ArrayList<>();
                out.add("%Stop:T05thread:p01.01;#" + String.format("%02x",
                        Rsp.checksum(Rsp.unwire("Stop:T05thread:p01.01;"), 0, 22)));
                out.add(FakeGdbStub.frame("O" + Rsp.hex("console chatter\n")));
                for (String f : frames) {
                    out.add(runLengthEncoded(RspTranscript.key(f)));
                }
                return out;
            });
            List<Registers> encoded = registersThrough(stub);
            for (int i = 0; i < clean.size(); i++) {
                for (String name : clean.get(i).values().keySet()) {
                    assertEquals(clean.get(i).hex(name), encoded.get(i).hex(name), name);
                }
            }
        }
    }

    /** Encodes runs of 4 to 97 equal bytes as GDB's "X*n", avoiding counts that give '#' or '$'. */
    private static String runLengthEncoded(String payload) {
        StringBuilder body = new StringBuilder();
        Matcher m = Pattern.compile("(.)\\1{3,96}").matcher(payload);
        int at = 0;
        while (m.find()) {
            int extra = m.group().length() - 1;
            if (extra == 6 || extra == 7) {
                continue;
            }
            body.append(payload, at, m.start()).append(m.group(1)).append('*').append((char) (extra + 29));
            at = m.end();
        }
        body.append(payload.substring(at));
        String b = body.toString();
        return "$" + b + "#" + String.format("%02x", Rsp.checksum(Rsp.unwire(b), 0, Rsp.unwire(b).length));
    }

    @Test
    void noAckModeIsUsedWhenOffered() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION).offerNoAckMode()) {
            try (GdbClient gdb = GdbClient.connect(stub.endpoint(), options()); GdbPause p = gdb.pause()) {
                assertEquals(2, gdb.registersOfAll().size());
            }
            List<String> sent = stub.received();
            int switched = sent.indexOf("QStartNoAckMode");
            assertTrue(switched > 0, sent.toString());
            // One '+' for the OK itself (GDB manual, "Packet Acknowledgment"), none after.
            assertEquals("+", sent.get(switched + 1));
            assertFalse(sent.subList(switched + 2, sent.size()).contains("+"), sent.toString());
        }
    }

    @Test
    void errorRepliesAndUnsupportedPacketsHaveTheirOwnExceptions() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION);
                GdbClient gdb = GdbClient.connect(stub.endpoint(), options()); GdbPause p = gdb.pause()) {
            GdbErrorException e = assertThrows(GdbErrorException.class, () -> gdb.readMemory(0, 16));
            assertEquals(0x14, e.code());
            assertTrue(e.getMessage().contains("E14"), e.getMessage());
            GdbErrorException tooBig = assertThrows(GdbErrorException.class, () -> gdb.request("m" + Long.toHexString(TEXT) + ",1000"));
            assertEquals(0x22, tooBig.code());
            assertThrows(GdbUnsupportedException.class, () -> gdb.request("qNoSuchPacket"));
            byte[] text = gdb.readMemory(TEXT, 64);
            assertEquals("488d2551", Rsp.hex(text).substring(0, 8));
            assertEquals("VM status: paused\r\n", gdb.monitor("info status"));
        }
    }

    @Test
    void lostConnectionDuringAPauseFailsRequestsAndTriesTheQmpFallback() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            stub.rewrite("g", frames -> List.of("CLOSE"));
            try (GdbClient gdb = GdbClient.connect(stub.endpoint(), options()); GdbPause p = gdb.pause()) {
                assertThrows(ConnectionException.class, () -> gdb.registers(gdb.threads().get(0)));
                await().atMost(Duration.ofSeconds(5)).until(() -> gdb.fallbackResume() != null);
                // No QMP client was given: the fallback can only report that the VM stays paused.
                assertTrue(gdb.fallbackResume().isCompletedExceptionally());
            }
        }
    }

    @Test
    void aSilentStubTimesOutAndTheConnectionIsDropped() {
        try (FakeGdbStub stub = new FakeGdbStub(SESSION)) {
            stub.rewrite("g", frames -> List.of());
            GdbOptions o = options().toBuilder().requestTimeout(Duration.ofMillis(300)).build();
            try (GdbClient gdb = GdbClient.connect(stub.endpoint(), o); GdbPause p = gdb.pause()) {
                CommandTimeoutException e = assertThrows(CommandTimeoutException.class,
                        () -> gdb.registers(gdb.threads().get(0)));
                assertEquals("g", e.command());
                await().atMost(Duration.ofSeconds(5)).until(() -> !gdb.isOpen());
                assertNotNull(gdb.fallbackResume());
            }
        }
    }

    @Test
    void readsAreSplitAtTheStubLimit() {
        // The recorded kernel text, then bytes no chunking mistake could reproduce by accident.
        byte[] served = new byte[5000];
        new java.util.Random(13).nextBytes(served);
        byte[] recorded = Rsp.unhex(RECORDED_TEXT);
        System.arraycopy(recorded, 0, served, 0, recorded.length);
        try (FakeGdbStub stub = new FakeGdbStub(SESSION).serveMemory(TEXT, served);
                GdbClient gdb = GdbClient.connect(stub.endpoint(), options()); GdbPause p = gdb.pause()) {
            assertEquals(2048, gdb.memoryChunk());
            assertArrayEquals(served, gdb.readMemory(TEXT, served.length));
            List<String> reads = stub.received().stream().filter(r -> r.startsWith("m")).toList();
            assertEquals(List.of("mffffffff81000000,800", "mffffffff81000800,800", "mffffffff81001000,388"), reads);
            long next = TEXT;
            for (String r : reads) {
                String[] at = r.substring(1).split(",");
                int n = Integer.parseInt(at[1], 16);
                assertTrue(n <= FakeGdbStub.QEMU_MAX_M, r);
                assertEquals(next, Long.parseUnsignedLong(at[0], 16), "contiguous: " + r);
                next += n;
            }
            assertEquals(TEXT + served.length, next);
            // The stub acts as QEMU 7.2 does: one more byte than its limit is refused.
            GdbErrorException tooBig = assertThrows(GdbErrorException.class,
                    () -> gdb.request("m" + Long.toHexString(TEXT) + ",801"));
            assertEquals(0x22, tooBig.code());
        }
    }

    @Test
    void optionsCheckTheirLimits() {
        assertThrows(IllegalArgumentException.class, () -> GdbOptions.builder().readWindow(0).build());
        assertThrows(IllegalArgumentException.class, () -> GdbOptions.builder().requestTimeout(Duration.ZERO).build());
        assertThrows(IllegalArgumentException.class, () -> GdbOptions.builder().maxPacketLength(100).build());
        assertArrayEquals(new byte[] {1, 2}, Rsp.unhex("0102"));
    }
}
