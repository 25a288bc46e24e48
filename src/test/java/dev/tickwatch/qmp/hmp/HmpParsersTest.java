package dev.tickwatch.qmp.hmp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.ProtocolException;
import dev.tickwatch.testing.QmpTranscript;
import dev.tickwatch.util.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

/** HMP text parsers against outputs recorded from QEMU 7.2. */
class HmpParsersTest {

    private static final QmpTranscript SESSION = QmpTranscript.load("session-7.2.txt");

    private static String recorded(String commandLine) throws Exception {
        List<String> r = SESSION.responses().get("human-monitor-command " + commandLine);
        return Json.MAPPER.readTree(r.get(r.size() - 1)).path("return").asText();
    }

    @Test
    void registersOfEveryCpu() throws Exception {
        List<CpuRegisters> cpus = CpuRegisters.parseAll(recorded("{\"command-line\":\"info registers -a\"}"));
        assertEquals(2, cpus.size());
        CpuRegisters c0 = cpus.get(0);
        assertEquals(0, c0.cpu());
        assertEquals(0xffffffff81a17a0bL, c0.rip());
        assertEquals(0x246, c0.rflags());
        assertTrue(c0.interruptsEnabled());
        assertTrue(c0.halted());
        assertTrue(c0.longMode());
        assertEquals(0, c0.cpl());
        assertEquals(0x55a0000L, c0.cr3());
        assertEquals(0xfffffe0000000000L, c0.idtBase());
        assertEquals(0, c0.cr4() & (1 << 12), "four-level paging");
        assertTrue(c0.gsBase() < 0, "GS base is the per-CPU area, a kernel address: " + Long.toHexString(c0.gsBase()));
        assertEquals(1, cpus.get(1).cpu());
    }

    @Test
    void earlyBootThirtyTwoBitDumpAndSpinningCpu() {
        String text = "CPU#0\r\nEAX=00000000 EBX=00000000\r\nESI=0 EDI=0 EBP=0 ESP=00006f2c\r\n"
                + "EIP=000fd0b4 EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0\r\nCR0=00000011 CR2=0 CR3=00000000\r\n";
        CpuRegisters c = CpuRegisters.parseAll(text).get(0);
        assertFalse(c.longMode());
        assertFalse(c.interruptsEnabled());
        assertFalse(c.halted());
        assertEquals(0xfd0b4, c.rip());
        assertThrows(ProtocolException.class, () -> CpuRegisters.parseAll("CPU#0\r\nnothing\r\n"));
    }

    @Test
    void lapicTimer() throws Exception {
        LapicState l = LapicState.parse(recorded("{\"command-line\":\"info lapic\",\"cpu-index\":0}"));
        assertEquals("one-shot", l.timerMode());
        assertFalse(l.masked());
        assertEquals(236, l.vector());
        assertEquals(16, l.divide());
        assertEquals(230837, l.initialCount());
        assertEquals(59925, l.currentCount());
        assertTrue(l.armed());
    }

    @Test
    void memoryQuadwordsAndUnmapped() throws Exception {
        assertArrayEquals(new long[] {0x4801a03f51258d48L, 0x01b9fffffff23d8dL, 0x9cfe058b48c00001L, 0x000000c2c74801bfL},
                HmpMemory.quadwords(recorded("{\"command-line\":\"x /4gx 0xffffffff81000000\"}")));
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> HmpMemory.quadwords(recorded("{\"command-line\":\"x /2gx 0\"}")));
        assertTrue(e.getMessage().contains("Cannot access memory"));
    }
}
