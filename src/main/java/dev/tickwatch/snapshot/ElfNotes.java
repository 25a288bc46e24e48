package dev.tickwatch.snapshot;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ELF notes as a core file's PT_NOTE segment (or a kdump sub-header's note area) holds them:
 * {@code Elf64_Nhdr {u32 namesz; u32 descsz; u32 type}}, then the name with its NUL, then the
 * descriptor, each padded to the note alignment (4 bytes, the kernel's and QEMU's; 8 when a
 * PT_NOTE says {@code p_align} 8, as gABI's later revision allows). The readers this serves are
 * drgn (libdrgn/program.c: any note named "VMCOREINFO" marks a kernel core), libkdumpfile
 * (notes.c: the same name, in a kdump file's note area) and crash (diskdump.c/netdump.c: notes of
 * type NT_PRSTATUS, counted in order, one per CPU).
 *
 * <p>Parsing keeps each note's offsets so that a caller patches a descriptor in place and appends
 * new notes after the last one: the bytes QEMU wrote stay as they are.
 */
public final class ElfNotes {

    /** include/uapi/linux/elf.h. */
    public static final int NT_PRSTATUS = 1;
    /** The kernel's own VMCOREINFO note has type 0 (kernel/crash_core.c, update_vmcoreinfo_note). */
    public static final int VMCOREINFO_TYPE = 0;
    public static final String VMCOREINFO = "VMCOREINFO";
    public static final String CORE = "CORE";
    /** {@code struct elf_prstatus} (64-bit): si_signo, si_code, si_errno, pr_cursig + pad, pr_sigpend, pr_sighold, then pr_pid. */
    public static final int PRSTATUS_PID = 32;
    static final int HEADER = 12;

    private ElfNotes() {
    }

    /**
     * One note of an area.
     *
     * @param at         where its header starts, from the start of the area
     * @param descOffset where its descriptor starts, from the start of the area
     */
    public record Note(String name, int type, int at, int descOffset, int descSize) {

        public boolean is(String n) {
            return name.equals(n);
        }
    }

    /**
     * The notes in {@code area}. A zero header (some writers end the area with one) or a note
     * that runs past the end stops the walk; bytes after it are not notes.
     *
     * @param align 4 or 8
     */
    public static List<Note> parse(byte[] area, ByteOrder order, int align) {
        ByteBuffer b = ByteBuffer.wrap(area).order(order);
        List<Note> notes = new ArrayList<>();
        int at = 0;
        while (at + HEADER <= area.length) {
            long namesz = Integer.toUnsignedLong(b.getInt(at));
            long descsz = Integer.toUnsignedLong(b.getInt(at + 4));
            int type = b.getInt(at + 8);
            if (namesz == 0 && descsz == 0 && type == 0) {
                break;
            }
            long nameAt = at + HEADER;
            long descAt = nameAt + pad(namesz, align);
            long next = descAt + pad(descsz, align);
            if (descAt + descsz > area.length) {
                break;
            }
            int nameLen = (int) namesz;
            while (nameLen > 0 && area[(int) nameAt + nameLen - 1] == 0) {
                nameLen--;
            }
            String name = new String(area, (int) nameAt, nameLen, StandardCharsets.US_ASCII);
            notes.add(new Note(name, type, at, (int) descAt, (int) descsz));
            if (next > area.length) {
                break;
            }
            at = (int) next;
        }
        return notes;
    }

    /** Where the last note ends (padding included): the place to append at. */
    public static int end(List<Note> notes, int align) {
        if (notes.isEmpty()) {
            return 0;
        }
        Note last = notes.get(notes.size() - 1);
        return (int) (last.descOffset() + pad(last.descSize(), align));
    }

    /** One note, encoded: header, name with NUL, descriptor, padded to {@code align}. */
    public static byte[] encode(String name, int type, byte[] desc, ByteOrder order, int align) {
        byte[] n = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        int size = (int) (HEADER + pad(n.length, align) + pad(desc.length, align));
        ByteBuffer b = ByteBuffer.allocate(size).order(order);
        b.putInt(n.length).putInt(desc.length).putInt(type);
        b.put(n);
        b.position((int) (HEADER + pad(n.length, align)));
        b.put(desc);
        return b.array();
    }

    /** The offset of {@code note}'s descriptor within an encoding of it (what kdump's offset_vmcoreinfo points at). */
    static int descOffsetInEncoding(String name, int align) {
        return (int) (HEADER + pad(name.length() + 1L, align));
    }

    /**
     * Rewrites pr_pid of the NT_PRSTATUS notes named "CORE" in {@code area}, in order: the i-th
     * gets {@code pids[i]}. Notes past {@code pids} keep theirs.
     *
     * @return how many were rewritten
     */
    public static int setPrstatusPids(byte[] area, List<Note> notes, ByteOrder order, int[] pids) {
        ByteBuffer b = ByteBuffer.wrap(area).order(order);
        int i = 0;
        for (Note n : prstatus(notes)) {
            if (i >= pids.length) {
                break;
            }
            if (n.descSize() >= PRSTATUS_PID + 4) {
                b.putInt(n.descOffset() + PRSTATUS_PID, pids[i]);
            }
            i++;
        }
        return i;
    }

    /** The pr_pid of each NT_PRSTATUS note, in order. */
    public static int[] prstatusPids(byte[] area, List<Note> notes, ByteOrder order) {
        ByteBuffer b = ByteBuffer.wrap(area).order(order);
        return prstatus(notes).stream()
                .mapToInt(n -> n.descSize() >= PRSTATUS_PID + 4 ? b.getInt(n.descOffset() + PRSTATUS_PID) : -1)
                .toArray();
    }

    private static List<Note> prstatus(List<Note> notes) {
        return notes.stream().filter(n -> n.type() == NT_PRSTATUS && n.is(CORE)).toList();
    }

    /** The descriptor bytes of {@code note}. */
    public static byte[] desc(byte[] area, Note note) {
        return Arrays.copyOfRange(area, note.descOffset(), note.descOffset() + note.descSize());
    }

    /** {@code area[0, end)} followed by {@code extra}. */
    static byte[] append(byte[] area, int end, byte[] extra) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(end + extra.length);
        out.write(area, 0, end);
        out.write(extra, 0, extra.length);
        return out.toByteArray();
    }

    static long pad(long n, int align) {
        return (n + align - 1) / align * align;
    }
}
