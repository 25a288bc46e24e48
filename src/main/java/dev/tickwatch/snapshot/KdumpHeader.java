package dev.tickwatch.snapshot;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The header of a kdump-compressed dump ("diskdump" format, as crash's diskdump.h and QEMU's
 * include/sysemu/dump.h define {@code disk_dump_header} / {@code DiskDumpHeader64}), enough to
 * tell that a vmcore is a real one: signature {@code "KDUMP   "}, header version, the utsname
 * QEMU fills in, block size, and the counts that follow. The layout is the 64-bit one with
 * {@code timestamp} taking 22 bytes, so {@code status} lands at 424 either way; integers are in
 * the guest's byte order (little-endian on x86). The sub-header starts at the second block.
 *
 * @param noteOffset    kdump_sub_header.offset_note: where the ELF notes (one NT_PRSTATUS per CPU) lie
 * @param noteSize      kdump_sub_header.note_size
 * @param notesLookValid the first note at noteOffset has the name "CORE" (a check that data past
 *                       the header landed where the header says)
 * @param vmcoreinfoOffset kdump_sub_header.offset_vmcoreinfo: where the VMCOREINFO text lies (0: none)
 * @param vmcoreinfoSize   kdump_sub_header.size_vmcoreinfo
 */
public record KdumpHeader(String signature, int headerVersion, String sysname, String release, String machine,
        int status, int blockSize, int subHeaderSize, int bitmapBlocks, long maxMapnr, int nrCpus,
        long noteOffset, long noteSize, boolean notesLookValid, long vmcoreinfoOffset, long vmcoreinfoSize) {

    public static final String SIGNATURE = "KDUMP   ";
    private static final int UTS_FIELD = 65;

    /** Status bits: how pages are compressed. */
    public static final int COMPRESSED_ZLIB = 0x1;

    /** Reads and checks the header of {@code file}. */
    public static KdumpHeader read(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(4096);
        }
        if (head.length < 464) {
            throw new SnapshotException(file + ": " + head.length + " bytes, too short for a kdump header");
        }
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        String sig = new String(head, 0, 8, StandardCharsets.US_ASCII);
        if (!SIGNATURE.equals(sig)) {
            throw new SnapshotException(file + ": signature '" + sig.replaceAll("\\p{Cntrl}", "?")
                    + "' (expected: '" + SIGNATURE + "')");
        }
        int version = b.getInt(8);
        String sysname = cString(head, 12);
        String release = cString(head, 12 + 2 * UTS_FIELD);
        String machine = cString(head, 12 + 4 * UTS_FIELD);
        int status = b.getInt(424);
        int blockSize = b.getInt(428);
        int subHeaderSize = b.getInt(432);
        int bitmapBlocks = b.getInt(436);
        long maxMapnr = Integer.toUnsignedLong(b.getInt(440));
        int nrCpus = b.getInt(460);
        if (blockSize <= 0 || blockSize > (1 << 20) || Integer.bitCount(blockSize) != 1) {
            throw new SnapshotException(file + ": block size " + blockSize + " (expected: a power of two)");
        }
        long noteOffset = 0;
        long noteSize = 0;
        long vmcoreinfoOffset = 0;
        long vmcoreinfoSize = 0;
        boolean notesValid = false;
        if (version >= 4) {
            byte[] sub = new byte[128];
            try (var ch = java.nio.channels.FileChannel.open(file)) {
                ch.read(ByteBuffer.wrap(sub), blockSize);
                ByteBuffer s = ByteBuffer.wrap(sub).order(ByteOrder.LITTLE_ENDIAN);
                // kdump_sub_header (64-bit): phys_base 0, dump_level 8, split 12, start_pfn 16, end_pfn 24,
                // offset_vmcoreinfo 32, size_vmcoreinfo 40, offset_note 48, note_size 56.
                vmcoreinfoOffset = s.getLong(32);
                vmcoreinfoSize = s.getLong(40);
                noteOffset = s.getLong(48);
                noteSize = s.getLong(56);
                if (noteOffset > 0 && noteSize >= 20) {
                    byte[] note = new byte[20];
                    ch.read(ByteBuffer.wrap(note), noteOffset);
                    ByteBuffer n = ByteBuffer.wrap(note).order(ByteOrder.LITTLE_ENDIAN);
                    // Elf64_Nhdr: namesz, descsz, type; then the name.
                    notesValid = n.getInt(0) == 5 && new String(note, 12, 4, StandardCharsets.US_ASCII).equals("CORE");
                }
            }
        }
        return new KdumpHeader(sig, version, sysname, release, machine, status, blockSize, subHeaderSize,
                bitmapBlocks, maxMapnr, nrCpus, noteOffset, noteSize, notesValid, vmcoreinfoOffset, vmcoreinfoSize);
    }

    private static String cString(byte[] b, int at) {
        int end = at;
        while (end < at + UTS_FIELD && b[end] != 0) {
            end++;
        }
        return new String(b, at, end - at, StandardCharsets.US_ASCII);
    }
}
