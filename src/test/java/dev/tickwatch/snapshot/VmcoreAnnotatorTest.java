package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The VMCOREINFO note, the CPU pids and the utsname written into tiny QEMU-shaped dumps. */
class VmcoreAnnotatorTest {

    static final String RELEASE = "6.1.0-57-cloud-amd64";

    @TempDir
    Path dir;

    static VmcoreFacts facts(int vmcoreinfoBytes) {
        return new VmcoreFacts(FakeDumps.vmcoreinfo(RELEASE, vmcoreinfoBytes), FakeDumps.utsname(RELEASE),
                new int[] {0, 117}, List.of());
    }

    // ---- ELF ----

    /** Program header {@code i} of an ELF file: type, offset, paddr, filesz. */
    record Phdr(int type, long offset, long paddr, long filesz) {
    }

    static Phdr phdr(byte[] elf, int i) {
        ByteBuffer b = ByteBuffer.wrap(elf).order(FakeDumps.LE);
        int at = (int) b.getLong(32) + 56 * i;
        return new Phdr(b.getInt(at), b.getLong(at + 8), b.getLong(at + 24), b.getLong(at + 32));
    }

    static byte[] notesOf(byte[] elf) {
        Phdr n = phdr(elf, 0);
        assertEquals(4, n.type(), "the first program header is the PT_NOTE (crash skips it by position)");
        return Arrays.copyOfRange(elf, (int) n.offset(), (int) (n.offset() + n.filesz()));
    }

    @ParameterizedTest(name = "memory page-aligned {0}, extended numbering {1}")
    @CsvSource({"true, false", "false, false", "true, true"})
    void elfGainsTheVmcoreinfoNoteAndThePidsAndKeepsEveryByteOfMemory(boolean aligned, boolean xnum) throws IOException {
        List<FakeDumps.Segment> segments = FakeDumps.segments();
        byte[] qemu = FakeDumps.elf(FakeDumps.qemuNotes(2, null), segments, aligned, xnum);
        Path in = dir.resolve("in");
        Path out = dir.resolve("out");
        Files.write(in, qemu);
        VmcoreFacts f = facts(2600);

        VmcoreAnnotator.Annotation a = VmcoreAnnotator.elf(in, out, f);

        byte[] elf = Files.readAllBytes(out);
        assertEquals("tickwatch", a.vmcoreinfo());
        assertEquals(2600, a.vmcoreinfoBytes());
        assertEquals(List.of(0, 117), a.cpuPids());
        assertEquals(RELEASE, a.release());
        assertEquals(List.of(), a.problems());
        assertEquals(0, a.shiftedBytes() % 4096, "data moves by whole pages");
        assertTrue(a.shiftedBytes() >= 2600);

        byte[] notes = notesOf(elf);
        List<ElfNotes.Note> parsed = ElfNotes.parse(notes, FakeDumps.LE, 4);
        assertEquals(List.of("CORE", "CORE", "QEMU", "QEMU", "VMCOREINFO"), parsed.stream().map(ElfNotes.Note::name).toList());
        ElfNotes.Note info = parsed.get(4);
        assertEquals(0, info.type(), "the kernel's own VMCOREINFO note type");
        assertArrayEquals(f.vmcoreinfo(), ElfNotes.desc(notes, info));
        assertArrayEquals(new int[] {0, 117}, ElfNotes.prstatusPids(notes, parsed, FakeDumps.LE));
        // Only pr_pid changed in the PRSTATUS notes: the registers QEMU wrote stay.
        byte[] before = FakeDumps.qemuNotes(2, null);
        byte[] after = Arrays.copyOf(notes, before.length);
        for (ElfNotes.Note n : parsed.subList(0, 2)) {
            ByteBuffer.wrap(after).order(FakeDumps.LE).putInt(n.descOffset() + ElfNotes.PRSTATUS_PID,
                    ByteBuffer.wrap(before).order(FakeDumps.LE).getInt(n.descOffset() + ElfNotes.PRSTATUS_PID));
        }
        assertArrayEquals(before, after);

        long firstLoad = Long.MAX_VALUE;
        for (int i = 0; i < segments.size(); i++) {
            Phdr was = phdr(qemu, i + 1);
            Phdr now = phdr(elf, i + 1);
            assertEquals(1, now.type());
            assertEquals(was.paddr(), now.paddr());
            assertEquals(was.offset() % 4096, now.offset() % 4096, "crash tells NETDUMP from KDUMP ELF by this");
            assertArrayEquals(segments.get(i).data(),
                    Arrays.copyOfRange(elf, (int) now.offset(), (int) (now.offset() + now.filesz())), "segment " + i);
            firstLoad = Math.min(firstLoad, now.offset());
        }
        Phdr n = phdr(elf, 0);
        assertTrue(n.offset() + n.filesz() <= firstLoad, "crash reads the notes from the bytes before the first PT_LOAD");
        ByteBuffer eh = ByteBuffer.wrap(elf).order(FakeDumps.LE);
        if (!xnum) {
            // The kernel image's virtual mapping over the physical segment that holds it: drgn reads
            // swapper_pg_dir through it (QEMU's physical-only ELF: "recursive address translation").
            assertEquals(segments.size() + 2, Short.toUnsignedInt(eh.getShort(56)));
            Phdr text = phdr(elf, segments.size() + 1);
            int at = (int) eh.getLong(32) + 56 * (segments.size() + 1);
            assertEquals(1, text.type());
            assertEquals(0xffffffff81000000L, eh.getLong(at + 16), "p_vaddr: _stext's 2 MiB page");
            assertEquals(0x100000, text.paddr(), "p_paddr: _stext - __START_KERNEL_map + phys_base");
            Phdr high = phdr(elf, 2);
            assertEquals(high.offset(), text.offset(), "the same file bytes as the physical segment");
            assertEquals(high.filesz(), text.filesz(), "clipped to the segment");
        }
        assertEquals(qemu.length + a.shiftedBytes(), elf.length);
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(out)));
        if (xnum) {
            ByteBuffer e = ByteBuffer.wrap(elf).order(FakeDumps.LE);
            assertEquals(0xffff, Short.toUnsignedInt(e.getShort(56)));
            assertEquals(3, e.getInt((int) e.getLong(40) + 44), "sh_info still counts the program headers");
        }
    }

    @Test
    void aVmcoreinfoQemuAlreadyWroteIsKeptAndNotDoubled() throws IOException {
        byte[] guests = ElfNotes.encode("VMCOREINFO", 0, FakeDumps.vmcoreinfo(RELEASE, 700), FakeDumps.LE, 4);
        byte[] qemu = FakeDumps.elf(FakeDumps.qemuNotes(2, guests), FakeDumps.segments(), true, false);
        Path in = dir.resolve("in");
        Files.write(in, qemu);

        VmcoreAnnotator.Annotation a = VmcoreAnnotator.elf(in, dir.resolve("out"), facts(2600));

        byte[] elf = Files.readAllBytes(dir.resolve("out"));
        assertEquals("qemu", a.vmcoreinfo());
        assertEquals(700, a.vmcoreinfoBytes());
        // Only the kernel-image program header is added: whole pages at most.
        assertEquals(0, a.shiftedBytes() % 4096);
        assertEquals(qemu.length + a.shiftedBytes(), elf.length);
        List<ElfNotes.Note> parsed = ElfNotes.parse(notesOf(elf), FakeDumps.LE, 4);
        assertEquals(1, parsed.stream().filter(x -> x.is("VMCOREINFO")).count());
        assertArrayEquals(new int[] {0, 117}, ElfNotes.prstatusPids(notesOf(elf), parsed, FakeDumps.LE));
    }

    @Test
    void withoutVmcoreinfoOnlyThePidsChangeAndTheReasonIsKept() throws IOException {
        byte[] qemu = FakeDumps.elf(FakeDumps.qemuNotes(2, null), FakeDumps.segments(), true, false);
        Path in = dir.resolve("in");
        Files.write(in, qemu);
        VmcoreFacts f = new VmcoreFacts(null, null, new int[] {0, 0},
                List.of("no VMCOREINFO: kallsyms has no data symbols"));

        VmcoreAnnotator.Annotation a = VmcoreAnnotator.elf(in, dir.resolve("out"), f);

        assertNull(a.vmcoreinfo());
        assertEquals(List.of(0, 0), a.cpuPids());
        assertEquals(List.of("no VMCOREINFO: kallsyms has no data symbols"), a.problems());
        byte[] elf = Files.readAllBytes(dir.resolve("out"));
        assertEquals(qemu.length, elf.length);
        assertFalse(ElfNotes.parse(notesOf(elf), FakeDumps.LE, 4).stream().anyMatch(x -> x.is("VMCOREINFO")));
    }

    @Test
    void moreCpusThanNotesIsSaidAndTheNotesThereAreSet() throws IOException {
        Path in = dir.resolve("in");
        Files.write(in, FakeDumps.elf(FakeDumps.qemuNotes(2, null), FakeDumps.segments(), true, false));
        VmcoreFacts f = new VmcoreFacts(null, null, new int[] {0, 5, 9}, List.of());

        VmcoreAnnotator.Annotation a = VmcoreAnnotator.elf(in, dir.resolve("out"), f);

        assertEquals(List.of(0, 5), a.cpuPids());
        assertEquals(List.of("2 NT_PRSTATUS notes for 3 CPUs: pids set for the first 2"), a.problems());
    }

    @Test
    void notAnElfCoreIsRefusedAndTheOutputNotLeftHalfWritten() throws IOException {
        byte[] qemu = FakeDumps.elf(FakeDumps.qemuNotes(1, null), FakeDumps.segments(), true, false);
        ByteBuffer.wrap(qemu).order(FakeDumps.LE).putShort(16, (short) 2); // ET_EXEC
        Path in = dir.resolve("in");
        Files.write(in, qemu);
        SnapshotException e = assertThrows(SnapshotException.class, () -> VmcoreAnnotator.elf(in, dir.resolve("out"), facts(100)));
        assertTrue(e.getMessage().contains("ELF type 2 (expected: 4, a core file)"), e.getMessage());
    }

    @Test
    void theAnnotationIsInSnapshotJsonMeetsTheSchemaAndReadsBack() throws IOException {
        SnapshotDoc real = SnapshotDoc.of(ReportFixtures.real("timer-stall-lost"));
        SnapshotDoc.VmcoreAnnotation a = new SnapshotDoc.VmcoreAnnotation("tickwatch", 2600, RELEASE, List.of(0, 117),
                4096L, 310.5, null, List.of());
        SnapshotDoc doc = new SnapshotDoc(real.schema(), real.takenAt(), real.tickwatchVersion(), real.statusBefore(),
                real.verdict(), List.of(), real.environment(), real.cpus(), real.registersSource(), real.timers(),
                real.tasks(), real.console(), new SnapshotDoc.Vmcore("elf", "vmcore", null, 1200.0, null, null, null,
                        268_500_000L, a), real.statusAfter(), real.notes(), real.timingsMs());
        com.fasterxml.jackson.databind.JsonNode json = doc.toJson();
        com.fasterxml.jackson.databind.JsonNode schema = dev.tickwatch.util.Json.MAPPER.readTree(
                Files.readString(Path.of("protocols/snapshot/snapshot.schema.json")));
        assertEquals(List.of(), new SchemaSubset(schema).validate(json));
        assertEquals("[0,117]", json.path("vmcore").path("annotation").path("cpu_pids").toString());
        assertEquals(2600, json.path("vmcore").path("annotation").path("vmcoreinfo_bytes").asInt());
        assertFalse(json.path("vmcore").path("annotation").has("error"));
        assertEquals(a, SnapshotDoc.of(json).vmcore().annotation());

        SnapshotDoc.VmcoreAnnotation failed = new SnapshotDoc.VmcoreAnnotation(null, null, null, null, null, 3.0,
                "No space left on device", List.of());
        com.fasterxml.jackson.databind.node.ObjectNode f = doc.toJson();
        ((com.fasterxml.jackson.databind.node.ObjectNode) f.path("vmcore")).set("annotation",
                dev.tickwatch.util.Json.tree(failed));
        assertEquals(List.of(), new SchemaSubset(schema).validate(f));
        assertEquals("{\"annotate_ms\":3.0,\"error\":\"No space left on device\",\"problems\":[]}",
                f.path("vmcore").path("annotation").toString());
    }

    // ---- kdump-compressed ----

    static final long[] PFNS = {0, 1, 2, 5, 8, 9, 130, 131};

    /** The page at descriptor {@code i}, read the way crash and libkdumpfile do: through the descriptor's offset. */
    static byte[] page(byte[] file, int i) {
        ByteBuffer b = ByteBuffer.wrap(file).order(FakeDumps.LE);
        int bs = b.getInt(428);
        long descAt = (long) (1 + b.getInt(432) + b.getInt(436)) * bs;
        long off = b.getLong((int) (descAt + 24L * i));
        int size = b.getInt((int) (descAt + 24L * i + 8));
        return Arrays.copyOfRange(file, (int) off, (int) off + size);
    }

    @ParameterizedTest(name = "VMCOREINFO of {0} bytes")
    @CsvSource({"2600, true", "700, false"})
    void kdumpGainsTheNoteWhereLibkdumpfileAndCrashLookAndEveryPageStaysReachable(int size, boolean grows) throws IOException {
        FakeDumps.Kdump k = FakeDumps.kdump(FakeDumps.qemuNotes(2, null), PFNS, 200, 0, 0);
        Path in = dir.resolve("in");
        Path out = dir.resolve("out");
        Files.write(in, k.bytes());
        VmcoreFacts f = facts(size);

        VmcoreAnnotator.Annotation a = VmcoreAnnotator.kdump(in, out, f);

        byte[] file = Files.readAllBytes(out);
        KdumpHeader h = KdumpHeader.read(out);
        assertEquals("tickwatch", a.vmcoreinfo());
        assertEquals(List.of(0, 117), a.cpuPids());
        assertEquals(grows ? 4096 : 0, a.shiftedBytes(), "the sub-header grows by a block only when the notes outgrow it");
        assertEquals(RELEASE, h.release(), "utsname from the guest's init_uts_ns");
        assertEquals("Linux", h.sysname());
        assertEquals("x86_64", h.machine());
        assertTrue(h.notesLookValid());
        // crash: offset_vmcoreinfo/size_vmcoreinfo point at the text itself.
        assertEquals(size, h.vmcoreinfoSize());
        assertArrayEquals(f.vmcoreinfo(), Arrays.copyOfRange(file, (int) h.vmcoreinfoOffset(), (int) (h.vmcoreinfoOffset() + size)));
        // libkdumpfile: a note named VMCOREINFO inside offset_note/size_note.
        byte[] area = Arrays.copyOfRange(file, (int) h.noteOffset(), (int) (h.noteOffset() + h.noteSize()));
        List<ElfNotes.Note> notes = ElfNotes.parse(area, FakeDumps.LE, 4);
        ElfNotes.Note info = notes.get(notes.size() - 1);
        assertEquals("VMCOREINFO", info.name());
        assertEquals(h.vmcoreinfoOffset(), h.noteOffset() + info.descOffset());
        assertArrayEquals(new int[] {0, 117}, ElfNotes.prstatusPids(area, notes, FakeDumps.LE));
        assertTrue(h.noteOffset() + h.noteSize() <= (1L + h.subHeaderSize()) * h.blockSize(), "the notes fit the sub-header");
        for (int i = 0; i < PFNS.length; i++) {
            assertArrayEquals(k.pages()[i], page(file, i), "page of pfn " + PFNS[i]);
        }
        assertEquals(k.bytes().length + a.shiftedBytes(), file.length);
        // The bitmaps moved whole.
        ByteBuffer was = ByteBuffer.wrap(k.bytes()).order(FakeDumps.LE);
        int bitmapLen = was.getInt(436) * 4096;
        long oldAt = (1L + was.getInt(432)) * 4096;
        long newAt = (1L + h.subHeaderSize()) * 4096;
        assertArrayEquals(Arrays.copyOfRange(k.bytes(), (int) oldAt, (int) oldAt + bitmapLen),
                Arrays.copyOfRange(file, (int) newAt, (int) newAt + bitmapLen));
    }

    @Test
    void kdumpWithQemusVmcoreinfoKeepsItAndStillFixesPidsAndUtsname() throws IOException {
        byte[] text = FakeDumps.vmcoreinfo(RELEASE, 500);
        byte[] guests = ElfNotes.encode("VMCOREINFO", 0, text, FakeDumps.LE, 4);
        byte[] notes = FakeDumps.qemuNotes(2, guests);
        long textAt = 4096 + 104 + notes.length - guests.length + ElfNotes.descOffsetInEncoding("VMCOREINFO", 4);
        FakeDumps.Kdump k = FakeDumps.kdump(notes, PFNS, 200, textAt, text.length);
        Path in = dir.resolve("in");
        Files.write(in, k.bytes());

        VmcoreAnnotator.Annotation a = VmcoreAnnotator.kdump(in, dir.resolve("out"), facts(2600));

        KdumpHeader h = KdumpHeader.read(dir.resolve("out"));
        assertEquals("qemu", a.vmcoreinfo());
        assertEquals(0, a.shiftedBytes());
        assertEquals(textAt, h.vmcoreinfoOffset());
        assertEquals(text.length, h.vmcoreinfoSize());
        assertEquals(notes.length, h.noteSize());
        assertEquals(RELEASE, h.release());
    }

    @Test
    void withoutUtsnameTheReleaseComesFromVmcoreinfo() throws IOException {
        FakeDumps.Kdump k = FakeDumps.kdump(FakeDumps.qemuNotes(2, null), PFNS, 200, 0, 0);
        Path in = dir.resolve("in");
        Files.write(in, k.bytes());
        VmcoreFacts f = new VmcoreFacts(FakeDumps.vmcoreinfo(RELEASE, 300), null, null, List.of("no utsname: x"));

        VmcoreAnnotator.Annotation a = VmcoreAnnotator.kdump(in, dir.resolve("out"), f);

        KdumpHeader h = KdumpHeader.read(dir.resolve("out"));
        assertEquals(RELEASE, h.release());
        assertEquals("", h.sysname(), "no sysname invented");
        assertEquals("x86_64", h.machine(), "QEMU's machine kept");
        assertEquals(List.of(1, 2), a.cpuPids(), "QEMU's pids when the guest's are unknown");
    }

    @Test
    void aPageDescriptorOutsideTheFileFailsTheRewriteInsteadOfWritingNonsense() throws IOException {
        FakeDumps.Kdump k = FakeDumps.kdump(FakeDumps.qemuNotes(2, null), PFNS, 200, 0, 0);
        ByteBuffer b = ByteBuffer.wrap(k.bytes()).order(FakeDumps.LE);
        long descAt = (1L + b.getInt(432) + b.getInt(436)) * 4096;
        b.putLong((int) descAt + 24 * 3, 1L << 40);
        Path in = dir.resolve("in");
        Files.write(in, k.bytes());
        SnapshotException e = assertThrows(SnapshotException.class,
                () -> VmcoreAnnotator.kdump(in, dir.resolve("out"), facts(2600)));
        assertTrue(e.getMessage().contains("page descriptor 3 points at"), e.getMessage());
    }

    @Test
    void anOldKdumpHeaderWithoutNotesIsRefused() throws IOException {
        FakeDumps.Kdump k = FakeDumps.kdump(FakeDumps.qemuNotes(1, null), PFNS, 200, 0, 0);
        ByteBuffer.wrap(k.bytes()).order(FakeDumps.LE).putInt(8, 3);
        Path in = dir.resolve("in");
        Files.write(in, k.bytes());
        SnapshotException e = assertThrows(SnapshotException.class,
                () -> VmcoreAnnotator.kdump(in, dir.resolve("out"), facts(100)));
        assertTrue(e.getMessage().contains("header version 3 has no note area"), e.getMessage());
    }
}
