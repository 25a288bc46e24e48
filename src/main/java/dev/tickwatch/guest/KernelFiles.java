package dev.tickwatch.guest;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.mem.GuestMemory;
import dev.tickwatch.guest.mem.GuestMemoryException;
import dev.tickwatch.guest.sym.ElfFile;
import dev.tickwatch.guest.sym.Image;
import dev.tickwatch.guest.sym.KernelImage;
import dev.tickwatch.guest.sym.SymbolTable;
import dev.tickwatch.guest.sym.SystemMap;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The developer's own files for the kernel under test: a vmlinux (symbols from its ELF symbol
 * table; types from its {@code .BTF} section, or from its DWARF through {@code pahole
 * --btf_encode_detached} when Debian's dwarves is installed) and/or a System.map. A kernel built
 * as a bisection builds it (defconfig: no KALLSYMS_ALL, no BTF) has no data symbols and no types in
 * its own memory; these files supply them.
 *
 * <p>The files hold link-time addresses; the KASLR slide comes from the live kernel: the IDT's
 * divide-error gate against the file's {@code asm_exc_divide_error}, else the image start against
 * {@code _text}. A file from another build is refused, in one line: the vmlinux's
 * {@code linux_banner} (its .rodata) must read the same in guest memory at the slid address, and
 * the IDT must point where the slid symbols say. Loading is done once per file (a boot loop
 * attaches thousands of times).
 */
public final class KernelFiles {

    public static final KernelFiles NONE = new KernelFiles(null, null);

    /** KASLR moves the kernel by multiples of CONFIG_PHYSICAL_ALIGN, at least 2 MiB on x86-64. */
    private static final long ALIGN = 2L << 20;
    private static final Map<String, Loaded> LOADED = new ConcurrentHashMap<>();

    private final Path vmlinux;
    private final Path systemMap;

    private KernelFiles(Path vmlinux, Path systemMap) {
        this.vmlinux = vmlinux;
        this.systemMap = systemMap;
    }

    /** The files given (either may be null); {@link #NONE} when neither is. */
    public static KernelFiles of(Path vmlinux, Path systemMap) {
        return vmlinux == null && systemMap == null ? NONE : new KernelFiles(vmlinux, systemMap);
    }

    public boolean isEmpty() {
        return vmlinux == null && systemMap == null;
    }

    public Path vmlinux() {
        return vmlinux;
    }

    public Path systemMap() {
        return systemMap;
    }

    /** The file named in messages: the vmlinux when given. */
    String what() {
        return vmlinux != null ? "vmlinux " + vmlinux : "System.map " + systemMap;
    }

    /**
     * What the files hold, before any slide.
     *
     * @param symbols    link-time symbols
     * @param banner     {@code linux_banner} as the vmlinux holds it, stripped; null from a System.map alone
     * @param btf        types, or null
     * @param typesFrom  where the types came from (said to the user), or null
     * @param noTypes    why there are none, or null
     */
    public record Loaded(SymbolTable symbols, String banner, Btf btf, String typesFrom, String noTypes) {
    }

    /** Reads the files (once per file version in this process). */
    public Loaded load() {
        String key = key(vmlinux) + "\u0000" + key(systemMap);
        Loaded l = LOADED.get(key);
        if (l == null) {
            l = read();
            LOADED.put(key, l);
        }
        return l;
    }

    private static String key(Path p) {
        if (p == null) {
            return "";
        }
        try {
            return p.toAbsolutePath() + ":" + Files.size(p) + ":" + Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            throw new TickwatchException("cannot read " + p + ": " + e.getMessage(), e);
        }
    }

    private Loaded read() {
        SymbolTable symbols = null;
        String banner = null;
        Btf btf = null;
        String typesFrom = null;
        String noTypes = null;
        if (vmlinux != null) {
            try (ElfFile elf = ElfFile.open(vmlinux)) {
                List<dev.tickwatch.guest.sym.Symbol> syms = elf.symbols();
                if (!syms.isEmpty()) {
                    symbols = SymbolTable.of("vmlinux " + vmlinux + "'s symbol table", syms);
                    banner = symbols.addressOf("linux_banner").flatMap(a -> elf.cString(a, 512)).map(String::strip)
                            .orElse(null);
                }
                Optional<ElfFile.Section> btfSection = elf.section(".BTF");
                if (btfSection.isPresent()) {
                    btf = Btf.parse(elf.bytes(btfSection.get()));
                    typesFrom = "vmlinux " + vmlinux + "'s .BTF section";
                } else if (elf.section(".debug_info").isPresent()) {
                    Optional<Path> pahole = Pahole.find();
                    if (pahole.isPresent()) {
                        btf = Btf.parse(Pahole.encode(pahole.get(), vmlinux));
                        typesFrom = "vmlinux " + vmlinux + "'s DWARF through pahole --btf_encode_detached";
                    } else {
                        noTypes = "vmlinux " + vmlinux + " has DWARF but no .BTF section, and pahole is not installed"
                                + " (Debian's dwarves) to convert it";
                    }
                } else {
                    noTypes = "vmlinux " + vmlinux + " has neither a .BTF section nor DWARF (CONFIG_DEBUG_INFO_BTF and"
                            + " CONFIG_DEBUG_INFO off)";
                }
            }
            if (symbols == null && systemMap == null) {
                throw new TickwatchException("vmlinux " + vmlinux + " has no symbol table (stripped?): give --system-map too");
            }
        }
        if (symbols == null) {
            symbols = SystemMap.read(systemMap);
        }
        return new Loaded(symbols, banner, btf, typesFrom, noTypes);
    }

    /**
     * The files' symbols slid to where the running kernel is, checked against it.
     *
     * @throws KernelMismatchException when the files are of another build
     */
    SymbolTable place(Loaded files, GuestMemory memory, List<CpuRegisters> cpus, KernelImage.Range range, Image img) {
        SymbolTable link = files.symbols();
        long slide;
        OptionalLong handler = divideErrorHandler(memory, cpus);
        Optional<Long> divide = link.addressOf("asm_exc_divide_error");
        Optional<Long> text = link.addressOf("_text");
        if (handler.isPresent() && divide.isPresent()) {
            slide = handler.getAsLong() - divide.get();
        } else if (text.isPresent()) {
            slide = range.start() - text.get();
        } else {
            throw new KernelMismatchException(what() + " does not match the running kernel: it has neither"
                    + " asm_exc_divide_error nor _text to place it by");
        }
        if (slide % ALIGN != 0) {
            throw new KernelMismatchException(what() + " does not match the running kernel: placing it by the IDT"
                    + " would slide it by 0x" + Long.toHexString(slide) + ", not a multiple of 2 MiB");
        }
        SymbolTable live = link.slide(slide);
        String liveBanner = live.addressOf("linux_banner").map(a -> banner(memory, a)).orElse(null);
        if (files.banner() != null && !files.banner().equals(liveBanner)) {
            String guest = KernelImage.banner(img).map(a -> banner(memory, a)).orElse("?");
            throw new KernelMismatchException(what() + " does not match the running kernel: its banner is '"
                    + files.banner() + "' but the guest runs '" + guest + "'");
        }
        if (liveBanner == null && live.addressOf("linux_banner").isPresent()) {
            String guest = KernelImage.banner(img).map(a -> banner(memory, a)).orElse("?");
            throw new KernelMismatchException(what() + " does not match the running kernel: no banner at its"
                    + " linux_banner (0x" + Long.toHexString(live.addressOf("linux_banner").get()) + "); the guest runs '"
                    + guest + "'");
        }
        String complaint = GuestKernel.liveCheck(live, memory, cpus);
        if (complaint != null) {
            throw new KernelMismatchException(what() + " does not match the running kernel: " + complaint);
        }
        return live;
    }

    private static OptionalLong divideErrorHandler(GuestMemory memory, List<CpuRegisters> cpus) {
        for (CpuRegisters c : cpus) {
            if (c.idtBase() != 0) {
                return KernelImage.divideErrorHandler(memory, c);
            }
        }
        return OptionalLong.empty();
    }

    /** The banner line at {@code address}, or null when none is there. */
    static String banner(GuestMemory memory, long address) {
        try {
            String s = memory.readCString(address, 512).strip();
            return s.startsWith("Linux version ") ? s : null;
        } catch (GuestMemoryException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return isEmpty() ? "no kernel files" : (vmlinux != null ? "vmlinux " + vmlinux : "")
                + (vmlinux != null && systemMap != null ? ", " : "") + (systemMap != null ? "System.map " + systemMap : "");
    }

    /** Debian's dwarves: converts a file's DWARF to a detached BTF blob. */
    static final class Pahole {

        private Pahole() {
        }

        static Optional<Path> find() {
            String path = System.getenv("PATH");
            for (String dir : (path == null ? "/usr/bin:/bin" : path).split(":")) {
                Path p = Path.of(dir.isEmpty() ? "." : dir, "pahole");
                if (Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
            return Optional.empty();
        }

        static byte[] encode(Path pahole, Path elf) {
            Path out = null;
            try {
                out = Files.createTempFile("tickwatch-btf-", ".btf");
                Process p = new ProcessBuilder(pahole.toString(), "--btf_encode_detached=" + out, elf.toString())
                        .redirectErrorStream(true).start();
                byte[] said = p.getInputStream().readAllBytes();
                if (!p.waitFor(10, TimeUnit.MINUTES)) {
                    p.destroyForcibly();
                    throw new TickwatchException("pahole did not finish converting " + elf + "'s DWARF in 10 minutes");
                }
                byte[] blob = Files.readAllBytes(out);
                if (p.exitValue() != 0 || blob.length == 0) {
                    throw new TickwatchException("pahole --btf_encode_detached failed on " + elf + " (exit "
                            + p.exitValue() + "): " + new String(said, java.nio.charset.StandardCharsets.UTF_8).strip());
                }
                return blob;
            } catch (IOException e) {
                throw new TickwatchException("cannot run pahole on " + elf + ": " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TickwatchException("interrupted while pahole converted " + elf + "'s DWARF", e);
            } finally {
                if (out != null) {
                    try {
                        Files.deleteIfExists(out);
                    } catch (IOException e) {
                        // A temp file left behind.
                    }
                }
            }
        }
    }
}
