package dev.tickwatch.guest.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.guest.GuestLayoutException;
import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.btf.BtfWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ring reader on rings written kernel-style ({@link PrintkFixture}) through the offsets of
 * each BTF at hand: the Debian 6.1/6.12 layout written out from pahole's offsets, and the real
 * BTF of this host's kernel and of Debian 6.12 when they can be read.
 */
class PrintkRingTest {

    static Stream<Arguments> btfs() {
        return PrintkFixture.btfs().entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    private static List<String> texts(LogRead r) {
        return r.records().stream().map(LogRecord::text).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("btfs")
    void recordsComeBackWithTheirInfoAsTheKernelStoredThem(String name, Btf btf) {
        PrintkFixture.Ring ring = new PrintkFixture.Ring(btf, 4, 12);
        ring.add("Linux version 6.1.0-57-cloud-amd64", 5, 0, 0, 0, "", "", PrintkRing.DESC_FINALIZED);
        ring.add("virtio_net virtio0 eth0: renamed", 6, 0, 1_234_567_891L, 0x80000001, "virtio", "+virtio:virtio0",
                PrintkRing.DESC_FINALIZED);
        ring.add("tickwatch: quiet record", 6, 1, 61_000_000_000L, 123, "", "", PrintkRing.DESC_FINALIZED);

        LogRead r = ring.reader().read();
        assertEquals(3, r.records().size(), r.toString());
        LogRecord a = r.records().get(0);
        assertEquals(0, a.seq());
        assertEquals(LogLevel.NOTICE, a.level());
        assertEquals("[    0.000000] Linux version 6.1.0-57-cloud-amd64", a.dmesgLines().get(0));
        LogRecord b = r.records().get(1);
        assertEquals(1, b.seq());
        assertEquals(1_234_567_891L, b.tsNs());
        assertEquals(LogLevel.INFO, b.level());
        assertEquals("C1", b.caller());
        assertEquals(1, b.callerCpu());
        assertEquals("virtio", b.subsystem());
        assertEquals("+virtio:virtio0", b.device());
        assertEquals(List.of("[    1.234567] virtio_net virtio0 eth0: renamed"), b.dmesgLines());
        assertEquals("6,1,1234567,-;virtio_net virtio0 eth0: renamed\n SUBSYSTEM=virtio\n DEVICE=+virtio:virtio0\n",
                b.kmsg());
        LogRecord c = r.records().get(2);
        assertEquals(1, c.facility());
        assertEquals("T123", c.caller());
        assertEquals(123, c.callerPid());
        assertEquals("14,2,61000000,-;tickwatch: quiet record\n", c.kmsg());
        // The initial head/tail descriptor (DEFINE_PRINTKRB's DESC0_ID) is reusable until the tail
        // first moves, but no record was ever in it: not counted as overwritten (a fresh boot's
        // dmesg said "passed over 1 descriptor already recycled").
        assertEquals(0, r.reusable());
        assertEquals(3, r.nextSeq());
        assertEquals(0, r.pending() + r.lost() + r.changed());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("btfs")
    void blocksThatWrapAreReadFromTheRingsStartAndOverwrittenRecordsAreCounted(String name, Btf btf) {
        // 512 bytes of text for 16 descriptors: the text ring runs out first, so descriptors of
        // overwritten records stay in the ring as reusable, and blocks wrap.
        PrintkFixture.Ring ring = new PrintkFixture.Ring(btf, 4, 9);
        List<String> written = new ArrayList<>();
        int wrapped = 0;
        for (int i = 0; i < 14; i++) {
            String t = "record " + i + " " + "x".repeat(20 + 13 * (i % 5));
            PrintkFixture.Entry e = ring.add(t, 6);
            written.add(t);
            if (e.begin >>> 9 != e.next >>> 9) {
                wrapped++;
            }
        }
        assertTrue(wrapped >= 1, "the test must write a wrapping block");
        LogRead r = ring.reader().read();
        long live = ring.live.stream().filter(e -> e.state == PrintkRing.DESC_FINALIZED).count();
        assertTrue(live >= 3 && live < 14, "some records overwritten, some left: " + live);
        assertEquals(written.subList(14 - (int) live, 14), texts(r));
        assertEquals(ring.live.stream().filter(e -> e.state == PrintkRing.DESC_REUSABLE && e.id != ring.desc0Id()).count(),
                r.reusable());
        assertTrue(r.reusable() > 0);
        // Every wrapped block still in the ring reads whole.
        for (PrintkFixture.Entry e : ring.live) {
            if (e.state == PrintkRing.DESC_FINALIZED && e.begin >>> 9 != e.next >>> 9) {
                assertTrue(texts(r).contains(written.get((int) e.seq)), "wrapped record " + e.seq);
            }
        }
        List<Long> seqs = r.records().stream().map(LogRecord::seq).toList();
        for (int i = 1; i < seqs.size(); i++) {
            assertEquals(seqs.get(i - 1) + 1, seqs.get(i), "consecutive: " + seqs);
        }
        assertEquals(14, r.nextSeq());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("btfs")
    void whenEveryDescriptorIsInUseTheTailMovesAndTheNewestRecordsRemain(String name, Btf btf) {
        PrintkFixture.Ring ring = new PrintkFixture.Ring(btf, 3, 14);
        for (int i = 0; i < 21; i++) {
            ring.add("line " + i, 6);
        }
        LogRead r = ring.reader().read();
        List<String> expected = new ArrayList<>();
        for (int i = 13; i < 21; i++) {
            expected.add("line " + i);
        }
        assertEquals(expected, texts(r));
        assertEquals(0, r.reusable(), "the bootstrap descriptor is long recycled");
        assertEquals(13, r.records().get(0).seq());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("btfs")
    void aRecordAWriterHoldsIsSkippedAndTheNextReadStartsThere(String name, Btf btf) {
        PrintkFixture.Ring ring = new PrintkFixture.Ring(btf, 4, 12);
        ring.add("one", 6);
        PrintkFixture.Entry held = ring.add("two", 6, 0, 5, 7, "", "", PrintkRing.DESC_RESERVED);
        ring.add("three", 3);
        PrintkFixture.Entry open = ring.add("four, no newline yet", 6, 0, 9, 7, "", "", PrintkRing.DESC_COMMITTED);
        LogRead r = ring.reader().read();
        assertEquals(List.of("one", "three"), texts(r));
        assertEquals(2, r.pending());
        assertEquals(held.seq, r.nextSeq());
        assertTrue(String.join("; ", r.skipped()).contains("2 records not finalized yet"), r.skipped().toString());

        ring.setState(held, PrintkRing.DESC_FINALIZED);
        ring.setState(open, PrintkRing.DESC_FINALIZED);
        LogRead again = ring.reader().read(r.nextSeq());
        assertEquals(List.of("two", "three", "four, no newline yet"), texts(again));
        assertEquals(4, again.nextSeq());
        LogRead none = ring.reader().read(again.nextSeq());
        assertEquals(List.of(), none.records());
        assertEquals(4, none.nextSeq());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("btfs")
    void readingFromASeqReadsOnlyWhatFollows(String name, Btf btf) {
        PrintkFixture.Ring ring = new PrintkFixture.Ring(btf, 5, 12);
        for (int i = 0; i < 10; i++) {
            ring.add("r" + i, 6);
        }
        assertEquals(List.of("r7", "r8", "r9"), texts(ring.reader().read(7)));
        assertEquals(List.of("r9"), texts(ring.reader().read(9)));
        // Older than the tail: everything the ring holds.
        assertEquals(10, ring.reader().read(0).records().size());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("btfs")
    void multiLineEmptyAndLostRecords(String name, Btf btf) {
        PrintkFixture.Ring ring = new PrintkFixture.Ring(btf, 4, 12);
        ring.add("Call Trace:\n <TASK>\n dump_stack_lvl+0x44/0x5c", 4, 0, 2_500_000_000L, 1, "", "",
                PrintkRing.DESC_FINALIZED);
        ring.add("", 6);
        PrintkFixture.Entry failed = ring.add("no room", 6);
        failed.begin = PrintkRing.FAILED_LPOS;
        failed.next = PrintkRing.FAILED_LPOS;
        ring.setState(failed, PrintkRing.DESC_FINALIZED);
        LogRead r = ring.reader().read();
        assertEquals(2, r.records().size());
        LogRecord multi = r.records().get(0);
        assertEquals(List.of("[    2.500000] Call Trace:", "[    2.500000]  <TASK>",
                "[    2.500000]  dump_stack_lvl+0x44/0x5c"), multi.dmesgLines());
        assertEquals("4,0,2500000,-;Call Trace:\\x0a <TASK>\\x0a dump_stack_lvl+0x44/0x5c\n", multi.kmsg());
        assertEquals("", r.records().get(1).text());
        assertEquals(1, r.lost());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("btfs")
    void aDescriptorRecycledUnderTheReadIsNotTakenForItsOldRecord(String name, Btf btf) {
        PrintkFixture.Ring ring = new PrintkFixture.Ring(btf, 4, 12);
        ring.add("kept", 6);
        PrintkFixture.Entry e = ring.add("recycled", 6);
        // The slot now carries the id of the next wrap (desc_reserve() took it).
        long at = PrintkFixture.DESCS + (e.id & 15) * btf.struct("prb_desc").size();
        ring.set("prb_desc", at, "state_var.counter", ((long) PrintkRing.DESC_RESERVED << 62) | (e.id + 16));
        LogRead r = ring.reader().read();
        assertEquals(List.of("kept"), texts(r));
        assertEquals(1, r.changed());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("btfs")
    void aDataBlockOfAnotherDescriptorIsNotTaken(String name, Btf btf) {
        PrintkFixture.Ring ring = new PrintkFixture.Ring(btf, 4, 12);
        PrintkFixture.Entry e = ring.add("overwritten text", 6);
        ring.mem.writeLong(PrintkFixture.DATA + (e.begin & 4095), e.id + 1);
        LogRead r = ring.reader().read();
        assertEquals(List.of(), r.records());
        assertEquals(1, r.lost());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("btfs")
    void aPointerToSomethingElseIsSaidToBeNoRing(String name, Btf btf) {
        PrintkFixture.Ring ring = new PrintkFixture.Ring(btf, 4, 12);
        ring.set("printk_ringbuffer", PrintkFixture.RING, "desc_ring.count_bits", 60);
        GuestLayoutException e = assertThrows(GuestLayoutException.class, () -> ring.reader().read());
        assertTrue(e.getMessage().contains("does not look like a printk ring buffer"), e.getMessage());
    }

    @org.junit.jupiter.api.Test
    void aKernelWithoutTheRingsTypesIsToldApart() {
        BtfWriter w = new BtfWriter();
        w.integer("int", 4, 1, 32);
        GuestLayoutException e = assertThrows(GuestLayoutException.class,
                () -> new PrintkRing(new dev.tickwatch.guest.FakeMemory(), Btf.parse(w.build()), 0));
        assertTrue(e.getMessage().contains("no struct printk_ringbuffer"), e.getMessage());
    }

    @org.junit.jupiter.api.Test
    void levelsParseAsDmesgTakesThem() {
        assertEquals(java.util.EnumSet.of(LogLevel.ERR, LogLevel.WARN, LogLevel.EMERG), LogLevel.parseList("err,warning,0"));
        assertEquals(LogLevel.DEBUG, LogLevel.parse("debug"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LogLevel.parseList("loud"));
        assertTrue(e.getMessage().contains("emerg, alert"), e.getMessage());
        PrintkFixture.Ring ring = new PrintkFixture.Ring(Btf.parse(PrintkFixture.debianLayout()), 4, 12);
        ring.add("an error", 3);
        ring.add("some info", 6);
        ring.add("a warning", 4);
        java.util.Set<LogLevel> want = LogLevel.parseList("err,warn");
        assertEquals(List.of("an error", "a warning"), ring.reader().read().records().stream()
                .filter(x -> want.contains(x.level())).map(LogRecord::text).toList());
    }
}
