package dev.tickwatch.guest.sym;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Test-only writer of small little-endian ELF64 files laid out like a vmlinux: allocated sections
 * at kernel addresses, a per-CPU section at 0, optional non-allocated ones (.BTF, .debug_info),
 * then .symtab, .strtab and .shstrtab, the section headers last.
 */
public final class ElfWriter {

    public static final int PROGBITS = 1;
    public static final int NOBITS = 8;
    public static final long WRITE = 1;
    public static final long ALLOC = 2;
    public static final long EXEC = 4;

    private record Sec(String name, int type, long flags, long address, byte[] bytes, long size) {
    }

    private record Sym(String name, String section, long value, boolean global, int type) {
    }

    private final List<Sec> sections = new ArrayList<>();
    private final List<Sym> symbols = new ArrayList<>();

    public ElfWriter section(String name, int type, long flags, long address, byte[] bytes) {
        sections.add(new Sec(name, type, flags, address, bytes, bytes.length));
        return this;
    }

    public ElfWriter bss(String name, long address, long size) {
        sections.add(new Sec(name, NOBITS, WRITE | ALLOC, address, new byte[0], size));
        return this;
    }

    /** A global symbol ({@code type}: 0 notype, 1 object, 2 function) in section {@code section}, or absolute when null. */
    public ElfWriter symbol(String name, String section, long value, int type) {
        symbols.add(new Sym(name, section, value, true, type));
        return this;
    }

    public ElfWriter local(String name, String section, long value) {
        symbols.add(new Sym(name, section, value, false, 1));
        return this;
    }

    public byte[] build() {
        ByteArrayOutputStream shstr = new ByteArrayOutputStream();
        shstr.write(0);
        ByteArrayOutputStream str = new ByteArrayOutputStream();
        str.write(0);
        int n = sections.size();
        // Indexes: 0 null, 1..n ours, n+1 .symtab, n+2 .strtab, n+3 .shstrtab.
        ByteBuffer sym = ByteBuffer.allocate(24 * (symbols.size() + 1)).order(ByteOrder.LITTLE_ENDIAN);
        sym.position(24);
        List<Sym> ordered = new ArrayList<>(symbols.stream().filter(s -> !s.global()).toList());
        int firstGlobal = ordered.size() + 1;
        ordered.addAll(symbols.stream().filter(Sym::global).toList());
        for (Sym s : ordered) {
            int nameOff = str.size();
            str.writeBytes(s.name().getBytes(StandardCharsets.ISO_8859_1));
            str.write(0);
            int shndx = 0xfff1;
            if (s.section() != null) {
                shndx = -1;
                for (int i = 0; i < n; i++) {
                    if (sections.get(i).name().equals(s.section())) {
                        shndx = i + 1;
                    }
                }
                if (shndx < 0) {
                    throw new IllegalArgumentException("no section " + s.section());
                }
            }
            sym.putInt(nameOff).put((byte) ((s.global() ? 1 : 0) << 4 | s.type())).put((byte) 0)
                    .putShort((short) shndx).putLong(s.value()).putLong(0);
        }
        List<Sec> all = new ArrayList<>(sections);
        all.add(new Sec(".symtab", 2, 0, 0, sym.array(), sym.capacity()));
        all.add(new Sec(".strtab", 3, 0, 0, str.toByteArray(), str.size()));
        int[] names = new int[all.size() + 1];
        for (int i = 0; i < all.size(); i++) {
            names[i] = shstr.size();
            shstr.writeBytes(all.get(i).name().getBytes(StandardCharsets.ISO_8859_1));
            shstr.write(0);
        }
        names[all.size()] = shstr.size();
        shstr.writeBytes(".shstrtab\0".getBytes(StandardCharsets.ISO_8859_1));
        all.add(new Sec(".shstrtab", 3, 0, 0, shstr.toByteArray(), shstr.size()));

        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[64]);
        long[] offsets = new long[all.size()];
        for (int i = 0; i < all.size(); i++) {
            while (body.size() % 8 != 0) {
                body.write(0);
            }
            offsets[i] = body.size();
            body.writeBytes(all.get(i).bytes());
        }
        while (body.size() % 8 != 0) {
            body.write(0);
        }
        long shoff = body.size();
        ByteBuffer sh = ByteBuffer.allocate(64 * (all.size() + 1)).order(ByteOrder.LITTLE_ENDIAN);
        sh.position(64);
        for (int i = 0; i < all.size(); i++) {
            Sec s = all.get(i);
            int link = s.name().equals(".symtab") ? n + 2 : 0;
            int info = s.name().equals(".symtab") ? firstGlobal : 0;
            sh.putInt(names[i]).putInt(s.type()).putLong(s.flags()).putLong(s.address()).putLong(offsets[i])
                    .putLong(s.size()).putInt(link).putInt(info).putLong(8).putLong(s.name().equals(".symtab") ? 24 : 0);
        }
        body.writeBytes(sh.array());
        byte[] out = body.toByteArray();
        ByteBuffer h = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        h.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
        h.position(16);
        h.putShort((short) 2).putShort((short) 62).putInt(1).putLong(0).putLong(0).putLong(shoff).putInt(0)
                .putShort((short) 64).putShort((short) 0).putShort((short) 0).putShort((short) 64)
                .putShort((short) (all.size() + 1)).putShort((short) all.size());
        return out;
    }

    public Path write(Path file) throws IOException {
        Files.write(file, build());
        return file;
    }
}
