package dev.tickwatch.guest.btf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A kernel-sized BTF blob, checked against layouts that have not changed in years: always one
 * the test builds ({@link BtfSamples#kernelLike}), and the running host kernel's own
 * ({@code /sys/kernel/btf/vmlinux}, ~100k types) when this host has one readable. How fast a
 * blob parses is a benchmark's question, not this test's.
 */
class BtfHostKernelTest {

    private static final Path VMLINUX = Path.of("/sys/kernel/btf/vmlinux");

    private static byte[] blob(String source) {
        if (source.equals("built")) {
            return BtfSamples.kernelLike();
        }
        assumeTrue(Files.isReadable(VMLINUX), "no readable " + VMLINUX + " on this host");
        try {
            return Files.readAllBytes(VMLINUX);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"built", "host"})
    void stableLayouts(String source) {
        Btf btf = Btf.parse(blob(source));
        BtfComposite listHead = btf.struct("list_head");
        assertEquals(16, listHead.size());
        assertEquals(0, btf.field("list_head", "next").offset());
        assertEquals(8, btf.field("list_head", "prev").offset());
        assertEquals("struct list_head *", btf.field("list_head", "next").typeName());

        BtfField comm = btf.field("task_struct", "comm");
        assertEquals("char[16]", comm.typeName());
        assertEquals(16, comm.size());
        assertEquals(BtfKind.ARRAY, comm.type().kind());
        BtfField state = btf.field("task_struct", "__state");
        assertEquals(4, state.size());
        assertTrue(state.offset() < comm.offset(), "__state after comm");
        assertEquals(3, btf.enumValue("clock_event_state", "CLOCK_EVT_STATE_ONESHOT"));
        assertEquals(Optional.of("CLOCK_EVT_STATE_ONESHOT"), btf.enumName("clock_event_state", 3));
        assertTrue(btf.typeCount() > 10_000, "only " + btf.typeCount() + " types");
    }

    @ParameterizedTest
    @ValueSource(strings = {"built", "host"})
    void everyTypeRendersAndEveryStructDescribes(String source) {
        Btf btf = Btf.parse(blob(source));
        int structs = 0;
        for (int id = 1; id <= btf.typeCount(); id++) {
            BtfType t = btf.type(id);
            assertTrue(btf.typeName(id).length() > 0, "type id " + id);
            btf.size(id);
            if (t.kind().isComposite()) {
                List<BtfMemberRow> rows = btf.describe(id);
                assertEquals(t.vlen() == 0, rows.isEmpty(), "type id " + id);
                structs++;
            }
        }
        assertTrue(structs > 1000, structs + " structs");
        String text = btf.describeText("list_head");
        assertEquals("struct list_head {\n\tstruct list_head *next;\t/* 0 8 */\n"
                + "\tstruct list_head *prev;\t/* 8 8 */\n};\t/* size 16 */\n", text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"built", "host"})
    void findsItInsideAnImage(String source) {
        byte[] blob = blob(source);
        byte[] region = new byte[blob.length + 4099];
        System.arraycopy(blob, 0, region, 4097, blob.length);
        assertEquals(Optional.of(new BtfLocation(4097, blob.length)), Btf.find(region));
    }
}
