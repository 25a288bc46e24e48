package dev.tickwatch.guest.btf;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.guest.GuestLayoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;

/**
 * Property tests on random and mutated blobs: parsing, and every lookup on whatever parses, only
 * ever fails with {@link GuestLayoutException} (never an index, arithmetic or stack overflow
 * error, never a hang); {@link Btf#find} never fails at all.
 */
class BtfFuzzTest {

    private static final byte[] DEMO = BtfSamples.demo();

    /** Parses {@code blob}; if that works, walks every type the way the CLI and readers would. */
    private static boolean exercise(byte[] blob) {
        Btf btf;
        try {
            btf = Btf.parse(blob);
        } catch (GuestLayoutException expected) {
            assertTrue(expected.getMessage().startsWith("malformed BTF: "), expected.getMessage());
            return false;
        }
        byte[] image = new byte[256];
        for (int id = 0; id <= btf.typeCount(); id++) {
            int typeId = id;
            quietly(() -> btf.typeName(typeId));
            quietly(() -> btf.size(typeId));
            quietly(() -> btf.resolve(typeId));
            BtfType t = btf.type(id);
            if (t.kind().isEnum()) {
                quietly(() -> btf.enumType(typeId).name(3));
            }
            if (t.kind().isComposite()) {
                quietly(() -> btf.describe(typeId));
                if (!t.name().isEmpty() && btf.hasStruct(t.name())) {
                    quietly(() -> btf.describeText(t.name()));
                    BtfComposite c = btf.struct(t.name());
                    for (BtfMember m : c.members()) {
                        // field() takes a path ("a.b", "a[3]"): a mutated name with a dot or a
                        // bracket in it is a path (maybe a bad one, rejected as a caller's error),
                        // not one member.
                        if (!m.name().isEmpty() && m.name().chars().noneMatch(ch -> ch == '.' || ch == '[' || ch == ']')) {
                            quietly(() -> {
                                BtfField f = btf.field(t.name(), m.name());
                                if (f.isScalar() && f.offset() + f.size() + 1 < image.length) {
                                    f.read(image, 0);
                                }
                                return f;
                            });
                        }
                    }
                }
            }
        }
        return true;
    }

    private interface Call {
        Object run();
    }

    private static void quietly(Call call) {
        try {
            call.run();
        } catch (GuestLayoutException expected) {
            // The one exception a bad blob may cause.
        }
    }

    @Property(tries = 500)
    void randomBytesOnlyGiveLayoutErrors(@ForAll @Size(max = 4000) byte[] data) {
        exercise(data);
        assertTrue(Btf.find(data).isEmpty() || Btf.find(data).get().length() <= data.length);
    }

    @Property(tries = 500)
    void randomBodiesBehindAValidHeaderOnlyGiveLayoutErrors(@ForAll @Size(max = 2000) byte[] body,
            @ForAll @IntRange(max = 2000) int typeLen, @ForAll @IntRange(max = 2000) int strLen) {
        ByteBuffer b = ByteBuffer.allocate(24 + body.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) 0xeb9f).put((byte) 1).put((byte) 0).putInt(24)
                .putInt(0).putInt(typeLen & ~3).putInt(typeLen & ~3).putInt(strLen).put(body);
        exercise(b.array());
    }

    @Property(tries = 1000)
    void mutatedSampleOnlyGivesLayoutErrors(@ForAll @Size(min = 1, max = 8) List<@IntRange(max = 100_000) Integer> at,
            @ForAll @Size(min = 8, max = 8) List<Integer> values, @ForAll @IntRange(max = 100) int cut) {
        byte[] blob = DEMO.clone();
        ByteBuffer b = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < at.size(); i++) {
            int pos = at.get(i) % (blob.length - 3);
            if (i % 2 == 0) {
                // A whole field (offset, id, length, info word); mostly small, so ids and offsets stay plausible.
                b.putInt(pos & ~3, i % 4 == 0 ? values.get(i) : values.get(i) & 0x3f);
            } else {
                blob[pos] ^= (byte) (1 << (values.get(i) & 7));
            }
        }
        boolean parsed = exercise(cut < 10 ? Arrays.copyOf(blob, blob.length - cut) : blob);
        // Enough mutants must parse for the lookups above to be exercised at all.
        Statistics.label("parsed").collect(parsed);
        Statistics.label("parsed").coverage(c -> c.check(true).percentage(p -> p > 5));
        byte[] region = new byte[blob.length + 64];
        System.arraycopy(blob, 0, region, 33, blob.length);
        Btf.find(region);
    }
}
