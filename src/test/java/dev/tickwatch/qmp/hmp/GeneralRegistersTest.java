package dev.tickwatch.qmp.hmp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The general registers of a recorded {@code info registers -a}, next to the parsed RIP/RSP of the same text. */
class GeneralRegistersTest {

    @Test
    void everyCpusGeneralRegistersWithGdbNames() throws Exception {
        String text = Files.readString(Path.of("protocols/hmp/soft-lockup/info-registers-a.txt"));
        List<Map<String, Long>> general = CpuRegisters.parseGeneral(text);
        List<CpuRegisters> cpus = CpuRegisters.parseAll(text);
        assertEquals(cpus.size(), general.size());
        Map<String, Long> cpu0 = general.get(0);
        assertEquals(16, cpu0.size(), cpu0.toString());
        assertEquals(0xffffffff8781aa40L, cpu0.get("rbp"));
        assertEquals(cpus.get(0).rsp(), cpu0.get("rsp"));
        assertEquals(0x3145831eL, cpu0.get("r9"));
        assertEquals(0x14790L, cpu0.get("r15"));
        assertEquals(0x1944L, cpu0.get("rdi"));
    }
}
