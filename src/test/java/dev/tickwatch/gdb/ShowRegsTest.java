package dev.tickwatch.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The oops layout against __show_regs of arch/x86/kernel/process_64.c (6.1), with the values of
 * CPU0 in samples/snapshots/timer-stall-30s (a real gdbstub read of a 6.1.0-57-cloud guest).
 */
class ShowRegsTest {

    private static Map<String, Long> cpu0() {
        Map<String, Long> r = new LinkedHashMap<>();
        long[] v = {0x1ad40L, 0, 0x7fffffff310d7bffL, 0x4000000000000000L, 0, 0x2a2c, 0xffffffff94a1aa40L,
            0xffffffff94a03e98L, 0, 0x314e12b9, 0, 1, 0, 0, 0, 0x14790, 0xffffffff93a17a0bL, 0x246, 0x10, 0x18, 0, 0, 0, 0,
            0, 0xffff8d404f800000L, 0, 0x80050033L, 0x68e6730, 0x2956000, 0x6b0, 1, 0xd01};
        for (int i = 0; i < v.length; i++) {
            r.put(Registers.X86_64_STATE.get(i), v[i]);
        }
        return r;
    }

    @Test
    void aGdbstubReadPrintsAsTheKernelsShowRegs() {
        assertEquals(List.of(
                "RIP: 0010:native_safe_halt+0xb/0x10",
                "RSP: 0018:ffffffff94a03e98 EFLAGS: 00000246",
                "RAX: 000000000001ad40 RBX: 0000000000000000 RCX: 7fffffff310d7bff",
                "RDX: 4000000000000000 RSI: 0000000000000000 RDI: 0000000000002a2c",
                "RBP: ffffffff94a1aa40 R08: 0000000000000000 R09: 00000000314e12b9",
                "R10: 0000000000000000 R11: 0000000000000001 R12: 0000000000000000",
                "R13: 0000000000000000 R14: 0000000000000000 R15: 0000000000014790",
                "FS:  0000000000000000(0000) GS:ffff8d404f800000(0000) knlGS:0000000000000000",
                "CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033",
                "CR2: 00000000068e6730 CR3: 0000000002956000 CR4: 00000000000006b0"),
                ShowRegs.lines(cpu0(), "native_safe_halt+0xb/0x10"));
    }

    @Test
    void withoutASymbolRipIsTheAddressAsPercentPsPrintsIt() {
        Map<String, Long> r = cpu0();
        r.put("rip", 0x7f12345678L);
        r.put("cs", 0x33L);
        assertEquals("RIP: 0033:0x7f12345678", ShowRegs.lines(r, null).get(0));
    }

    @Test
    void whatHmpGaveIsShownAndWhatItDidNotIsMarkedOrLeftOut() {
        Map<String, Long> r = new LinkedHashMap<>();
        r.put("rip", 0xffffffff93a17a0bL);
        r.put("rsp", 0xffffffff94a03e98L);
        r.put("eflags", 0x246L);
        r.put("cr3", 0x2956000L);
        r.put("cr4", 0x6b0L);
        r.put("gs_base", 0xffff8d404f800000L);
        assertEquals(List.of(
                "RIP: ????:native_safe_halt+0xb/0x10",
                "RSP: ????:ffffffff94a03e98 EFLAGS: 00000246",
                "FS:  ????????????????(????) GS:ffff8d404f800000(????) knlGS:????????????????",
                "CR2: ???????????????? CR3: 0000000002956000 CR4: 00000000000006b0"),
                ShowRegs.lines(r, "native_safe_halt+0xb/0x10"));
    }

    @Test
    void jsonIsHexStringsUnderTheTargetDescriptionsNamesInOopsOrder() {
        Map<String, Long> r = new LinkedHashMap<>();
        r.put("xmm0_extra", 5L);
        r.put("rip", 0xffffffff93a17a0bL);
        r.put("rax", 0L);
        r.put("eflags", 0x246L);
        Map<String, String> j = ShowRegs.json(r);
        assertEquals(List.of("rax", "rip", "eflags", "xmm0_extra"), List.copyOf(j.keySet()));
        assertEquals("0xffffffff93a17a0b", j.get("rip"));
        assertEquals("0x0", j.get("rax"));
        assertEquals("0x246", j.get("eflags"));
    }

    @Test
    void aGReplyBecomesTheX8664StateByName() {
        Map<String, byte[]> raw = new LinkedHashMap<>();
        raw.put("st0", new byte[10]);
        raw.put("rip", new byte[] {0x0b, 0x7a, (byte) 0xa1, (byte) 0x93, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        raw.put("rax", new byte[] {0x40, (byte) 0xad, 1, 0, 0, 0, 0, 0});
        Map<String, Long> m = ShowRegs.of(new Registers(new GdbThread("p1.1", 1, 1), raw));
        assertEquals(List.of("rax", "rip"), List.copyOf(m.keySet()), "x87 left out, oops order");
        assertEquals(0xffffffff93a17a0bL, m.get("rip"));
        assertEquals(0x1ad40L, m.get("rax"));
    }
}
