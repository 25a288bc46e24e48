package dev.tickwatch.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.tickwatch.guest.sym.Symbol;
import dev.tickwatch.guest.sym.SymbolTable;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Whether decoded symbols describe the running kernel, judged by its IDT: the real one points
 * vector 0 at asm_exc_divide_error, the early one (before trap_init()) at early_idt_handler_array.
 * Both are matches; a gate to anywhere else is a stale or foreign table.
 */
class LiveCheckTest {

    static final long T = KernelFilesTest.TEXT + KernelFilesTest.SLIDE;
    static final SymbolTable SYMBOLS = SymbolTable.of("test", List.of(
            new Symbol(T, 'T', "_text", null),
            new Symbol(T + 0x100, 'T', "asm_exc_divide_error", null),
            new Symbol(T + 0x180, 'T', "early_idt_handler_array", null),
            new Symbol(T + 0x200000, 'D', "linux_banner", null)));

    static FakeMemory guestWithGate(long handler) {
        return new FakeMemory()
                .write(T + 0x200000, (KernelFilesTest.BANNER + "\n\0").getBytes(StandardCharsets.ISO_8859_1))
                .write(KernelFilesTest.IDT, KernelFilesTest.gate(handler));
    }

    @Test
    void theRealIdtMatches() {
        assertNull(GuestKernel.liveCheck(SYMBOLS, guestWithGate(T + 0x100), KernelFilesTest.cpus()));
    }

    @Test
    void theEarlyIdtMatchesToo() {
        assertNull(GuestKernel.liveCheck(SYMBOLS, guestWithGate(T + 0x180), KernelFilesTest.cpus()));
    }

    @Test
    void aGateElsewhereIsNamed() {
        assertEquals("the IDT's divide-error gate points to 0x" + Long.toHexString(T + 0x140)
                        + ", not to asm_exc_divide_error at 0x" + Long.toHexString(T + 0x100),
                GuestKernel.liveCheck(SYMBOLS, guestWithGate(T + 0x140), KernelFilesTest.cpus()));
    }

    @Test
    void withoutTheEarlySymbolAnEarlyGateIsNotTakenOnTrust() {
        SymbolTable noEarly = SymbolTable.of("test", List.of(new Symbol(T, 'T', "_text", null),
                new Symbol(T + 0x100, 'T', "asm_exc_divide_error", null), new Symbol(T + 0x200000, 'D', "linux_banner", null)));
        assertEquals("the IDT's divide-error gate points to 0x" + Long.toHexString(T + 0x180)
                        + ", not to asm_exc_divide_error at 0x" + Long.toHexString(T + 0x100),
                GuestKernel.liveCheck(noEarly, guestWithGate(T + 0x180), KernelFilesTest.cpus()));
    }

    @Test
    void aGateNotPresentYetSaysNothing() {
        // The IDT register set, the table still zero: the banner check stands alone.
        FakeMemory m = guestWithGate(T + 0x140).write(KernelFilesTest.IDT, new byte[16]);
        assertNull(GuestKernel.liveCheck(SYMBOLS, m, KernelFilesTest.cpus()));
    }
}
