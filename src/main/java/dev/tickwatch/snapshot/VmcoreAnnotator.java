package dev.tickwatch.snapshot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Makes QEMU's vmcore one that drgn and crash open as a Linux kernel dump: writes a copy of
 * {@code in} to {@code out} with the VMCOREINFO note the kernel keeps for kdump (QEMU writes it
 * only with {@code -device vmcoreinfo} and the guest's fw_cfg driver loaded), the pr_pid of each
 * NT_PRSTATUS note set to the pid of the task that CPU ran (QEMU writes 1, 2, ...: drgn takes a
 * CPU's registers for a task only when the pids match, so it unwound idle CPUs from stale switch
 * frames) and, for kdump-compressed files, the header's utsname (QEMU fills only the machine).
 *
 * <p>Where the readers look (drgn 0.0.22 libdrgn/program.c and kdump.c, libkdumpfile 0.5
 * diskdump.c and notes.c, crash 8.0 netdump.c and diskdump.c):
 * <ul>
 * <li>ELF: a note named "VMCOREINFO" in a PT_NOTE makes drgn treat the file as a kernel core
 *     (without it: "unrecognized QEMU memory dump"). crash reads the notes of the first program
 *     header, only from the bytes before the first PT_LOAD's data; so the note goes at the end of
 *     that PT_NOTE and everything after it moves by whole pages (offsets mod 4096 keep, so crash
 *     tells the format the same way).</li>
 * <li>kdump-compressed (header version &ge; 4): libkdumpfile finds VMCOREINFO only as a note in the
 *     sub-header's note area ({@code offset_note}, {@code size_note}), crash through
 *     {@code offset_vmcoreinfo}/{@code size_vmcoreinfo}; QEMU, when it has the guest's note,
 *     appends it to the note area and points those two at its descriptor, and so does this. When
 *     the notes outgrow the sub-header's blocks, the sub-header grows by whole blocks and every
 *     page descriptor's data offset moves with the data.</li>
 * </ul>
 * A VMCOREINFO already in the dump (QEMU had the guest's) is kept and not doubled.
 */
public final class VmcoreAnnotator {

    static final int PAGE = 4096;
    private static final int PT_NOTE = 4;
    private static final int ET_CORE = 4;
    private static final int PN_XNUM = 0xffff;
    private static final int SHT_NOBITS = 8;
    private static final int EHDR_SIZE = 64;
    private static final int PHDR_SIZE = 56;
    private static final int SHDR_SIZE = 64;
    /** kdump_sub_header (64-bit) fields, from the start of block 1. */
    private static final int SUB_VMCOREINFO_OFFSET = 32;
    private static final int SUB_VMCOREINFO_SIZE = 40;
    private static final int SUB_NOTE_OFFSET = 48;
    private static final int SUB_NOTE_SIZE = 56;
    private static final int SUB_ERASEINFO_OFFSET = 64;
    /** disk_dump_header fields. */
    private static final int DH_UTSNAME = 12;
    private static final int DH_BLOCK_SIZE = 428;
    private static final int DH_SUB_HDR_SIZE = 432;
    private static final int DH_BITMAP_BLOCKS = 436;
    /** page_desc_t: u64 offset, u32 size, u32 flags, u64 page_flags. */
    private static final int PAGE_DESC = 24;

    private VmcoreAnnotator() {
    }

    /**
     * What was added to a vmcore.
     *
     * @param vmcoreinfo     "tickwatch" (written from guest memory), "qemu" (QEMU had the guest's), or null (none)
     * @param vmcoreinfoBytes the VMCOREINFO text's size; null without
     * @param release        the kernel release the header or note names; null when unknown
     * @param cpuPids        pr_pid of each NT_PRSTATUS note as written, in CPU order
     * @param shiftedBytes   how far the data after the notes moved (0: it stayed)
     * @param problems       what could not be added and why
     */
    public record Annotation(String vmcoreinfo, Integer vmcoreinfoBytes, String release, List<Integer> cpuPids,
            long shiftedBytes, List<String> problems) {

        public Annotation {
            cpuPids = List.copyOf(cpuPids);
            problems = List.copyOf(problems);
        }
    }

    // ---- ELF ----

    /**
     * Writes {@code in}, an ELF core from dump-guest-memory, to {@code out} (created new) with the
     * VMCOREINFO note and the CPUs' pids.
     *
     * @throws SnapshotException when {@code in} is not a 64-bit ELF core with a PT_NOTE
     */
    public static Annotation elf(Path in, Path out, VmcoreFacts facts) throws IOException {
        List<String> problems = new ArrayList<>(facts.problems());
        try (FileChannel src = FileChannel.open(in, StandardOpenOption.READ);
                FileChannel dst = create(out)) {
            long size = src.size();
            byte[] eh = read(src, 0, EHDR_SIZE, in);
            if (eh[0] != 0x7f || eh[1] != 'E' || eh[2] != 'L' || eh[3] != 'F') {
                throw new SnapshotException(in + ": no ELF magic");
            }
            if (eh[4] != 2) {
                throw new SnapshotException(in + ": ELF class " + eh[4] + " (expected: 2, 64-bit)");
            }
            ByteOrder order = eh[5] == 2 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            ByteBuffer e = ByteBuffer.wrap(eh).order(order);
            if (e.getShort(16) != ET_CORE) {
                throw new SnapshotException(in + ": ELF type " + e.getShort(16) + " (expected: 4, a core file)");
            }
            long phoff = e.getLong(32);
            long shoff = e.getLong(40);
            int phnum = Short.toUnsignedInt(e.getShort(56));
            int shnum = Short.toUnsignedInt(e.getShort(60));
            byte[] sh0 = null;
            if (phnum == PN_XNUM || (shnum == 0 && shoff != 0)) {
                // Extended numbering (gABI): the real counts are in section header 0.
                sh0 = read(src, shoff, SHDR_SIZE, in);
                ByteBuffer s = ByteBuffer.wrap(sh0).order(order);
                if (phnum == PN_XNUM) {
                    phnum = s.getInt(44);
                }
                if (shnum == 0) {
                    shnum = (int) s.getLong(32);
                }
            }
            if (phnum <= 0 || phnum > 1 << 20) {
                throw new SnapshotException(in + ": " + phnum + " program headers");
            }
            byte[] ph = read(src, phoff, phnum * PHDR_SIZE, in);
            ByteBuffer p = ByteBuffer.wrap(ph).order(order);
            int note = -1;
            for (int i = 0; i < phnum && note < 0; i++) {
                if (p.getInt(i * PHDR_SIZE) == PT_NOTE) {
                    note = i;
                }
            }
            if (note < 0) {
                throw new SnapshotException(in + ": no PT_NOTE program header");
            }
            long noteOff = p.getLong(note * PHDR_SIZE + 8);
            long noteSize = p.getLong(note * PHDR_SIZE + 32);
            int align = p.getLong(note * PHDR_SIZE + 48) == 8 ? 8 : 4;
            if (noteSize > 64 << 20 || noteOff + noteSize > size) {
                throw new SnapshotException(in + ": PT_NOTE at " + noteOff + " size " + noteSize + " lies outside the file");
            }
            byte[] area = read(src, noteOff, (int) noteSize, in);
            Notes n = annotateNotes(area, order, align, facts, problems, false);
            long insertAt = noteOff + noteSize;
            // QEMU's ELF (paging off) maps physical memory only: drgn then reads swapper_pg_dir by
            // its virtual address and fails ("recursive address translation"). A PT_LOAD for the
            // kernel image's mapping, as a kexec vmcore has, over the same file bytes, lets it start.
            byte[] text = sh0 == null && phoff + (long) phnum * PHDR_SIZE == noteOff
                    ? kernelTextHeader(facts.vmcoreinfo() == null ? null
                            : new String(facts.vmcoreinfo(), java.nio.charset.StandardCharsets.US_ASCII), p, phnum, order, problems)
                    : null;
            int grow = text == null ? 0 : PHDR_SIZE;
            long headerEnd = noteOff + grow + n.bytes().length;
            long delta = headerEnd > insertAt ? ElfNotes.pad(headerEnd - insertAt, PAGE) : 0;

            // Program and section headers with offsets moved past the insertion point.
            for (int i = 0; i < phnum; i++) {
                int at = i * PHDR_SIZE;
                if (i == note) {
                    long memsz = p.getLong(at + 40);
                    p.putLong(at + 8, noteOff + grow);
                    p.putLong(at + 32, n.bytes().length);
                    p.putLong(at + 40, memsz == noteSize ? n.bytes().length : memsz);
                } else if (p.getLong(at + 8) >= insertAt) {
                    p.putLong(at + 8, p.getLong(at + 8) + delta);
                }
            }
            if (text != null) {
                ByteBuffer t = ByteBuffer.wrap(text).order(order);
                t.putLong(8, t.getLong(8) + delta);
                byte[] both = new byte[ph.length + PHDR_SIZE];
                System.arraycopy(ph, 0, both, 0, ph.length);
                System.arraycopy(text, 0, both, ph.length, PHDR_SIZE);
                ph = both;
                e.putShort(56, (short) (phnum + 1));
            }
            byte[] sh = null;
            if (shoff != 0 && shnum > 0) {
                sh = read(src, shoff, shnum * SHDR_SIZE, in);
                ByteBuffer s = ByteBuffer.wrap(sh).order(order);
                for (int i = 0; i < shnum; i++) {
                    int at = i * SHDR_SIZE;
                    long off = s.getLong(at + 24);
                    if (s.getInt(at + 4) != SHT_NOBITS && off != 0 && off >= insertAt) {
                        s.putLong(at + 24, off + delta);
                    }
                }
            }
            e.putLong(32, phoff >= insertAt ? phoff + delta : phoff);
            e.putLong(40, shoff != 0 && shoff >= insertAt ? shoff + delta : shoff);

            copy(src, 0, insertAt, dst, 0);
            copy(src, insertAt, size - insertAt, dst, insertAt + delta);
            write(dst, noteOff + grow, n.bytes());
            long end = noteOff + grow + n.bytes().length;
            if (insertAt + delta > end) {
                write(dst, end, new byte[(int) (insertAt + delta - end)]);
            }
            write(dst, 0, eh);
            write(dst, phoff >= insertAt ? phoff + delta : phoff, ph);
            if (sh != null) {
                write(dst, shoff >= insertAt ? shoff + delta : shoff, sh);
            }
            dst.force(true);
            return new Annotation(n.vmcoreinfo(), n.vmcoreinfoBytes(), facts.release(), n.pids(), delta, problems);
        }
    }

    /** The kernel image's virtual base (include/asm/page_64_types.h __START_KERNEL_map). */
    private static final long START_KERNEL_MAP = 0xffffffff80000000L;
    private static final int PT_LOAD = 1;
    /** The kernel image mapping covered: from _stext's 2 MiB page, this much (Debian's image is ~42 MiB). */
    private static final long TEXT_SPAN = 128L << 20;

    /**
     * A PT_LOAD mapping the kernel image's virtual addresses onto the physical segment holding
     * it (same file bytes), from VMCOREINFO's {@code SYMBOL(_stext)} and {@code NUMBER(phys_base)};
     * null, with a problem noted, when they are missing or no physical segment holds the image.
     */
    static byte[] kernelTextHeader(String vmcoreinfo, ByteBuffer p, int phnum, ByteOrder order, List<String> problems) {
        if (vmcoreinfo == null) {
            return null;
        }
        Long stext = null;
        Long physBase = null;
        for (String line : vmcoreinfo.split("\n")) {
            try {
                if (line.startsWith("SYMBOL(_stext)=")) {
                    stext = Long.parseUnsignedLong(line.substring(15).strip(), 16);
                } else if (line.startsWith("NUMBER(phys_base)=")) {
                    physBase = Long.parseLong(line.substring(18).strip()); // signed: KASLR may put it below
                }
            } catch (NumberFormatException e) {
                problems.add("VMCOREINFO line not understood: " + line);
            }
        }
        if (stext == null || physBase == null) {
            problems.add("no kernel-image segment for drgn: VMCOREINFO lacks SYMBOL(_stext) or NUMBER(phys_base)");
            return null;
        }
        long vstart = stext & ~((2L << 20) - 1);
        long pstart = vstart - START_KERNEL_MAP + physBase;
        for (int i = 0; i < phnum; i++) {
            int at = i * PHDR_SIZE;
            long paddr = p.getLong(at + 24);
            long filesz = p.getLong(at + 32);
            if (p.getInt(at) != PT_LOAD || pstart < paddr || pstart >= paddr + filesz) {
                continue;
            }
            long len = Math.min(TEXT_SPAN, paddr + filesz - pstart);
            ByteBuffer t = ByteBuffer.allocate(PHDR_SIZE).order(order);
            t.putInt(0, PT_LOAD);
            t.putInt(4, 7); // PF_R | PF_W | PF_X, as the kernel's own vmcore headers
            t.putLong(8, p.getLong(at + 8) + (pstart - paddr));
            t.putLong(16, vstart);
            t.putLong(24, pstart);
            t.putLong(32, len);
            t.putLong(40, len);
            t.putLong(48, 0);
            return t.array();
        }
        problems.add(String.format(java.util.Locale.ROOT, "no kernel-image segment for drgn: no PT_LOAD holds physical 0x%x", pstart));
        return null;
    }

    // ---- kdump-compressed ----

    /**
     * Writes {@code in}, a seekable kdump-compressed file (rearranged if QEMU wrote it flattened),
     * to {@code out} (created new) with the VMCOREINFO note, the CPUs' pids and the utsname.
     *
     * @throws SnapshotException when {@code in} is not a kdump file with a note area (header version 4+)
     */
    public static Annotation kdump(Path in, Path out, VmcoreFacts facts) throws IOException {
        List<String> problems = new ArrayList<>(facts.problems());
        try (FileChannel src = FileChannel.open(in, StandardOpenOption.READ);
                FileChannel dst = create(out)) {
            long size = src.size();
            byte[] probe = read(src, 0, 464, in);
            if (!KdumpHeader.SIGNATURE.equals(new String(probe, 0, 8, java.nio.charset.StandardCharsets.US_ASCII))) {
                throw new SnapshotException(in + ": no '" + KdumpHeader.SIGNATURE + "' signature");
            }
            // QEMU writes the guest's byte order; x86 is little-endian, and a sane block size tells.
            ByteOrder order = ByteOrder.LITTLE_ENDIAN;
            int bs = ByteBuffer.wrap(probe).order(order).getInt(DH_BLOCK_SIZE);
            if (bs <= 0 || Integer.bitCount(bs) != 1) {
                order = ByteOrder.BIG_ENDIAN;
                bs = ByteBuffer.wrap(probe).order(order).getInt(DH_BLOCK_SIZE);
            }
            if (bs < 512 || bs > 1 << 20 || Integer.bitCount(bs) != 1) {
                throw new SnapshotException(in + ": block size " + bs + " (expected: a power of two)");
            }
            byte[] header = read(src, 0, bs, in);
            ByteBuffer h = ByteBuffer.wrap(header).order(order);
            int version = h.getInt(8);
            if (version < 4) {
                throw new SnapshotException(in + ": kdump header version " + version + " has no note area (expected: >= 4)");
            }
            int subBlocks = h.getInt(DH_SUB_HDR_SIZE);
            int bitmapBlocks = h.getInt(DH_BITMAP_BLOCKS);
            long subEnd = (long) (1 + subBlocks) * bs;
            byte[] sub = read(src, bs, (int) (subEnd - bs), in);
            ByteBuffer s = ByteBuffer.wrap(sub).order(order);
            long noteOff = s.getLong(SUB_NOTE_OFFSET);
            long noteSize = s.getLong(SUB_NOTE_SIZE);
            if (noteOff < bs + SUB_ERASEINFO_OFFSET || noteOff + noteSize > subEnd) {
                throw new SnapshotException(in + ": notes at " + noteOff + " size " + noteSize
                        + " lie outside the sub-header's blocks " + bs + ".." + subEnd);
            }
            int areaAt = (int) (noteOff - bs);
            byte[] area = Arrays.copyOfRange(sub, areaAt, (int) (areaAt + noteSize));
            boolean hadInfo = s.getLong(SUB_VMCOREINFO_OFFSET) != 0 && s.getLong(SUB_VMCOREINFO_SIZE) != 0;
            Notes n = annotateNotes(area, order, 4, facts, problems, hadInfo);

            long newNoteEnd = noteOff + n.bytes().length;
            int newSubBlocks = (int) Math.max(subBlocks, (newNoteEnd + bs - 1) / bs - 1);
            long delta = (long) (newSubBlocks - subBlocks) * bs;
            byte[] newSub = Arrays.copyOf(sub, newSubBlocks * bs);
            System.arraycopy(n.bytes(), 0, newSub, areaAt, n.bytes().length);
            // Bytes past the new area's end (a longer old one's tail) are outside size_note: no reader sees them.
            ByteBuffer ns = ByteBuffer.wrap(newSub).order(order);
            ns.putLong(SUB_NOTE_SIZE, n.bytes().length);
            if (n.vmcoreinfoAt() >= 0) {
                ns.putLong(SUB_VMCOREINFO_OFFSET, noteOff + n.vmcoreinfoAt());
                ns.putLong(SUB_VMCOREINFO_SIZE, n.vmcoreinfoBytes());
            }
            long erase = s.getLong(SUB_ERASEINFO_OFFSET);
            if (erase >= subEnd) {
                ns.putLong(SUB_ERASEINFO_OFFSET, erase + delta);
            }
            h.putInt(DH_SUB_HDR_SIZE, newSubBlocks);
            String release = facts.release();
            if (facts.utsname() != null) {
                // QEMU wrote only the machine; the kernel's own utsname names the build as uname does.
                System.arraycopy(facts.utsname(), 0, header, DH_UTSNAME, VmcoreFacts.UTSNAME_BYTES);
            } else if (release != null) {
                byte[] r = Arrays.copyOf(release.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                        VmcoreFacts.UTS_FIELD - 1);
                System.arraycopy(r, 0, header, DH_UTSNAME + 2 * VmcoreFacts.UTS_FIELD, r.length);
            }

            write(dst, 0, header);
            write(dst, bs, newSub);
            long bitmapAt = subEnd;
            long bitmapLen = (long) bitmapBlocks * bs;
            copy(src, bitmapAt, bitmapLen, dst, bitmapAt + delta);
            long descAt = bitmapAt + bitmapLen;
            if (delta == 0) {
                copy(src, descAt, size - descAt, dst, descAt);
            } else {
                long pages = dumpablePages(src, bitmapAt, bitmapLen, in);
                long dataAt = descAt + pages * PAGE_DESC;
                if (dataAt > size) {
                    throw new SnapshotException(in + ": " + pages + " page descriptors do not fit in the file");
                }
                shiftDescriptors(src, descAt, pages, dataAt, size, delta, order, dst, in);
                copy(src, dataAt, size - dataAt, dst, dataAt + delta);
            }
            dst.force(true);
            return new Annotation(n.vmcoreinfo(), n.vmcoreinfoBytes(), release, n.pids(), delta, problems);
        }
    }

    /** Set bits of the second (dumpable) bitmap: one page descriptor each. */
    private static long dumpablePages(FileChannel src, long bitmapAt, long bitmapLen, Path in) throws IOException {
        long count = 0;
        long at = bitmapAt + bitmapLen / 2;
        long left = bitmapLen / 2;
        ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        while (left > 0) {
            buf.clear().limit((int) Math.min(buf.capacity(), left));
            int r = src.read(buf, at);
            if (r <= 0) {
                throw new SnapshotException(in + ": the page bitmap is cut short");
            }
            for (int i = 0; i < r; i++) {
                count += Integer.bitCount(buf.get(i) & 0xff);
            }
            at += r;
            left -= r;
        }
        return count;
    }

    private static void shiftDescriptors(FileChannel src, long descAt, long pages, long dataAt, long size, long delta,
            ByteOrder order, FileChannel dst, Path in) throws IOException {
        int per = 1 << 12;
        ByteBuffer buf = ByteBuffer.allocate(per * PAGE_DESC).order(order);
        for (long done = 0; done < pages; ) {
            int n = (int) Math.min(per, pages - done);
            byte[] chunk = read(src, descAt + done * PAGE_DESC, n * PAGE_DESC, in);
            ByteBuffer c = ByteBuffer.wrap(chunk).order(order);
            for (int i = 0; i < n; i++) {
                long off = c.getLong(i * PAGE_DESC);
                long len = Integer.toUnsignedLong(c.getInt(i * PAGE_DESC + 8));
                if (off < dataAt || off + len > size) {
                    throw new SnapshotException(in + ": page descriptor " + (done + i) + " points at " + off + "+" + len
                            + " (expected: within " + dataAt + ".." + size + ")");
                }
                c.putLong(i * PAGE_DESC, off + delta);
            }
            write(dst, descAt + delta + done * PAGE_DESC, chunk);
            done += n;
        }
    }

    // ---- the notes themselves ----

    /** A rewritten note area, where its VMCOREINFO descriptor starts (-1: none added) and the pids it now has. */
    private record Notes(byte[] bytes, String vmcoreinfo, Integer vmcoreinfoBytes, int vmcoreinfoAt, List<Integer> pids) {
    }

    private static Notes annotateNotes(byte[] area, ByteOrder order, int align, VmcoreFacts facts, List<String> problems,
            boolean vmcoreinfoElsewhere) {
        List<ElfNotes.Note> notes = ElfNotes.parse(area, order, align);
        byte[] out = area;
        int[] before = ElfNotes.prstatusPids(out, notes, order);
        if (facts.cpuPids() != null) {
            if (before.length != facts.cpuPids().length) {
                problems.add(before.length + " NT_PRSTATUS notes for " + facts.cpuPids().length
                        + " CPUs: pids set for the first " + Math.min(before.length, facts.cpuPids().length));
            }
            ElfNotes.setPrstatusPids(out, notes, order, facts.cpuPids());
        }
        List<Integer> pids = Arrays.stream(ElfNotes.prstatusPids(out, notes, order)).boxed().toList();
        ElfNotes.Note existing = notes.stream().filter(x -> x.is(ElfNotes.VMCOREINFO)).findFirst().orElse(null);
        if (existing != null || vmcoreinfoElsewhere) {
            return new Notes(out, "qemu", existing == null ? null : existing.descSize(), -1, pids);
        }
        if (facts.vmcoreinfo() == null) {
            return new Notes(out, null, null, -1, pids);
        }
        int end = ElfNotes.end(notes, align);
        byte[] note = ElfNotes.encode(ElfNotes.VMCOREINFO, ElfNotes.VMCOREINFO_TYPE, facts.vmcoreinfo(), order, align);
        out = ElfNotes.append(out, Math.min(end, out.length), note);
        return new Notes(out, "tickwatch", facts.vmcoreinfo().length,
                end + ElfNotes.descOffsetInEncoding(ElfNotes.VMCOREINFO, align), pids);
    }

    // ---- file helpers ----

    /** A new file, 0600 from the start like every bundle file (a vmcore holds guest secrets). */
    private static FileChannel create(Path out) throws IOException {
        return FileChannel.open(out, java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                Bundle.FILE_MODE);
    }

    private static byte[] read(FileChannel ch, long at, int len, Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len);
        while (b.hasRemaining()) {
            int r = ch.read(b, at + b.position());
            if (r < 0) {
                throw new SnapshotException(file + ": ends at " + (at + b.position()) + " (expected: " + len
                        + " bytes at " + at + ")");
            }
        }
        return b.array();
    }

    private static void write(FileChannel ch, long at, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b, at + b.position());
        }
    }

    private static void copy(FileChannel src, long from, long len, FileChannel dst, long to) throws IOException {
        long done = 0;
        while (done < len) {
            long n = src.transferTo(from + done, len - done, dst.position(to + done));
            if (n <= 0) {
                throw new SnapshotException("copying the vmcore stopped at " + (from + done) + " of " + (from + len));
            }
            done += n;
        }
    }
}
