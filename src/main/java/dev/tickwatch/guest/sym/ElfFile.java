package dev.tickwatch.guest.sym;

import dev.tickwatch.TickwatchException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A little-endian ELF64 file (a vmlinux, an object file) read only as far as asked: the section
 * headers at open, then one section's bytes, the symbol table, or a string at a virtual address.
 * A vmlinux with DWARF is hundreds of MiB, so nothing is read whole. Layouts: the System V gABI,
 * "ELF Header", "Sections", "Symbol Table" (Elf64_Ehdr, Elf64_Shdr, Elf64_Sym).
 */
public final class ElfFile implements AutoCloseable {

    public static final int SHT_SYMTAB = 2;
    public static final int SHT_NOBITS = 8;
    private static final long SHF_WRITE = 1;
    private static final long SHF_ALLOC = 2;
    private static final long SHF_EXECINSTR = 4;
    private static final int SHN_UNDEF = 0;
    private static final int SHN_ABS = 0xfff1;
    private static final int STT_SECTION = 3;
    private static final int STT_FILE = 4;
    private static final int STB_LOCAL = 0;
    private static final int STB_WEAK = 2;
    private static final int MAX_SECTION = Integer.MAX_VALUE - 8;

    private final Path path;
    private final FileChannel file;
    private final List<Section> sections;

    /** One section header, named. */
    public record Section(int index, String name, int type, long flags, long address, long offset, long size, int link) {

        /** Whether {@code [address, address + length)} lies in this section's memory image. */
        public boolean holds(long at, long length) {
            return (flags & SHF_ALLOC) != 0 && type != SHT_NOBITS && Long.compareUnsigned(at, address) >= 0
                    && Long.compareUnsigned(at - address + length, size) <= 0;
        }
    }

    private ElfFile(Path path, FileChannel file, List<Section> sections) {
        this.path = path;
        this.file = file;
        this.sections = sections;
    }

    /** Opens {@code path}; a file that is not a little-endian ELF64 is a {@link TickwatchException} saying so. */
    public static ElfFile open(Path path) {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new TickwatchException("cannot read " + path + ": " + e.getMessage(), e);
        }
        try {
            long size = ch.size();
            ByteBuffer h = read(ch, path, 0, (int) Math.min(64, size));
            if (size < 64 || h.getInt(0) != 0x464c457f) {
                throw new TickwatchException(path + " is not an ELF file");
            }
            if (h.get(4) != 2 || h.get(5) != 1) {
                throw new TickwatchException(path + " is not a little-endian 64-bit ELF file (class " + h.get(4)
                        + ", data " + h.get(5) + ")");
            }
            long shoff = h.getLong(0x28);
            int shentsize = h.getShort(0x3a) & 0xffff;
            int shnum = h.getShort(0x3c) & 0xffff;
            int shstrndx = h.getShort(0x3e) & 0xffff;
            if (shoff == 0 || shnum == 0 || shentsize < 64) {
                throw new TickwatchException(path + " has no section headers");
            }
            ByteBuffer sh = read(ch, path, shoff, shnum * shentsize);
            long[][] raw = new long[shnum][];
            for (int i = 0; i < shnum; i++) {
                int o = i * shentsize;
                raw[i] = new long[] {sh.getInt(o) & 0xffffffffL, sh.getInt(o + 4) & 0xffffffffL, sh.getLong(o + 8),
                    sh.getLong(o + 16), sh.getLong(o + 24), sh.getLong(o + 32), sh.getInt(o + 40) & 0xffffffffL};
            }
            byte[] names = shstrndx < shnum ? bytes(ch, path, raw[shstrndx][4], raw[shstrndx][5]) : new byte[0];
            List<Section> sections = new ArrayList<>(shnum);
            for (int i = 0; i < shnum; i++) {
                long[] r = raw[i];
                sections.add(new Section(i, string(names, (int) r[0]), (int) r[1], r[2], r[3], r[4], r[5], (int) r[6]));
            }
            return new ElfFile(path, ch, List.copyOf(sections));
        } catch (IOException e) {
            closeQuietly(ch);
            throw new TickwatchException("cannot read " + path + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public List<Section> sections() {
        return sections;
    }

    public Optional<Section> section(String name) {
        return sections.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    /** A section's bytes as in the file. */
    public byte[] bytes(Section s) {
        if (s.type() == SHT_NOBITS) {
            return new byte[0];
        }
        return bytes(file, path, s.offset(), s.size());
    }

    /**
     * The symbols of {@code .symtab} with nm's type letters (T text, D data, B bss, R read-only,
     * A absolute; lower case when local; W/V weak), sections and file names left out. Empty when
     * the file is stripped.
     */
    public List<Symbol> symbols() {
        Optional<Section> symtab = sections.stream().filter(s -> s.type() == SHT_SYMTAB).findFirst();
        if (symtab.isEmpty()) {
            return List.of();
        }
        Section st = symtab.get();
        if (st.link() <= 0 || st.link() >= sections.size()) {
            throw new TickwatchException(path + ": .symtab links to no string table");
        }
        byte[] names = bytes(sections.get(st.link()));
        ByteBuffer b = ByteBuffer.wrap(bytes(st)).order(ByteOrder.LITTLE_ENDIAN);
        List<Symbol> out = new ArrayList<>(b.capacity() / 24);
        for (int o = 0; o + 24 <= b.capacity(); o += 24) {
            int name = b.getInt(o);
            int info = b.get(o + 4) & 0xff;
            int shndx = b.getShort(o + 6) & 0xffff;
            long value = b.getLong(o + 8);
            int type = info & 0xf;
            int bind = info >>> 4;
            if (name == 0 || type == STT_SECTION || type == STT_FILE || shndx == SHN_UNDEF) {
                continue;
            }
            out.add(new Symbol(value, letter(shndx, type, bind), string(names, name), null));
        }
        return out;
    }

    private char letter(int shndx, int type, int bind) {
        if (bind == STB_WEAK) {
            return type == 1 ? 'V' : 'W';
        }
        char c;
        if (shndx == SHN_ABS) {
            c = 'A';
        } else if (shndx >= sections.size()) {
            c = '?';
        } else {
            Section s = sections.get(shndx);
            if ((s.flags() & SHF_EXECINSTR) != 0) {
                c = 'T';
            } else if ((s.flags() & SHF_ALLOC) == 0) {
                c = 'N';
            } else if (s.type() == SHT_NOBITS) {
                c = 'B';
            } else if ((s.flags() & SHF_WRITE) != 0) {
                c = 'D';
            } else {
                c = 'R';
            }
        }
        return bind == STB_LOCAL ? Character.toLowerCase(c) : c;
    }

    /** The NUL-terminated string at virtual {@code address} in an allocated section, at most {@code max} bytes. */
    public Optional<String> cString(long address, int max) {
        for (Section s : sections) {
            if (s.holds(address, 1)) {
                long len = Math.min(max, s.size() - (address - s.address()));
                byte[] b = bytes(file, path, s.offset() + (address - s.address()), len);
                int n = 0;
                while (n < b.length && b[n] != 0) {
                    n++;
                }
                return Optional.of(new String(b, 0, n, StandardCharsets.ISO_8859_1));
            }
        }
        return Optional.empty();
    }

    private static byte[] bytes(FileChannel ch, Path path, long offset, long length) {
        if (length < 0 || length > MAX_SECTION) {
            throw new TickwatchException(path + ": a section of " + length + " bytes is too big to read");
        }
        ByteBuffer b = read(ch, path, offset, (int) length);
        return b.array();
    }

    private static ByteBuffer read(FileChannel ch, Path path, long offset, int length) {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        try {
            while (b.hasRemaining()) {
                if (ch.read(b, offset + b.position()) < 0) {
                    throw new TickwatchException(path + " is truncated: wanted " + length + " bytes at offset " + offset);
                }
            }
        } catch (IOException e) {
            throw new TickwatchException("cannot read " + path + ": " + e.getMessage(), e);
        }
        return b;
    }

    private static String string(byte[] table, int offset) {
        if (offset < 0 || offset >= table.length) {
            return "";
        }
        int end = offset;
        while (end < table.length && table[end] != 0) {
            end++;
        }
        return new String(table, offset, end - offset, StandardCharsets.ISO_8859_1);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // Only a read-only handle.
        }
    }

    @Override
    public void close() {
        closeQuietly(file);
    }
}
