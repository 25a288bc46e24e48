package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The flattened-to-kdump rearranger and the kdump header reader, on synthetic files. */
class FlattenedDumpTest {

    @TempDir
    Path dir;

    /** A flattened stream: the 4 KiB header, then {offset, size, data} records, big-endian. */
    private static final class Flat {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final DataOutputStream out = new DataOutputStream(bytes);

        Flat() throws IOException {
            byte[] header = new byte[FlattenedDump.HEADER_SIZE];
            byte[] sig = FlattenedDump.SIGNATURE.getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(sig, 0, header, 0, sig.length);
            ByteBuffer.wrap(header).putLong(16, 1).putLong(24, 1);
            out.write(header);
        }

        Flat record(long offset, byte[] data) throws IOException {
            out.writeLong(offset);
            out.writeLong(data.length);
            out.write(data);
            return this;
        }

        byte[] end() throws IOException {
            out.writeLong(-1);
            out.writeLong(-1);
            return bytes.toByteArray();
        }

        byte[] cut() {
            return bytes.toByteArray();
        }
    }

    @Test
    void recordsLandAtTheirOffsetsWhateverTheirOrder() throws IOException {
        Random r = new Random(7);
        byte[] expected = new byte[3 * 4096 + 100];
        r.nextBytes(expected);
        // Out of order, one record rewritten later (QEMU rewrites the header at the end), a gap-free cover.
        Flat f = new Flat()
                .record(4096, Arrays.copyOfRange(expected, 4096, 8192))
                .record(0, new byte[4096])
                .record(8192, Arrays.copyOfRange(expected, 8192, expected.length))
                .record(0, Arrays.copyOfRange(expected, 0, 4096));
        Path flat = dir.resolve("flat");
        Files.write(flat, f.end());
        assertTrue(FlattenedDump.isFlattened(flat));
        Path out = dir.resolve("out");
        assertEquals(expected.length, FlattenedDump.rearrange(flat, out));
        assertArrayEquals(expected, Files.readAllBytes(out));
    }

    @Test
    void aRecordLargerThanTheCopyBufferIsCopiedWhole() throws IOException {
        byte[] big = new byte[200_000];
        new Random(1).nextBytes(big);
        Path flat = dir.resolve("flat");
        Files.write(flat, new Flat().record(10, big).end());
        Path out = dir.resolve("out");
        FlattenedDump.rearrange(flat, out);
        byte[] got = Files.readAllBytes(out);
        assertEquals(10 + big.length, got.length);
        assertArrayEquals(new byte[10], Arrays.copyOf(got, 10), "a hole reads as zeros");
        assertArrayEquals(big, Arrays.copyOfRange(got, 10, got.length));
    }

    @Test
    void aStreamWithoutTheEndMarkerIsRefused() throws IOException {
        Path flat = dir.resolve("flat");
        Files.write(flat, new Flat().record(0, new byte[16]).cut());
        SnapshotException e = assertThrows(SnapshotException.class, () -> FlattenedDump.rearrange(flat, dir.resolve("out")));
        assertTrue(e.getMessage().contains("without the end marker"), e.getMessage());
    }

    @Test
    void aRecordCutShortIsRefused() throws IOException {
        Path flat = dir.resolve("flat");
        byte[] whole = new Flat().record(0, new byte[100]).end();
        Files.write(flat, Arrays.copyOf(whole, FlattenedDump.HEADER_SIZE + 16 + 50));
        SnapshotException e = assertThrows(SnapshotException.class, () -> FlattenedDump.rearrange(flat, dir.resolve("out")));
        assertTrue(e.getMessage().contains("cut short"), e.getMessage());
    }

    @Test
    void aNegativeSizeIsRefused() throws IOException {
        Flat f = new Flat();
        f.out.writeLong(0);
        f.out.writeLong(-5);
        Path flat = dir.resolve("flat");
        Files.write(flat, f.cut());
        SnapshotException e = assertThrows(SnapshotException.class, () -> FlattenedDump.rearrange(flat, dir.resolve("out")));
        assertTrue(e.getMessage().contains("size -5"), e.getMessage());
    }

    @Test
    void aFileWithoutTheSignatureIsNotFlattened() throws IOException {
        Path plain = dir.resolve("plain");
        byte[] kdump = new byte[8192];
        System.arraycopy("KDUMP   ".getBytes(StandardCharsets.US_ASCII), 0, kdump, 0, 8);
        Files.write(plain, kdump);
        assertFalse(FlattenedDump.isFlattened(plain));
        SnapshotException e = assertThrows(SnapshotException.class, () -> FlattenedDump.rearrange(plain, dir.resolve("out")));
        assertTrue(e.getMessage().contains("not a flattened dump"), e.getMessage());
    }

    @Test
    void theRearrangedKdumpHeaderParses() throws IOException {
        int block = 4096;
        ByteBuffer h = ByteBuffer.allocate(block).order(ByteOrder.LITTLE_ENDIAN);
        h.put("KDUMP   ".getBytes(StandardCharsets.US_ASCII));
        h.putInt(8, 6);
        putString(h, 12, "Linux");
        putString(h, 12 + 2 * 65, "6.1.0-56-cloud-amd64");
        putString(h, 12 + 4 * 65, "x86_64");
        h.putInt(424, KdumpHeader.COMPRESSED_ZLIB).putInt(428, block).putInt(432, 1).putInt(436, 16)
                .putInt(440, 65536).putInt(460, 2);
        ByteBuffer sub = ByteBuffer.allocate(block).order(ByteOrder.LITTLE_ENDIAN);
        long noteOffset = 2L * block;
        sub.putLong(48, noteOffset).putLong(56, 0x150);
        ByteBuffer note = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        note.putInt(0, 5).putInt(4, 0x150).putInt(8, 1);
        note.put(12, "CORE".getBytes(StandardCharsets.US_ASCII));
        Path flat = dir.resolve("flat");
        // The notes first and the header last, as QEMU's writer may order them.
        Files.write(flat, new Flat().record(noteOffset, note.array()).record(block, sub.array()).record(0, h.array()).end());
        Path out = dir.resolve("vmcore");
        FlattenedDump.rearrange(flat, out);
        KdumpHeader k = KdumpHeader.read(out);
        assertEquals(KdumpHeader.SIGNATURE, k.signature());
        assertEquals(6, k.headerVersion());
        assertEquals("Linux", k.sysname());
        assertEquals("6.1.0-56-cloud-amd64", k.release());
        assertEquals("x86_64", k.machine());
        assertEquals(block, k.blockSize());
        assertEquals(65536, k.maxMapnr());
        assertEquals(2, k.nrCpus());
        assertEquals(noteOffset, k.noteOffset());
        assertTrue(k.notesLookValid());
    }

    @Test
    void theFlattenedFileItselfIsNotAKdumpFile() throws IOException {
        Path flat = dir.resolve("flat");
        Files.write(flat, new Flat().record(0, new byte[4096]).end());
        SnapshotException e = assertThrows(SnapshotException.class, () -> KdumpHeader.read(flat));
        assertTrue(e.getMessage().contains("expected: 'KDUMP   '"), e.getMessage());
    }

    private static void putString(ByteBuffer b, int at, String s) {
        byte[] x = s.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < x.length; i++) {
            b.put(at + i, x[i]);
        }
    }
}
