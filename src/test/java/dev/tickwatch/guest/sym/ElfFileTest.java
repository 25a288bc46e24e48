package dev.tickwatch.guest.sym;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.TickwatchException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ELF symbol table and System.map readers: on a small vmlinux-like ELF the test writes (always),
 * and on the kernel the coordinator builds from Debian's linux-source-6.1 with defconfig (when it
 * is there), whose symbol table and System.map must agree symbol for symbol.
 */
class ElfFileTest {

    static final Path BUILT = Path.of(System.getProperty("user.home"), ".cache/tickwatch/built/linux-6.1-defconfig");
    static final long TEXT = 0xffffffff81000000L;
    static final String BANNER = "Linux version 6.1.0-test (dev@host) (gcc 12) #1 SMP PREEMPT_DYNAMIC\n";

    /** A vmlinux-like ELF: text, rodata with the banner, data, bss, and a per-CPU section at 0. */
    static ElfWriter vmlinuxLike() {
        return new ElfWriter()
                .section(".text", ElfWriter.PROGBITS, ElfWriter.ALLOC | ElfWriter.EXEC, TEXT, new byte[0x200])
                .section(".rodata", ElfWriter.PROGBITS, ElfWriter.ALLOC, TEXT + 0x200000,
                        (BANNER + "\0").getBytes(StandardCharsets.ISO_8859_1))
                .section(".data", ElfWriter.PROGBITS, ElfWriter.ALLOC | ElfWriter.WRITE, TEXT + 0x400000, new byte[64])
                .section(".data..percpu", ElfWriter.PROGBITS, ElfWriter.ALLOC | ElfWriter.WRITE, 0, new byte[0x100])
                .bss(".bss", TEXT + 0x600000, 0x1000)
                .symbol("_text", ".text", TEXT, 0)
                .symbol("_stext", ".text", TEXT, 0)
                .symbol("asm_exc_divide_error", ".text", TEXT + 0x100, 2)
                .symbol("_etext", ".text", TEXT + 0x200, 0)
                .symbol("linux_banner", ".rodata", TEXT + 0x200000, 1)
                .symbol("jiffies_64", ".data", TEXT + 0x400000, 1)
                .symbol("__per_cpu_offset", ".data", TEXT + 0x400008, 1)
                .local("tick_do_timer_cpu", ".data", TEXT + 0x400028)
                .symbol("irq_stat", ".data..percpu", 0x40, 1)
                .symbol("empty_zero_page", ".bss", TEXT + 0x600000, 1)
                .symbol("__abs_thing", null, 0x1234, 0);
    }

    @Test
    void symbolsCarryNmTypeLettersAndLinkTimeAddresses(@TempDir Path dir) throws IOException {
        Path f = vmlinuxLike().write(dir.resolve("vmlinux"));
        try (ElfFile elf = ElfFile.open(f)) {
            Map<String, Symbol> s = elf.symbols().stream().collect(Collectors.toMap(Symbol::name, Function.identity()));
            assertEquals('T', s.get("asm_exc_divide_error").type());
            assertEquals(TEXT + 0x100, s.get("asm_exc_divide_error").address());
            assertEquals('R', s.get("linux_banner").type());
            assertEquals('D', s.get("jiffies_64").type());
            assertEquals('d', s.get("tick_do_timer_cpu").type(), "a local symbol is lower case");
            assertEquals('B', s.get("empty_zero_page").type());
            assertEquals('A', s.get("__abs_thing").type());
            assertEquals(0x40, s.get("irq_stat").address(), "per-CPU symbols are offsets from 0");
            assertEquals(BANNER, elf.cString(TEXT + 0x200000, 512).orElseThrow());
            assertTrue(elf.cString(TEXT + 0x800000, 16).isEmpty(), "no section holds that address");
        }
    }

    @Test
    void aTableOfTheSymbolsSlidesImageAddressesButNotPerCpuOffsets(@TempDir Path dir) throws IOException {
        Path f = vmlinuxLike().write(dir.resolve("vmlinux"));
        SymbolTable t;
        try (ElfFile elf = ElfFile.open(f)) {
            t = SymbolTable.of("vmlinux", elf.symbols()).slide(0x3a00000);
        }
        assertEquals(TEXT + 0x3a00000 + 0x400000, t.addressOf("jiffies_64").orElseThrow());
        assertEquals(0x40, t.addressOf("irq_stat").orElseThrow());
        assertEquals("asm_exc_divide_error+0x10/0x100", t.lookup(TEXT + 0x3a00000 + 0x110).orElseThrow().toString());
        assertTrue(t.lookup(0x40).isEmpty(), "a per-CPU offset is no image address");
        assertTrue(t.isKernelText(TEXT + 0x3a00000 + 0x10));
    }

    @Test
    void notAnElfIsSaidSo(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("System.map"), "ffffffff81000000 T _text\n");
        TickwatchException e = assertThrows(TickwatchException.class, () -> ElfFile.open(f));
        assertTrue(e.getMessage().endsWith("is not an ELF file"), e.getMessage());
    }

    @Test
    void systemMapLinesBecomeSymbols(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("System.map"), String.join("\n",
                "0000000000000040 D irq_stat", "ffffffff81000000 T _text", "ffffffff81000100 T asm_exc_divide_error",
                "ffffffff81400000 D jiffies_64", "ffffffff81400028 d tick_do_timer_cpu", "garbage", "") + "\n");
        SymbolTable t = SystemMap.read(f);
        assertEquals(5, t.size());
        assertEquals(0xffffffff81400000L, t.addressOf("jiffies_64").orElseThrow());
        assertEquals(0x40, t.addressOf("irq_stat").orElseThrow());
        assertEquals('d', t.symbols().stream().filter(s -> s.name().equals("tick_do_timer_cpu")).findFirst()
                .orElseThrow().type());
        assertEquals("System.map " + f, t.source());
        assertFalse(t.hasDataSymbols(), "two data symbols are no KALLSYMS_ALL table");
    }

    @Test
    void aFileWithoutSymbolLinesIsNoSystemMap(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("notes"), "hello\n");
        TickwatchException e = assertThrows(TickwatchException.class, () -> SystemMap.read(f));
        assertTrue(e.getMessage().contains("is not a System.map"), e.getMessage());
    }

    @Test
    void theBuiltKernelsSymbolTableAgreesWithItsSystemMap() {
        Path vmlinux = BUILT.resolve("vmlinux");
        Path map = BUILT.resolve("System.map");
        Assumptions.assumeTrue(Files.isReadable(vmlinux) && Files.isReadable(map), "no built kernel in " + BUILT);
        SymbolTable fromMap = SystemMap.read(map);
        try (ElfFile elf = ElfFile.open(vmlinux)) {
            SymbolTable fromElf = SymbolTable.of("vmlinux", elf.symbols());
            for (String name : List.of("_text", "_stext", "asm_exc_divide_error", "jiffies_64", "__per_cpu_offset",
                    "linux_banner", "irq_stat", "tick_cpu_sched", "init_task")) {
                assertEquals(fromMap.addressOf(name), fromElf.addressOf(name), name);
            }
            assertTrue(fromElf.hasDataSymbols());
            assertTrue(fromElf.addressOf("irq_stat").orElseThrow() < 0x100000, "per-CPU symbols are offsets");
            String banner = elf.cString(fromElf.addressOf("linux_banner").orElseThrow(), 512).orElseThrow();
            assertTrue(banner.startsWith("Linux version 6.1"), banner);
            assertTrue(elf.section(".BTF").isEmpty(), "defconfig has no BTF");
        }
    }
}
