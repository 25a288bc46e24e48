package dev.tickwatch.guest.btf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.guest.GuestLayoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Exact layouts and values from small hand-built blobs; malformed blobs; finding a blob in noise. */
class BtfTest {

    private static final byte[] DEMO = BtfSamples.demo();
    private final Btf btf = Btf.parse(DEMO);

    @Test
    void everyKindParses() {
        assertEquals(35, btf.typeCount());
        for (BtfKind k : BtfKind.values()) {
            if (k == BtfKind.VOID) {
                continue;
            }
            boolean present = false;
            for (int id = 1; id <= btf.typeCount(); id++) {
                present |= btf.type(id).kind() == k;
            }
            assertTrue(present, "no " + k + " in the sample");
        }
        assertEquals(BtfKind.VOID, btf.type(0).kind());
    }

    @Test
    void structWithBitfieldsAnonymousUnionAndTypedefs() {
        BtfComposite demo = btf.struct("demo");
        assertEquals("demo", demo.name());
        assertEquals(80, demo.size());
        assertFalse(demo.union());
        assertEquals(11, demo.members().size());
        assertEquals(new BtfMember("b", 1, 65, 3), demo.members().get(2));

        field("next_tick", 0, 0, 0, 8, "ktime_t", true);
        field("a", 8, 64, 1, 4, "unsigned int:1", false);
        field("b", 8, 65, 3, 4, "unsigned int:3", false);
        field("c", 8, 68, 4, 4, "int:4", true);
        field("whole", 16, 128, 0, 8, "long long unsigned int", false);
        field("lo", 16, 128, 0, 4, "int", true);
        field("hi", 20, 160, 0, 4, "int", true);
        field("comm", 24, 192, 0, 16, "char[16]", false);
        field("comm[3]", 27, 216, 0, 1, "char", true);
        field("state", 40, 320, 0, 4, "const volatile unsigned int", false);
        field("next", 48, 384, 0, 8, "struct demo *", false);
        field("st", 56, 448, 0, 4, "enum clock_event_state", false);
        field("event_handler", 64, 512, 0, 8, "void (*)(struct demo *)", false);
        field("opaque", 72, 576, 0, 8, "struct fwdonly *", false);

        BtfField next = btf.field("demo", "next_tick");
        assertEquals(BtfKind.INT, next.type().kind());
        assertEquals("long long int", next.type().name());
        assertEquals(BtfKind.TYPEDEF, btf.type(next.typeId()).kind());
    }

    private void field(String path, int offset, long bitOffset, int bitSize, int size, String type, boolean signed) {
        BtfField f = btf.field("demo", path);
        assertEquals(List.of(offset, bitOffset, bitSize, size, type, signed),
                List.of(f.offset(), f.bitOffset(), f.bitSize(), f.size(), f.typeName(), f.signed()), path);
    }

    @Test
    void readsValuesSignedUnsignedAndBitfields() {
        int at = 10;
        ByteBuffer img = ByteBuffer.allocate(100).order(ByteOrder.LITTLE_ENDIAN);
        img.putLong(at, -5L);
        // a=1 (bit 0), b=5 (bits 1-3), c=-3 (bits 4-7, two's complement 1101).
        img.put(at + 8, (byte) (1 | 5 << 1 | 0xd << 4));
        img.putLong(at + 16, 0x8000000100000002L);
        img.putInt(at + 40, 0xfffffff0);
        img.putLong(at + 48, 0xffff888001234560L);
        img.putInt(at + 56, 3);
        byte[] b = img.array();

        assertEquals(-5, btf.field("demo", "next_tick").read(b, at));
        assertEquals(1, btf.field("demo", "a").read(b, at));
        assertEquals(5, btf.field("demo", "b").read(b, at));
        assertEquals(-3, btf.field("demo", "c").read(b, at));
        assertEquals(0x8000000100000002L, btf.field("demo", "whole").read(b, at));
        assertEquals(2, btf.field("demo", "lo").read(b, at));
        assertEquals(-2147483647, btf.field("demo", "hi").read(b, at));
        assertEquals(0xfffffff0L, btf.field("demo", "state").read(b, at));
        assertEquals(0xffff888001234560L, btf.field("demo", "next").read(b, at));
        long st = btf.field("demo", "st").read(b, at);
        assertEquals(Optional.of("CLOCK_EVT_STATE_ONESHOT"), btf.enumName("clock_event_state", st));

        GuestLayoutException e = assertThrows(GuestLayoutException.class, () -> btf.field("demo", "comm").read(b, at));
        assertTrue(e.getMessage().contains("demo.comm is char[16]"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> btf.field("demo", "st").read(b, 50));
    }

    @Test
    void readsBitfieldsAcrossByteAndWordBoundaries() {
        BtfType u64 = btf.type(5);
        byte[] b = new byte[16];
        Arrays.fill(b, (byte) 0xff);
        b[0] = (byte) 0xf0;
        // 64 bits starting at bit 4: the low 4 bits of byte 0 are outside, the 9th byte inside.
        BtfField wide = new BtfField("x", "w", 0, 4, 64, 8, 5, u64, "long long unsigned int:64", false);
        assertEquals(0xffffffffffffffffL, wide.read(b, 0));
        b[8] = 0x0e; // bits 64..67 of the image are bits 60..63 of the field
        assertEquals(0xefffffffffffffffL, wide.read(b, 0));
        BtfField straddle = new BtfField("x", "s", 0, 6, 4, 4, 1, btf.type(1), "unsigned int:4", false);
        assertEquals(0b1100, straddle.read(new byte[] {(byte) 0x00, 0x03}, 0));
    }

    @Test
    void oldStyleBitfieldFromIntEncoding() {
        BtfField x = btf.field("old", "x");
        assertEquals(List.of(0, 5L, 3, "unsigned int:3"), List.of(x.offset(), x.bitOffset(), x.bitSize(), x.typeName()));
        assertEquals(6, x.read(new byte[] {(byte) 0b1100_0000, 0, 0, 0}, 0));
    }

    @Test
    void typedefOfAnonymousStruct() {
        BtfComposite irq = btf.struct("irq_cpustat_t");
        assertEquals(8, irq.size());
        assertEquals("", irq.name());
        assertEquals(4, btf.field("irq_cpustat_t", "apic_timer_irqs").offset());
    }

    @Test
    void enumsBothWays() {
        assertEquals(3, btf.enumValue("clock_event_state", "CLOCK_EVT_STATE_ONESHOT"));
        assertEquals(Optional.of("CLOCK_EVT_STATE_PERIODIC"), btf.enumName("clock_event_state", 2));
        assertEquals(Optional.empty(), btf.enumName("clock_event_state", 9));
        assertEquals(0xfffffffe00000001L, btf.enumValue("big", "HUGE"));
        assertEquals(8, btf.enumType("big").size());
        assertEquals(-2, btf.enumValue("sgn", "NEG"));
        assertTrue(btf.enumType("sgn").signed());
        // Read as unsigned 32 bits, a negative enumerator is still found.
        assertEquals(Optional.of("NEG"), btf.enumName("sgn", 0xfffffffeL));
        assertEquals(1, btf.constant("TICKDEV_MODE_ONESHOT"));

        GuestLayoutException e = assertThrows(GuestLayoutException.class,
                () -> btf.enumValue("clock_event_state", "CLOCK_EVT_STATE_BOGUS"));
        assertEquals("BTF enum clock_event_state has no enumerator 'CLOCK_EVT_STATE_BOGUS'", e.getMessage());
        assertEquals("BTF has no enum nope",
                assertThrows(GuestLayoutException.class, () -> btf.enumType("nope")).getMessage());
    }

    @Test
    void missingStructOrFieldIsNamed() {
        assertEquals("BTF has no struct tick_sched",
                assertThrows(GuestLayoutException.class, () -> btf.struct("tick_sched")).getMessage());
        assertEquals("BTF has no field 'foo' in struct demo",
                assertThrows(GuestLayoutException.class, () -> btf.field("demo", "foo")).getMessage());
        assertEquals("BTF has no field 'x' in int (demo.lo)",
                assertThrows(GuestLayoutException.class, () -> btf.field("demo", "lo.x")).getMessage()
                        .replace("BTF field demo.lo is int, not a struct or union, so it has no field 'x'",
                                "BTF has no field 'x' in int (demo.lo)"));
        assertThrows(GuestLayoutException.class, () -> btf.field("demo", "comm[16]"));
        assertThrows(GuestLayoutException.class, () -> btf.field("demo", "a.b"));
        assertEquals(Optional.empty(), btf.findField("demo", "foo"));
        assertEquals(Optional.empty(), btf.findField("nostruct", "foo"));
        assertEquals(56, btf.findField("demo", "st").orElseThrow().offset());
        assertFalse(btf.hasStruct("fwdonly"));
    }

    @Test
    void rendersTypesLikeC() {
        assertEquals("void", btf.typeName(0));
        assertEquals("int *", btf.typeName(btf.typeCount() - 1));
        assertEquals("struct demo *restrict", btf.typeName(btf.typeCount()));
        assertEquals("void (struct demo *)", btf.typeName(16));
        assertEquals("jiffies", btf.type(btf.typeId(BtfKind.VAR, "jiffies").getAsInt()).name());
        assertEquals(".data", btf.typeName(btf.typeId(BtfKind.DATASEC, ".data").getAsInt()));
        assertEquals(8, btf.size(btf.typeId(BtfKind.FLOAT, "double").getAsInt()));
    }

    @Test
    void describeListsMembersLikePahole() {
        List<BtfMemberRow> rows = btf.describe("demo");
        assertEquals(new BtfMemberRow(0, "c", "int:4", 8, 4, 68, 4, "int c:4"), rows.get(3));
        assertEquals(new BtfMemberRow(0, "", "union {...}", 16, 8, 128, 0, "union {...}"), rows.get(4));
        assertEquals(new BtfMemberRow(1, "whole", "long long unsigned int", 16, 8, 128, 0,
                "long long unsigned int whole"), rows.get(5));
        assertEquals(new BtfMemberRow(2, "hi", "int", 20, 4, 160, 0, "int hi"), rows.get(8));
        assertEquals("void (*event_handler)(struct demo *)", rows.get(13).declaration());
        assertEquals(15, rows.size());
        String text = btf.describeText("demo");
        assertTrue(text.startsWith("struct demo {\n\tktime_t next_tick;\t/* 0 8 */\n"), text);
        assertTrue(text.contains("\tint c:4;\t/* 8:4 4 */\n"), text);
        assertTrue(text.contains("\t\t\tint hi;\t/* 20 4 */\n"), text);
        assertTrue(text.endsWith("};\t/* size 80 */\n"), text);
        assertTrue(text.contains("\tunion {\t/* 16 8 */\n\t\tlong long unsigned int whole;\t/* 16 8 */\n"
                + "\t\tstruct {\t/* 16 8 */\n\t\t\tint lo;\t/* 16 4 */\n\t\t\tint hi;\t/* 20 4 */\n\t\t};\n\t};\n"
                + "\tchar comm[16];\t/* 24 16 */\n"), text);
        assertTrue(text.contains("\tstruct demo *next;\t/* 48 8 */\n"), text);
    }

    // ------------------------------------------------------------ malformed

    private static String malformed(byte[] blob) {
        return assertThrows(GuestLayoutException.class, () -> Btf.parse(blob)).getMessage();
    }

    private static byte[] patch(byte[] blob, int at, int value) {
        byte[] b = blob.clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, value);
        return b;
    }

    @Test
    void everyTruncationIsRejected() {
        for (int n = 0; n < DEMO.length; n++) {
            String msg = malformed(Arrays.copyOf(DEMO, n));
            assertTrue(msg.startsWith("malformed BTF: "), msg);
        }
    }

    @Test
    void badHeadersAreNamed() {
        byte[] magic = DEMO.clone();
        magic[0] = 0x12;
        assertEquals("malformed BTF: magic: 0xeb12 (expected: 0xeb9f)", malformed(magic));
        byte[] swapped = DEMO.clone();
        swapped[0] = (byte) 0xeb;
        swapped[1] = (byte) 0x9f;
        assertTrue(malformed(swapped).contains("big-endian"));
        byte[] version = DEMO.clone();
        version[2] = 2;
        assertEquals("malformed BTF: version: 2 (expected: 1)", malformed(version));
        byte[] flags = DEMO.clone();
        flags[3] = 1;
        assertTrue(malformed(flags).contains("flags: 1"));
        assertTrue(malformed(patch(DEMO, 4, 16)).contains("header length: 16"));
        assertTrue(malformed(patch(DEMO, 4, -1)).contains("header length: 4294967295"));
        assertTrue(malformed(patch(DEMO, 12, 0x7ffffff0)).contains("type section"));
        assertTrue(malformed(patch(DEMO, 20, -1)).contains("string section"));
        assertTrue(malformed(patch(DEMO, 8, 2)).contains("not 4-byte aligned"));
        assertTrue(malformed(patch(DEMO, 16, 0)).contains("overlaps"));
    }

    @Test
    void badStringsKindsAndReferencesAreNamed() {
        int types = 24;
        int strOff = ByteBuffer.wrap(DEMO).order(ByteOrder.LITTLE_ENDIAN).getInt(16);
        int strLen = ByteBuffer.wrap(DEMO).order(ByteOrder.LITTLE_ENDIAN).getInt(20);
        assertEquals("malformed BTF: type id 1 name offset " + strLen + " is outside the " + strLen
                + "-byte string section", malformed(patch(DEMO, types, strLen)));
        byte[] noNul = DEMO.clone();
        noNul[24 + strOff] = 'x';
        assertEquals("malformed BTF: string section does not start with NUL", malformed(noNul));
        byte[] noEnd = DEMO.clone();
        noEnd[noEnd.length - 1] = 'x';
        assertEquals("malformed BTF: string section does not end with NUL", malformed(noEnd));
        assertEquals("malformed BTF: type id 1 at type section offset 0 has unknown kind 25",
                malformed(patch(DEMO, types + 4, 25 << 24)));
        // Type 7 is typedef s64; point it past the last type.
        String ref = malformed(patch(DEMO, types + 6 * 16 + 8, 999));
        assertEquals("malformed BTF: type id 7 (TYPEDEF 's64') type is id 999, but the last type id is 35", ref);
        // A huge vlen on the first type runs past the section.
        assertTrue(malformed(patch(DEMO, types + 4, 4 << 24 | 0xffff)).contains("needs"));
    }

    @Test
    void typedefCycleIsReportedNotLooped() {
        BtfWriter w = new BtfWriter();
        w.typedef("a", 2);
        w.typedef("b", 1);
        w.struct("s", 4, false, BtfWriter.m("f", 1, 0));
        Btf cyc = Btf.parse(w.build());
        assertTrue(assertThrows(GuestLayoutException.class, () -> cyc.field("s", "f")).getMessage()
                .contains("deeper than 64"));
        assertEquals("a", cyc.typeName(1));
        assertThrows(GuestLayoutException.class, () -> cyc.resolve(1));
        assertThrows(GuestLayoutException.class, () -> cyc.size(1));
    }

    // ------------------------------------------------------------ find

    @Test
    void findsBlobAtOddOffsetInNoiseAfterFalseHits() {
        Random rnd = new Random(42);
        byte[] region = new byte[200_000];
        rnd.nextBytes(region);
        int at = 150_001;
        System.arraycopy(DEMO, 0, region, at, DEMO.length);
        // False hits before it: magic + version + flags + hdr_len, but sections that do not fit,
        // a string section not starting with NUL, and a truncated copy of the real header.
        plant(region, 1001, 0, 100, 100, 1 << 30);
        plant(region, 5003, 0, 16, 16, 8);
        region[5003 + 24 + 16] = 'x';
        plant(region, 7777, 0, 48, 48, 2);
        System.arraycopy(DEMO, 0, region, 90_001, DEMO.length - 20);

        assertEquals(Optional.of(new BtfLocation(at, DEMO.length)), Btf.find(region));
        assertArrayEquals(DEMO, Btf.find(region).orElseThrow().bytes(region));
    }

    private static void plant(byte[] region, int at, int typeOff, int typeLen, int strOff, int strLen) {
        ByteBuffer.wrap(region, at, 24).order(ByteOrder.LITTLE_ENDIAN)
                .putShort((short) 0xeb9f).put((byte) 1).put((byte) 0).putInt(24)
                .putInt(typeOff).putInt(typeLen).putInt(strOff).putInt(strLen);
        region[at + 24 + strOff] = 0;
        if (strLen > 0 && at + 24 + strOff + strLen - 1 < region.length) {
            region[at + 24 + strOff + strLen - 1] = 0;
        }
    }

    @Test
    void findRejectsNoiseOnly() {
        byte[] region = new byte[100_000];
        new Random(7).nextBytes(region);
        plant(region, 333, 0, 48, 48, 2);
        assertEquals(Optional.empty(), Btf.find(region));
        assertEquals(Optional.empty(), Btf.find(new byte[0]));
        assertEquals(Optional.of(new BtfLocation(0, DEMO.length)), Btf.find(DEMO));
    }
}
