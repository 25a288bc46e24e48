package dev.tickwatch.snapshot;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Tiny dumps laid out as QEMU 7.2's dump-guest-memory lays them out (dump/dump.c): an ELF core
 * (header, program headers with the PT_NOTE first, the notes, then memory) and a
 * kdump-compressed file (header block, sub-header with the notes right after it, two bitmaps,
 * page descriptors, page data). Per CPU QEMU writes an NT_PRSTATUS note named "CORE" with
 * pr_pid = CPU index + 1, then after all of them one "QEMU" note per CPU.
 */
final class FakeDumps {

    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final int BS = 4096;
    /** sizeof(struct elf_prstatus) on x86_64. */
    static final int PRSTATUS_SIZE = 336;
    /** sizeof(QEMUCPUState) in QEMU 7.2 (target/i386/arch_dump.c). */
    static final int QEMU_CPU_STATE = 0x1b8;

    private FakeDumps() {
    }

    /** A VMCOREINFO text as the kernel writes it, padded with more lines to {@code size} bytes. */
    static byte[] vmcoreinfo(String release, int size) {
        StringBuilder b = new StringBuilder("OSRELEASE=" + release + "\nBUILD-ID=0123456789abcdef\nPAGESIZE=4096\n"
                + "SYMBOL(init_uts_ns)=ffffffff82a13520\nSYMBOL(swapper_pg_dir)=ffffffff82a0c000\n"
                + "NUMBER(pgtable_l5_enabled)=0\nKERNELOFFSET=1000000\n"
                // The image at physical 0x100000 (the second fake segment): phys_base below zero, as KASLR can make it.
                + "SYMBOL(_stext)=ffffffff81000000\nNUMBER(phys_base)=-15728640\n");
        for (int i = 0; b.length() < size; i++) {
            b.append("OFFSET(filler_").append(i).append(")=").append(i * 8).append('\n');
        }
        b.setLength(size - 1);
        b.append('\n');
        return b.toString().getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] utsname(String release) {
        byte[] uts = new byte[VmcoreFacts.UTSNAME_BYTES];
        String[] fields = {"Linux", "(none)", release, "#1 SMP PREEMPT_DYNAMIC Debian 6.1.148-1", "x86_64", "(none)"};
        for (int i = 0; i < fields.length; i++) {
            byte[] f = fields[i].getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(f, 0, uts, i * VmcoreFacts.UTS_FIELD, f.length);
        }
        return uts;
    }

    /** QEMU's notes for {@code cpus} CPUs; each PRSTATUS carries a recognisable byte pattern besides its pid. */
    static byte[] qemuNotes(int cpus, byte[] extraNote) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < cpus; i++) {
            byte[] desc = new byte[PRSTATUS_SIZE];
            Arrays.fill(desc, (byte) (0x40 + i));
            ByteBuffer.wrap(desc).order(LE).putInt(ElfNotes.PRSTATUS_PID, i + 1);
            out.writeBytes(ElfNotes.encode("CORE", ElfNotes.NT_PRSTATUS, desc, LE, 4));
        }
        for (int i = 0; i < cpus; i++) {
            byte[] desc = new byte[QEMU_CPU_STATE];
            Arrays.fill(desc, (byte) (0x70 + i));
            out.writeBytes(ElfNotes.encode("QEMU", 0, desc, LE, 4));
        }
        if (extraNote != null) {
            out.writeBytes(extraNote);
        }
        return out.toByteArray();
    }

    /** A memory segment: physical address and its bytes. */
    record Segment(long paddr, byte[] data) {
    }

    static List<Segment> segments() {
        List<Segment> s = new ArrayList<>();
        byte[] low = new byte[3 * BS];
        byte[] high = new byte[2 * BS + 100];
        for (int i = 0; i < low.length; i++) {
            low[i] = (byte) (i * 7);
        }
        for (int i = 0; i < high.length; i++) {
            high[i] = (byte) (i * 13 + 1);
        }
        s.add(new Segment(0, low));
        s.add(new Segment(0x100000, high));
        return s;
    }

    /**
     * An ELF core: header, PT_NOTE then PT_LOADs, notes, memory. With {@code alignMemory} the
     * memory starts on a page (crash then calls the file KDUMP_ELF64), else right after the notes.
     */
    static byte[] elf(byte[] notes, List<Segment> segments, boolean alignMemory, boolean xnum) {
        int phnum = 1 + segments.size();
        int shnum = xnum ? 1 : 0;
        long phoff = 64;
        long shoff = phoff + 56L * phnum;
        long noteOff = shoff + 64L * shnum;
        long memOff = noteOff + notes.length;
        if (alignMemory) {
            memOff = (memOff + BS - 1) / BS * BS;
        }
        long total = memOff + segments.stream().mapToLong(s -> s.data().length).sum();
        ByteBuffer b = ByteBuffer.allocate((int) total).order(LE);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
        b.putShort(16, (short) 4).putShort(18, (short) 62).putInt(20, 1);
        b.putLong(32, phoff).putLong(40, xnum ? shoff : 0);
        b.putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) (xnum ? 0xffff : phnum));
        b.putShort(58, (short) 64).putShort(60, (short) shnum);
        if (xnum) {
            b.putInt((int) shoff + 44, phnum); // sh_info of section 0
        }
        int at = (int) phoff;
        b.putInt(at, 4).putLong(at + 8, noteOff).putLong(at + 32, notes.length).putLong(at + 40, notes.length);
        long off = memOff;
        for (Segment s : segments) {
            at += 56;
            b.putInt(at, 1).putInt(at + 4, 7).putLong(at + 8, off).putLong(at + 16, 0).putLong(at + 24, s.paddr())
                    .putLong(at + 32, s.data().length).putLong(at + 40, s.data().length).putLong(at + 48, 0);
            b.put((int) off, s.data());
            off += s.data().length;
        }
        b.put((int) noteOff, notes);
        return b.array();
    }

    /** A kdump file: its bytes and the page contents each dumpable pfn has. */
    record Kdump(byte[] bytes, long[] pfns, byte[][] pages) {
    }

    /**
     * A kdump-compressed file of header version 6 with {@code pfns} dumped (stored uncompressed,
     * descriptor flags 0; a page of zeroes shared by every zero page, as QEMU does).
     */
    static Kdump kdump(byte[] notes, long[] pfns, long maxMapnr, long vmcoreinfoOffset, long vmcoreinfoSize) {
        int subSize = 104;
        long noteOff = BS + subSize;
        int subBlocks = (int) ((subSize + notes.length + BS - 1) / BS);
        int bitmapBytes = (int) ((maxMapnr + 7) / 8);
        int bitmapBlocks = 2 * ((bitmapBytes + BS - 1) / BS);
        long bitmapAt = (long) (1 + subBlocks) * BS;
        long descAt = bitmapAt + (long) bitmapBlocks * BS;
        long dataAt = descAt + 24L * pfns.length;
        byte[][] pages = new byte[pfns.length][];
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        data.writeBytes(new byte[BS]); // the shared zero page
        long[] offsets = new long[pfns.length];
        for (int i = 0; i < pfns.length; i++) {
            byte[] p = new byte[BS];
            if (i % 3 != 2) {
                Arrays.fill(p, (byte) (pfns[i] * 5 + 1));
                offsets[i] = dataAt + data.size();
                data.writeBytes(p);
            } else {
                offsets[i] = dataAt;
            }
            pages[i] = p;
        }
        ByteBuffer b = ByteBuffer.allocate((int) (dataAt + data.size())).order(LE);
        b.put(KdumpHeader.SIGNATURE.getBytes(StandardCharsets.US_ASCII));
        b.putInt(8, 6);
        b.put(12 + 4 * 65, "x86_64".getBytes(StandardCharsets.US_ASCII));
        b.putInt(424, 0).putInt(428, BS).putInt(432, subBlocks).putInt(436, bitmapBlocks).putInt(440, (int) maxMapnr);
        b.putInt(460, 2);
        b.putLong(BS + 32, vmcoreinfoOffset).putLong(BS + 40, vmcoreinfoSize);
        b.putLong(BS + 48, noteOff).putLong(BS + 56, notes.length).putLong(BS + 96, maxMapnr);
        b.put((int) noteOff, notes);
        for (long pfn : pfns) {
            for (long half : new long[] {0, (long) bitmapBlocks * BS / 2}) {
                int at = (int) (bitmapAt + half + pfn / 8);
                b.put(at, (byte) (b.get(at) | (1 << (pfn % 8))));
            }
        }
        for (int i = 0; i < pfns.length; i++) {
            b.putLong((int) (descAt + 24L * i), offsets[i]).putInt((int) (descAt + 24L * i + 8), BS);
        }
        b.put((int) dataAt, data.toByteArray());
        return new Kdump(b.array(), pfns, pages);
    }
}
