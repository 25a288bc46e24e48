package dev.tickwatch.guest.sym;

import dev.tickwatch.guest.GuestLayoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The kernel's symbol table, decoded from the kallsyms tables in the kernel image itself (as
 * scripts/kallsyms.c lays them out and kernel/kallsyms.c reads them): no System.map, no vmlinux.
 *
 * <p>Finding the tables: the token table holds every single character used in a name as its own
 * token at its own code, so "0".."9" appear as ten consecutive 2-byte strings; the u16 token
 * index follows the table; the u32 markers (offset of every 256th name) end just before it; the
 * compressed names end at the markers, preceded by {@code kallsyms_num_syms}. The address table
 * ({@code kallsyms_offsets} + {@code kallsyms_relative_base}) is either before {@code num_syms}
 * (up to 6.3's order) or after the token index (later kernels); both are tried and the one that
 * decodes to sorted addresses inside the image wins. The relative base is relocated by KASLR,
 * so the addresses are the running kernel's.
 */
public final class Kallsyms extends SymbolTable {

    private static final byte[] DIGITS = "0\0001\0002\0003\0004\0005\0006\0007\0008\0009\000"
            .getBytes(StandardCharsets.ISO_8859_1);

    private final long tokenTable;

    private Kallsyms(long[] addresses, char[] types, String[] names, long tokenTable) {
        super(addresses, types, names, "kallsyms");
        this.tokenTable = tokenTable;
    }

    private Kallsyms(Kallsyms base, long delta) {
        super(base, delta);
        this.tokenTable = base.tokenTable + delta;
    }

    /** Finds and decodes the tables inside {@code image} (the kernel's mapping, text through data). */
    public static Kallsyms find(Image image) {
        return find(image, k -> null);
    }

    /**
     * Like {@link #find(Image)}, but a decoded table is only taken when {@code check} finds nothing
     * wrong with it (returns null); otherwise its complaint is recorded and the search goes on.
     * Memory can hold stale copies of the tables (unrelocated addresses): the check against the
     * running kernel (its banner, its IDT) is what tells the live one.
     */
    public static Kallsyms find(Image image, java.util.function.Function<Kallsyms, String> check) {
        List<String> tried = new ArrayList<>();
        long at = image.base();
        while (true) {
            java.util.OptionalLong hit = image.find(DIGITS, at);
            if (hit.isEmpty()) {
                break;
            }
            long digits = hit.getAsLong();
            try {
                Kallsyms k = decode(image, digits);
                String complaint = check.apply(k);
                if (complaint == null) {
                    return k;
                }
                tried.add("0x" + Long.toHexString(digits) + ": decoded, but " + complaint);
            } catch (GuestLayoutException | IndexOutOfBoundsException e) {
                tried.add("0x" + Long.toHexString(digits) + ": " + e.getMessage());
            }
            at = digits + 1;
        }
        throw new GuestLayoutException("no kallsyms token table in the kernel image 0x" + Long.toHexString(image.base())
                + "..0x" + Long.toHexString(image.end()) + (tried.isEmpty() ? " (no \"0\"..\"9\" token run)"
                : "; candidates rejected: " + String.join("; ", tried))
                + ". Without symbols, registers, LAPIC state and host-side readings still work");
    }

    private static Kallsyms decode(Image img, long digits) {
        // Token table: tokens 0x30.. start at `digits`; walk to the end of token 0xff.
        long p = digits;
        for (int t = 0x30; t <= 0xff; t++) {
            int guard = 0;
            while (img.u8(p) != 0) {
                p++;
                if (++guard > 256) {
                    throw new GuestLayoutException("token 0x" + Integer.toHexString(t) + " has no terminator");
                }
            }
            p++;
        }
        long tokenEnd = p;
        long tokenIndex = 0;
        long tokenTable = 0; // 0: not found (a kernel address is never 0)
        for (long cand = tokenEnd; cand < tokenEnd + 16; cand++) {
            if (img.u16(cand) != 0) {
                continue;
            }
            long table = digits - img.u16(cand + 2L * 0x30);
            if (table > digits || table < img.base()) {
                continue;
            }
            boolean ok = true;
            for (int t = 0x30; t < 0x3a && ok; t++) {
                ok = img.u16(cand + 2L * t) == 2 * (t - 0x30) + (digits - table);
            }
            if (ok && table + img.u16(cand + 2L * 0xff) < tokenEnd && indexMatches(img, table, cand)) {
                tokenIndex = cand;
                tokenTable = table;
                break;
            }
        }
        if (tokenIndex == 0) {
            throw new GuestLayoutException("no token index after the token table");
        }
        String[] tokens = new String[256];
        for (int t = 0; t < 256; t++) {
            long s = tokenTable + img.u16(tokenIndex + 2L * t);
            StringBuilder b = new StringBuilder();
            for (int c; (c = img.u8(s)) != 0; s++) {
                b.append((char) c);
            }
            tokens[t] = b.toString();
        }

        // Markers: u32 offsets of every 256th name, from 0, strictly increasing, 8-aligned. They end
        // at the token table, or (6.2+ and backports) before kallsyms_seqs_of_names (3 or 4 bytes a
        // symbol), so scan down from the token table for the start of such a run.
        long floor = Math.max(img.base(), tokenTable - (8L << 20));
        for (long m = (tokenTable - 8) & ~7L; m >= floor; m -= 8) {
            if (img.u32(m) != 0) {
                continue;
            }
            long[] markers = markerRun(img, m, tokenTable);
            if (markers == null) {
                continue;
            }
            Kallsyms found = namesBefore(img, m, markers, tokens, tokenTable, tokenIndex);
            if (found != null) {
                return found;
            }
        }
        throw new GuestLayoutException("no kallsyms_markers with kallsyms_num_syms and kallsyms_names before them");
    }

    /** Whether the u16 index at {@code index} gives the offset of every one of the 256 tokens from {@code table}. */
    private static boolean indexMatches(Image img, long table, long index) {
        long p = table;
        for (int t = 0; t < 256; t++) {
            if (img.u16(index + 2L * t) != p - table) {
                return false;
            }
            int guard = 0;
            while (img.u8(p) != 0) {
                if (++guard > 256) {
                    return false;
                }
                p++;
            }
            p++;
        }
        return true;
    }

    /** The marker values starting at {@code m}, or null when they do not look like markers. */
    private static long[] markerRun(Image img, long m, long limit) {
        List<Long> values = new ArrayList<>();
        values.add(0L);
        long prev = 0;
        for (long q = m + 4; q + 4 <= limit; q += 4) {
            long v = img.u32(q);
            long diff = v - prev;
            if (diff < 256 * 2 || diff > 256L * 512) {
                break;
            }
            values.add(v);
            prev = v;
        }
        if (values.size() < 3) {
            return null;
        }
        return values.stream().mapToLong(Long::longValue).toArray();
    }

    /** kallsyms_num_syms and kallsyms_names ending at the markers at {@code markersStart}, decoded. */
    private static Kallsyms namesBefore(Image img, long markersStart, long[] markers, String[] tokens,
            long tokenTable, long tokenIndex) {
        int k = markers.length;
        long searchFloor = Math.max(img.base(), markersStart - markers[k - 1] - 256L * 512 - 16);
        for (long a = (markersStart - 8) & ~7L; a >= searchFloor; a -= 8) {
            long n = img.u32(a);
            if (n <= (k - 1) * 256L || n > k * 256L || img.u32(a + 4) != 0) {
                continue;
            }
            long names = a + 8;
            if (names + markers[k - 1] >= markersStart) {
                continue;
            }
            long[] nameOffsets = nameOffsets(img, names, (int) n, markers, markersStart);
            if (nameOffsets == null) {
                continue;
            }
            long[] addresses = addresses(img, a, (int) n, tokenIndex + 512);
            if (addresses == null) {
                throw new GuestLayoutException("names found (" + n + " symbols) but no address table that decodes"
                        + " to sorted addresses in the image");
            }
            char[] types = new char[(int) n];
            String[] decoded = new String[(int) n];
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < n; i++) {
                long s = names + nameOffsets[i];
                int len = img.u8(s++);
                if ((len & 0x80) != 0) {
                    len = (len & 0x7f) | img.u8(s++) << 7;
                }
                b.setLength(0);
                for (int j = 0; j < len; j++) {
                    b.append(tokens[img.u8(s + j)]);
                }
                types[i] = b.length() > 0 ? b.charAt(0) : '?';
                decoded[i] = b.length() > 0 ? b.substring(1) : "";
            }
            return new Kallsyms(addresses, types, decoded, tokenTable);
        }
        return null;
    }

    /** Offsets of each name in the names table, or null when the markers do not agree. */
    private static long[] nameOffsets(Image img, long names, int n, long[] markers, long markersStart) {
        long[] offsets = new long[n];
        long off = 0;
        for (int i = 0; i < n; i++) {
            if ((i & 0xff) == 0 && markers[i >> 8] != off) {
                return null;
            }
            offsets[i] = off;
            int len = img.u8(names + off);
            off += 1;
            if ((len & 0x80) != 0) {
                len = (len & 0x7f) | img.u8(names + off) << 7;
                off += 1;
            }
            if (len == 0) {
                return null;
            }
            off += len;
            if (names + off > markersStart) {
                return null;
            }
        }
        long gap = markersStart - (names + off);
        return gap >= 0 && gap < 8 ? offsets : null; // the markers label is 8-aligned
    }

    /**
     * Decodes the address table, trying first the layout with offsets before num_syms, then the
     * one with offsets after the token index. Null if neither gives sorted addresses.
     */
    private static long[] addresses(Image img, long numSyms, int n, long afterTokenIndex) {
        long size = ((4L * n) + 7) & ~7L;
        long[][] layouts = {
            {numSyms - 8 - size, numSyms - 8},
            {(afterTokenIndex + 7) & ~7L, ((afterTokenIndex + 7) & ~7L) + size},
        };
        for (long[] layout : layouts) {
            long offsets = layout[0];
            long relativeBase = layout[1];
            if (!img.contains(offsets, (int) size) || !img.contains(relativeBase, 8)) {
                continue;
            }
            long rb = img.u64(relativeBase);
            if (Long.compareUnsigned(rb, img.base()) < 0 || Long.compareUnsigned(rb, img.end()) >= 0) {
                continue;
            }
            boolean absolutePercpu = false;
            for (int i = 0; i < n && !absolutePercpu; i++) {
                absolutePercpu = img.s32(offsets + 4L * i) < 0;
            }
            long[] out = new long[n];
            boolean sorted = true;
            for (int i = 0; i < n; i++) {
                int o = img.s32(offsets + 4L * i);
                if (!absolutePercpu) {
                    out[i] = rb + (o & 0xffff_ffffL);
                } else {
                    out[i] = o >= 0 ? o : rb - 1 - o;
                }
                // kallsyms sorts by address: absolute (per-CPU) values first, then the image.
                if (i > 0 && Long.compareUnsigned(out[i], out[i - 1]) < 0) {
                    sorted = false;
                    break;
                }
            }
            if (sorted) {
                return out;
            }
        }
        return null;
    }

    /**
     * The same kernel build loaded {@code delta} bytes higher (another boot, another KASLR slide):
     * image addresses move, absolute per-CPU values do not. Names and types are shared.
     */
    @Override
    public Kallsyms slide(long delta) {
        if (delta == 0) {
            return this;
        }
        return new Kallsyms(this, delta);
    }

    /** Where the token table was found (evidence of where the tables live). */
    public long tokenTableAddress() {
        return tokenTable;
    }

    @Override
    public String toString() {
        return "Kallsyms[" + size() + " symbols, token table at 0x" + Long.toHexString(tokenTable) + "]";
    }

    static byte[] digits() {
        return Arrays.copyOf(DIGITS, DIGITS.length);
    }
}
