package dev.tickwatch.qmp.hmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The parsers on the HMP outputs recorded from each lab mode (protocols/hmp/, by tickwatch lab --record-hmp). */
class RecordedLabOutputsTest {

    private static List<CpuRegisters> regs(String mode) throws Exception {
        return CpuRegisters.parseAll(Files.readString(Path.of("protocols/hmp", mode, "info-registers-a.txt")));
    }

    private static LapicState lapic(String mode, int cpu) throws Exception {
        return LapicState.parse(Files.readString(Path.of("protocols/hmp", mode, "info-lapic-" + cpu + ".txt")));
    }

    @Test
    void timerStallLostIsIdleWithNothingArmed() throws Exception {
        for (CpuRegisters r : regs("timer-stall-lost")) {
            assertTrue(r.halted() && r.interruptsEnabled(), r.toString());
            LapicState l = lapic("timer-stall-lost", r.cpu());
            assertEquals("one-shot", l.timerMode());
            assertEquals(0, l.initialCount());
            assertFalse(l.armed());
        }
    }

    @Test
    void spinDeadlockSpinsWithInterruptsOff() throws Exception {
        List<CpuRegisters> r = regs("spin-deadlock");
        assertEquals(2, r.size());
        assertTrue(r.stream().allMatch(c -> !c.halted() && !c.interruptsEnabled() && c.cpl() == 0));
    }

    @Test
    void spinOneHasExactlyOneCpuSpinning() throws Exception {
        assertEquals(1, regs("spin-one").stream().filter(c -> !c.halted() && !c.interruptsEnabled()).count());
    }

    @Test
    void stormKeepsTheTimerArmed() throws Exception {
        assertTrue(lapic("timer-stall-storm", 0).armed() || lapic("timer-stall-storm", 1).armed());
    }
}
