package dev.tickwatch.guest.sym;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.guest.GuestLayoutException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * Kallsyms decoded from images laid out the way scripts/kallsyms.c writes them in the orders that
 * exist: 6.1 (offsets first, no seqs), 6.2 and 6.1 stable backports (seqs before the token table),
 * and 6.4+ (names first, offsets after the token index).
 */
public class KallsymsTest {

    public static final long BASE = 0xffffffff81000000L;

    public enum Layout { V6_1, V6_2_SEQS, V6_4 }

    public record Sym(long address, char type, String name) {
    }

    /** A kernel-like symbol set: absolute per-CPU symbols, then text and data in address order. */
    public static List<Sym> symbols(int count) {
        List<Sym> out = new ArrayList<>();
        out.add(new Sym(0x0, 'A', "fixed_percpu_data"));
        out.add(new Sym(0x1000, 'A', "cpu_debug_store"));
        out.add(new Sym(0x1b080, 'A', "current_task"));
        long a = BASE;
        Random r = new Random(7);
        String[] parts = {"tick_", "sched", "hrtimer_", "idle", "lock", "_slowpath", "irq", "cpu", "jiffies", "x86_"};
        out.add(new Sym(a, 'T', "_text"));
        for (int i = 0; i < count; i++) {
            a += 16 + r.nextInt(400);
            StringBuilder n = new StringBuilder();
            for (int p = 0; p < 1 + r.nextInt(4); p++) {
                n.append(parts[r.nextInt(parts.length)]);
            }
            n.append(i);
            out.add(new Sym(a, r.nextBoolean() ? 'T' : 't', n.toString()));
        }
        // One name longer than 127 bytes: the two-byte length form.
        out.add(new Sym(a + 32, 'T', "x".repeat(200)));
        out.add(new Sym(a + 64, 'T', "default_idle"));
        out.add(new Sym(a + 80, 'T', "_etext"));
        out.add(new Sym(a + 0x1000, 'D', "jiffies_64"));
        out.add(new Sym(a + 0x2000, 'B', "_end"));
        return out;
    }

    /** Writes the tables into an image and returns it; the tables start at {@code at} (8-aligned). */
    public static byte[] image(List<Sym> syms, Layout layout, int at, int size) {
        String[] tokens = new String[256];
        for (int c = 0; c < 256; c++) {
            tokens[c] = String.valueOf((char) c);
        }
        tokens[0] = "__";
        tokens[1] = "tick_";
        tokens[2] = "hrtimer_";
        tokens[3] = "_slowpath";
        ByteArrayOutputStream names = new ByteArrayOutputStream();
        List<Integer> markers = new ArrayList<>();
        for (int i = 0; i < syms.size(); i++) {
            if (i % 256 == 0) {
                markers.add(names.size());
            }
            byte[] enc = compress(syms.get(i).type() + syms.get(i).name(), tokens);
            if (enc.length > 127) {
                names.write(0x80 | (enc.length & 0x7f));
                names.write(enc.length >> 7);
            } else {
                names.write(enc.length);
            }
            names.writeBytes(enc);
        }
        long relativeBase = syms.stream().filter(s -> s.type() != 'A').mapToLong(Sym::address).min().orElseThrow();
        W w = new W(size, at);
        Runnable offsets = () -> {
            w.align();
            for (Sym s : syms) {
                w.u32(s.type() == 'A' ? (int) s.address() : (int) (relativeBase - 1 - s.address()));
            }
            w.align();
            w.u64(relativeBase);
        };
        Runnable namesAndMarkers = () -> {
            w.align();
            w.u32(syms.size());
            w.align();
            w.bytes(names.toByteArray());
            w.align();
            markers.forEach(w::u32);
        };
        Runnable seqs = () -> {
            w.align();
            for (int i = 0; i < syms.size(); i++) {
                w.bytes(new byte[] {0, (byte) (i >> 8), (byte) i});
            }
        };
        Runnable tokenTables = () -> {
            w.align();
            int[] index = new int[256];
            int start = w.pos;
            for (int c = 0; c < 256; c++) {
                index[c] = w.pos - start;
                w.bytes(tokens[c].getBytes(StandardCharsets.ISO_8859_1));
                w.bytes(new byte[] {0});
            }
            w.align();
            for (int c = 0; c < 256; c++) {
                w.u16(index[c]);
            }
        };
        switch (layout) {
            case V6_1 -> {
                offsets.run();
                namesAndMarkers.run();
                tokenTables.run();
            }
            case V6_2_SEQS -> {
                offsets.run();
                namesAndMarkers.run();
                seqs.run();
                tokenTables.run();
            }
            case V6_4 -> {
                namesAndMarkers.run();
                tokenTables.run();
                offsets.run();
                seqs.run();
            }
        }
        return w.out;
    }

    private static byte[] compress(String s, String[] tokens) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int i = 0;
        outer:
        while (i < s.length()) {
            for (int c = 0; c < 4; c++) {
                if (s.startsWith(tokens[c], i)) {
                    b.write(c);
                    i += tokens[c].length();
                    continue outer;
                }
            }
            b.write(s.charAt(i++));
        }
        return b.toByteArray();
    }

    /** A little-endian writer into a fixed image filled with noise. */
    static final class W {
        final byte[] out;
        int pos;

        W(int size, int at) {
            out = new byte[size];
            new Random(1).nextBytes(out);
            pos = at;
        }

        void align() {
            while (pos % 8 != 0) {
                out[pos++] = 0;
            }
        }

        void bytes(byte[] b) {
            System.arraycopy(b, 0, out, pos, b.length);
            pos += b.length;
        }

        void u16(int v) {
            out[pos++] = (byte) v;
            out[pos++] = (byte) (v >> 8);
        }

        void u32(int v) {
            u16(v);
            u16(v >>> 16);
        }

        void u64(long v) {
            u32((int) v);
            u32((int) (v >>> 32));
        }
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void decodesEveryLayoutTheKernelHasUsed(Layout layout) {
        List<Sym> syms = symbols(3000);
        byte[] img = image(syms, layout, 0x10008, 1 << 20);
        // A decoy "0".."9" run earlier in the image, as rodata has: it must be rejected, not believed.
        byte[] decoy = Kallsyms.digits();
        System.arraycopy(decoy, 0, img, 0x100, decoy.length);
        Kallsyms k = Kallsyms.find(Image.of(BASE, img));
        assertEquals(syms.size(), k.size());
        for (int i = 0; i < syms.size(); i++) {
            Symbol s = k.symbol(i);
            assertEquals(syms.get(i).name(), s.name(), "name " + i);
            assertEquals(syms.get(i).address(), s.address(), syms.get(i).name());
            assertEquals(syms.get(i).type(), s.type(), syms.get(i).name());
        }
        long idle = k.require("default_idle");
        SymbolOffset at = k.lookup(idle + 0xb).orElseThrow();
        assertEquals("default_idle+0xb/0x10", at.toString());
        assertEquals(0x1b080L, k.require("current_task"), "absolute per-CPU values stay absolute");
        assertTrue(k.lookup(0x1b080L).isEmpty(), "a per-CPU offset is not a text address");
        assertTrue(k.isKernelText(idle));
        assertEquals(200, k.namesStartingWith("xx", 5).get(0).length(), "a name in the two-byte length form");
    }

    /**
     * Another boot of the same build (another KASLR slide) reuses the decoded table: the slid one
     * must answer every query as the same tables decoded at the new place do, per-CPU values
     * unmoved, while the table it came from keeps its own addresses.
     */
    @Test
    void aSlidTableAnswersAsTheTablesDecodedAtTheNewPlace() {
        long delta = 0x2a00000L;
        List<Sym> syms = symbols(3000);
        List<Sym> moved = syms.stream().map(x -> new Sym(x.address() < 0 ? x.address() + delta : x.address(), x.type(), x.name()))
                .toList();
        Kallsyms here = Kallsyms.find(Image.of(BASE, image(syms, Layout.V6_1, 0x10008, 1 << 20)));
        Kallsyms there = Kallsyms.find(Image.of(BASE + delta, image(moved, Layout.V6_1, 0x10008, 1 << 20)));
        Kallsyms slid = here.slide(delta);
        assertEquals(there.tokenTableAddress(), slid.tokenTableAddress());
        assertEquals(there.size(), slid.size());
        for (int i = 0; i < there.size(); i++) {
            String name = there.symbol(i).name();
            assertEquals(there.symbol(i), slid.symbol(i), name);
            assertEquals(there.addressOf(name), slid.addressOf(name), name);
            long a = there.symbol(i).address();
            assertEquals(there.lookup(a + 3), slid.lookup(a + 3), name);
            assertEquals(there.isKernelText(a), slid.isKernelText(a), name);
        }
        assertEquals(0x1b080L, slid.require("current_task"), "absolute per-CPU values do not slide");
        assertEquals(BASE, here.require("_text"), "the table slid from is unchanged");
        assertEquals(BASE + delta, slid.require("_text"));
        assertEquals(there.hasDataSymbols(), slid.hasDataSymbols());
    }

    @Test
    void imageWithoutTablesSaysWhatIsMissingAndWhatStillWorks() {
        byte[] noise = new byte[1 << 16];
        new Random(3).nextBytes(noise);
        GuestLayoutException e = assertThrows(GuestLayoutException.class, () -> Kallsyms.find(Image.of(BASE, noise)));
        assertTrue(e.getMessage().contains("no kallsyms token table"), e.getMessage());
        assertTrue(e.getMessage().contains("registers, LAPIC state"), e.getMessage());
    }

    @Test
    void truncatedTablesAreRejectedWithTheCandidateNamed() {
        byte[] img = image(symbols(600), Layout.V6_1, 0x1008, 1 << 18);
        // Cut the image just after the token table's digits: the index is gone.
        int digits = indexOf(img, Kallsyms.digits());
        byte[] cut = java.util.Arrays.copyOf(img, digits + 40);
        GuestLayoutException e = assertThrows(GuestLayoutException.class, () -> Kallsyms.find(Image.of(BASE, cut)));
        assertTrue(e.getMessage().contains("candidates rejected: 0x" + Long.toHexString(BASE + digits)), e.getMessage());
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
