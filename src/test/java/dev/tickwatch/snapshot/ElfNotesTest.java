package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ELF notes byte by byte: the layout the kernel's append_elf_note writes and readers walk. */
class ElfNotesTest {

    @Test
    void aVmcoreinfoNoteIsHeaderNameWithNulAndTextEachPaddedToFour() {
        byte[] text = "OSRELEASE=6.1.0\nPAGESIZE=4096\n".getBytes(StandardCharsets.US_ASCII); // 30 bytes
        byte[] note = ElfNotes.encode("VMCOREINFO", 0, text, ByteOrder.LITTLE_ENDIAN, 4);
        ByteBuffer b = ByteBuffer.wrap(note).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(11, b.getInt(0), "namesz counts the NUL");
        assertEquals(30, b.getInt(4), "descsz is the text, no NUL");
        assertEquals(0, b.getInt(8));
        assertEquals("VMCOREINFO\0", new String(note, 12, 11, StandardCharsets.US_ASCII));
        assertEquals(0, note[23], "name padded to 12");
        assertEquals(24, ElfNotes.descOffsetInEncoding("VMCOREINFO", 4));
        assertEquals('O', note[24]);
        assertEquals(12 + 12 + 32, note.length, "desc padded to 32");
    }

    @Test
    void eightByteAlignmentPadsNameAndDescToEight() {
        byte[] note = ElfNotes.encode("CORE", 1, new byte[13], ByteOrder.LITTLE_ENDIAN, 8);
        assertEquals(12 + 8 + 16, note.length);
        List<ElfNotes.Note> n = ElfNotes.parse(note, ByteOrder.LITTLE_ENDIAN, 8);
        assertEquals(1, n.size());
        assertEquals(20, n.get(0).descOffset());
    }

    @Test
    void parseFindsEveryNoteAndStopsAtAZeroHeaderOrACutNote() {
        byte[] a = ElfNotes.encode("CORE", ElfNotes.NT_PRSTATUS, new byte[336], ByteOrder.BIG_ENDIAN, 4);
        byte[] q = ElfNotes.encode("QEMU", 0, new byte[5], ByteOrder.BIG_ENDIAN, 4);
        byte[] area = new byte[a.length + q.length + 12 + 40];
        System.arraycopy(a, 0, area, 0, a.length);
        System.arraycopy(q, 0, area, a.length, q.length);
        // After a zero header: a note that would parse, yet is past the end of the notes.
        byte[] ghost = ElfNotes.encode("GHOST", 0, new byte[4], ByteOrder.BIG_ENDIAN, 4);
        System.arraycopy(ghost, 0, area, a.length + q.length + 12, ghost.length);
        List<ElfNotes.Note> notes = ElfNotes.parse(area, ByteOrder.BIG_ENDIAN, 4);
        assertEquals(List.of("CORE", "QEMU"), notes.stream().map(ElfNotes.Note::name).toList());
        assertEquals(a.length + q.length, ElfNotes.end(notes, 4));

        byte[] cut = java.util.Arrays.copyOf(a, a.length - 10);
        assertEquals(List.of(), ElfNotes.parse(cut, ByteOrder.BIG_ENDIAN, 4));
    }

    @Test
    void pidsAreRewrittenInCoreNtPrstatusNotesOnlyInOrder() {
        ByteOrder le = ByteOrder.LITTLE_ENDIAN;
        byte[] area = FakeDumps.qemuNotes(3, ElfNotes.encode("LINUX", ElfNotes.NT_PRSTATUS, new byte[64], le, 4));
        List<ElfNotes.Note> notes = ElfNotes.parse(area, le, 4);
        assertArrayEquals(new int[] {1, 2, 3}, ElfNotes.prstatusPids(area, notes, le), "QEMU's numbering");
        assertEquals(3, ElfNotes.setPrstatusPids(area, notes, le, new int[] {0, 42, 0}));
        assertArrayEquals(new int[] {0, 42, 0}, ElfNotes.prstatusPids(area, notes, le));
        ElfNotes.Note linux = notes.get(notes.size() - 1);
        assertEquals(0, ByteBuffer.wrap(area).order(le).getInt(linux.descOffset() + ElfNotes.PRSTATUS_PID),
                "a type-1 note of another name is not a CPU's");
        // Only the pid word moved: the bytes around it are QEMU's.
        ElfNotes.Note cpu1 = notes.get(1);
        assertEquals(0x41, area[cpu1.descOffset() + ElfNotes.PRSTATUS_PID - 1]);
        assertEquals(0x41, area[cpu1.descOffset() + ElfNotes.PRSTATUS_PID + 4]);
    }

    @Test
    void vmcoreinfoThatIsNotTheKernelsIsRefused() {
        SnapshotException e = assertThrows(SnapshotException.class,
                () -> VmcoreFacts.checkVmcoreinfo("\0\0garbage".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(e.getMessage().contains("does not look like VMCOREINFO ('??garbage...'"), e.getMessage());
        VmcoreFacts.checkVmcoreinfo(FakeDumps.vmcoreinfo("6.1.0-57-amd64", 400));
    }

    @Test
    void theReleaseComesFromUtsnameElseFromOsrelease() {
        VmcoreFacts both = new VmcoreFacts(FakeDumps.vmcoreinfo("from-info", 200), FakeDumps.utsname("from-uts"), null,
                List.of());
        assertEquals("from-uts", both.release());
        VmcoreFacts info = new VmcoreFacts(FakeDumps.vmcoreinfo("from-info", 200), null, null, List.of());
        assertEquals("from-info", info.release());
        assertEquals(null, VmcoreFacts.none("no kernel").release());
    }
}
