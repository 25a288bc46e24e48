package dev.tickwatch.guest.sym;

import dev.tickwatch.guest.GuestLayoutException;
import dev.tickwatch.guest.mem.GuestMemory;
import dev.tickwatch.guest.mem.GuestMemoryException;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the running kernel image is mapped, found without symbols and with KASLR on: x86-64
 * maps the image in [0xffffffff80000000, 0xffffffffc0000000) (Documentation/arch/x86/x86_64/mm.rst)
 * and, once booted, nothing below {@code _text} (arch/x86/mm/init_64.c cleanup_highmap). A kernel
 * text address comes from a vCPU's RIP while it runs in kernel mode, or from the IDT's first gate,
 * which points into kernel text whatever the vCPUs run. From there we walk down 2 MiB at a time to
 * the first unmapped block, and up to the last mapped one.
 */
public final class KernelImage {

    public static final long MAP_START = 0xffffffff80000000L;
    public static final long MAP_END = 0xffffffffc0000000L;
    private static final long STEP = 2L << 20;
    /** Far above any real kernel image (a distro kernel maps ~40 MiB), far below the 1 GiB window. */
    private static final long MAX_IMAGE = 512L << 20;

    private KernelImage() {
    }

    /** The image's mapped range {@code [start, end)}, both 2 MiB aligned. */
    public record Range(long start, long end) {
        public int length() {
            return (int) (end - start);
        }
    }

    public static Range locate(GuestMemory mem, List<CpuRegisters> cpus) {
        List<Long> candidates = new ArrayList<>();
        for (CpuRegisters c : cpus) {
            if (c.cpl() == 0 && inMap(c.rip())) {
                candidates.add(c.rip());
            }
        }
        for (CpuRegisters c : cpus) {
            if (c.idtBase() != 0) {
                divideErrorHandler(mem, c).ifPresent(h -> {
                    if (inMap(h)) {
                        candidates.add(h);
                    }
                });
                break;
            }
        }
        for (long text : candidates) {
            long start = text & ~(STEP - 1);
            if (!mem.isMapped(text)) {
                continue;
            }
            long end = (text & ~(STEP - 1)) + STEP;
            // Stop walking as soon as the mapping is too big to be a trimmed image: during early
            // boot the whole window is mapped, and probing all of it only costs the booting guest.
            while (start - STEP >= MAP_START && end - start <= MAX_IMAGE && anyMapped(mem, start - STEP)) {
                start -= STEP;
            }
            while (end < MAP_END && end - start <= MAX_IMAGE && anyMapped(mem, end)) {
                end += STEP;
            }
            if (end - start > MAX_IMAGE) {
                // Until cleanup_highmap() trims it, the early mapping covers the whole 1 GiB window,
                // stale copies of kernel data included: too early to read anything.
                throw new GuestLayoutException(String.format("the kernel image mapping spans over %d MiB: the kernel"
                        + " is still in early boot (its mapping is not trimmed yet); try again shortly", MAX_IMAGE >> 20));
            }
            return new Range(start, end);
        }
        throw new GuestLayoutException("no kernel text address to start from: no vCPU runs in kernel mode at a"
                + " kernel-image RIP and the IDT is unreadable (is this an x86-64 Linux guest past early boot?)");
    }

    /**
     * Where the IDT's first gate (the divide error, vector 0) of {@code cpu} points: a kernel text
     * address ({@code asm_exc_divide_error}) whatever the CPU runs. Empty when the IDT is unreadable
     * or the gate is not present: early in boot the IDT register already points at a table
     * idt_setup_early_handler() has not filled yet, all zeros.
     * Gate layout: Intel SDM vol. 3A, 6.14.1 "64-bit mode IDT" (offset bits 0-15, 16-31, 32-63; P is bit 7 of byte 5).
     */
    public static java.util.OptionalLong divideErrorHandler(GuestMemory mem, CpuRegisters cpu) {
        if (cpu.idtBase() == 0) {
            return java.util.OptionalLong.empty();
        }
        try {
            byte[] gate = mem.read(cpu.idtBase(), 16);
            if ((gate[5] & 0x80) == 0) {
                return java.util.OptionalLong.empty();
            }
            return java.util.OptionalLong.of((gate[0] & 0xffL) | (gate[1] & 0xffL) << 8 | (gate[6] & 0xffL) << 16
                    | (gate[7] & 0xffL) << 24 | u32(gate, 8) << 32);
        } catch (GuestMemoryException e) {
            return java.util.OptionalLong.empty();
        }
    }

    /**
     * Where the kernel's banner ({@code linux_banner}, "Linux version 6.1.0-... (gcc ...) #1 SMP ...")
     * is in the image, found by its text: for a kallsyms without data symbols, and to name the build
     * a mismatched vmlinux is compared with. The first "Linux version " followed by a digit.
     */
    public static java.util.Optional<Long> banner(Image img) {
        byte[] prefix = "Linux version ".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        long at = img.base();
        while (true) {
            java.util.OptionalLong hit = img.find(prefix, at);
            if (hit.isEmpty()) {
                return java.util.Optional.empty();
            }
            long a = hit.getAsLong();
            if (img.contains(a + prefix.length, 1) && Character.isDigit(img.u8(a + prefix.length))) {
                return java.util.Optional.of(a);
            }
            at = a + 1;
        }
    }

    /** Probes a 2 MiB block at its first, middle and last page: the image's gaps are unmapped 4 KiB pages. */
    private static boolean anyMapped(GuestMemory mem, long block) {
        return mem.isMapped(block) || mem.isMapped(block + STEP / 2) || mem.isMapped(block + STEP - 4096);
    }

    private static boolean inMap(long address) {
        return Long.compareUnsigned(address, MAP_START) >= 0 && Long.compareUnsigned(address, MAP_END) < 0;
    }

    private static long u32(byte[] b, int o) {
        return (b[o] & 0xffL) | (b[o + 1] & 0xffL) << 8 | (b[o + 2] & 0xffL) << 16 | (b[o + 3] & 0xffL) << 24;
    }
}
