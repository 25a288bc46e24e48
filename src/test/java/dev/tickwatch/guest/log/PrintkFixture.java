package dev.tickwatch.guest.log;

import static dev.tickwatch.guest.btf.BtfWriter.bits;
import static dev.tickwatch.guest.btf.BtfWriter.m;

import dev.tickwatch.guest.FakeMemory;
import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.btf.BtfField;
import dev.tickwatch.guest.btf.BtfWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Test-only printk ring buffers in fake guest memory, written the way the kernel's writer
 * (kernel/printk/printk_ringbuffer.c: desc_reserve(), data_alloc(), data_push_tail(),
 * desc_push_tail(), prb_final_commit()) leaves them, through the field offsets of a BTF: the
 * kernel's initial state (DEFINE_PRINTKRB: the last descriptor reusable as head and tail, lpos
 * at -size), blocks that wrap to the ring's start, descriptors made reusable when their text is
 * pushed out, and the tail pushed when every descriptor is in use.
 */
final class PrintkFixture {

    static final long RING = 0xffffffff82a00000L;
    static final long PRB = 0xffffffff82a10000L;
    static final long DESCS = 0xffff888003000000L;
    static final long INFOS = 0xffff888003100000L;
    static final long DATA = 0xffff888003400000L;
    private static final long ID_MASK = ~(3L << 62);

    private PrintkFixture() {
    }

    /**
     * The ring's types with the offsets pahole prints for them from the BTF of Debian's 6.1.0-57
     * cloud and 6.12.117 kernels (the same for both: printk_info 88 bytes with flags:5 and level:3
     * in byte 19, dev_info at 24; prb_desc 24; prb_desc_ring 48; prb_data_ring 32;
     * printk_ringbuffer 88).
     */
    static byte[] debianLayout() {
        BtfWriter w = new BtfWriter();
        int u8 = w.typedef("u8", w.integer("unsigned char", 1, 0, 8));
        int u16 = w.typedef("u16", w.integer("short unsigned int", 2, 0, 16));
        int u32 = w.typedef("u32", w.integer("unsigned int", 4, 0, 32));
        int uint = w.integer("unsigned int", 4, 0, 32);
        int u64 = w.typedef("u64", w.integer("long long unsigned int", 8, 0, 64));
        int s64 = w.typedef("s64", w.integer("long long int", 8, 1, 64));
        int ulong = w.integer("long unsigned int", 8, 0, 64);
        int ch = w.integer("char", 1, 2, 8);
        int sz = w.integer("__ARRAY_SIZE_TYPE__", 4, 0, 32);
        int atomic64 = w.struct("", 8, false, m("counter", s64, 0));
        int atomicLong = w.typedef("atomic_long_t", w.typedef("atomic64_t", atomic64));
        int devInfo = w.struct("dev_printk_info", 64, false, m("subsystem", w.array(ch, sz, 16), 0),
                m("device", w.array(ch, sz, 48), 128));
        int info = w.struct("printk_info", 88, true, bits("seq", u64, 0, 0), bits("ts_nsec", u64, 64, 0),
                bits("text_len", u16, 128, 0), bits("facility", u8, 144, 0), bits("flags", u8, 152, 5),
                bits("level", u8, 157, 3), bits("caller_id", u32, 160, 0), bits("dev_info", devInfo, 192, 0));
        int lpos = w.struct("prb_data_blk_lpos", 16, false, m("begin", ulong, 0), m("next", ulong, 64));
        int desc = w.struct("prb_desc", 24, false, m("state_var", atomicLong, 0), m("text_blk_lpos", lpos, 64));
        int descRing = w.struct("prb_desc_ring", 48, false, m("count_bits", uint, 0), m("descs", w.ptr(desc), 64),
                m("infos", w.ptr(info), 128), m("head_id", atomicLong, 192), m("tail_id", atomicLong, 256),
                m("last_finalized_seq", atomicLong, 320));
        int dataRing = w.struct("prb_data_ring", 32, false, m("size_bits", uint, 0), m("data", w.ptr(ch), 64),
                m("head_lpos", atomicLong, 128), m("tail_lpos", atomicLong, 192));
        w.struct("printk_ringbuffer", 88, false, m("desc_ring", descRing, 0), m("text_data_ring", dataRing, 384),
                m("fail", atomicLong, 640));
        return w.build();
    }

    /** Real kernels' BTF this host has: its own, and Debian 6.12's when FlagWordTest kept it under target/. */
    static Map<String, Btf> btfs() {
        Map<String, Btf> out = new LinkedHashMap<>();
        out.put("debian layout (written)", Btf.parse(debianLayout()));
        for (Path p : List.of(Path.of("/sys/kernel/btf/vmlinux"), Path.of("target/test-kernels/debian-6.12.btf"))) {
            if (Files.isReadable(p)) {
                try {
                    out.put(p.toString(), Btf.parse(Files.readAllBytes(p)));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return out;
    }

    /** A model of one descriptor the writer has handed out. */
    static final class Entry {
        final long id;
        final long seq;
        long begin;
        long next;
        int state;

        Entry(long id, long seq) {
            this.id = id;
            this.seq = seq;
        }
    }

    /** A ring the test writes records into, kernel-style. */
    static final class Ring {
        final Btf btf;
        final FakeMemory mem = new FakeMemory();
        final int countBits;
        final int sizeBits;
        final long count;
        final long size;
        long headId;
        long tailId;
        long headLpos;
        long tailLpos;
        long nextSeq;
        final Deque<Entry> live = new ArrayDeque<>();
        final List<Entry> all = new ArrayList<>();
        final int descSize;
        final int infoSize;

        /** DESC0_ID: the id of the placeholder descriptor the ring starts with. */
        long desc0Id() {
            return (-(count + 1)) & 0xffff_ffffL; // unsigned int arithmetic, as the kernel's macro
        }

        Ring(Btf btf, int countBits, int sizeBits) {
            this.btf = btf;
            this.countBits = countBits;
            this.sizeBits = sizeBits;
            this.count = 1L << countBits;
            this.size = 1L << sizeBits;
            this.descSize = btf.struct("prb_desc").size();
            this.infoSize = btf.struct("printk_info").size();
            mem.map(DESCS, count * descSize).map(INFOS, count * infoSize).map(DATA, size)
                    .map(RING, btf.struct("printk_ringbuffer").size());
            mem.writeLong(PRB, RING);
            // DEFINE_PRINTKRB: DESC0_ID at the last index, reusable, no data; seq -count at index 0.
            headId = desc0Id();
            tailId = headId;
            Entry boot = new Entry(headId, 0);
            boot.begin = 1;
            boot.next = 1;
            boot.state = PrintkRing.DESC_REUSABLE;
            live.add(boot);
            writeDesc(boot);
            writeInfo(count - 1, "seq", 0);
            writeInfo(0, "seq", -count);
            headLpos = -size;
            tailLpos = -size;
            writeHeader();
        }

        /** A finalized record, as prb_final_commit() leaves it. */
        Entry add(String text, int level) {
            return add(text, level, 0, 1_000_000L * (nextSeq + 1), 1, "", "", PrintkRing.DESC_FINALIZED);
        }

        Entry add(String text, int level, int facility, long tsNs, int caller, String subsystem, String device,
                int state) {
            byte[] t = text.getBytes(StandardCharsets.UTF_8);
            Entry e = reserve();
            int blk = (int) ((t.length + 8 + 7) & ~7L);
            if (t.length == 0) {
                e.begin = PrintkRing.EMPTY_LINE_LPOS;
                e.next = PrintkRing.EMPTY_LINE_LPOS;
            } else {
                long begin = headLpos;
                long next = begin + blk;
                if (begin >>> sizeBits != next >>> sizeBits) {
                    next = (next & ~(size - 1)) + blk;
                }
                pushDataTail(next - size);
                headLpos = next;
                putLong(DATA + (begin & (size - 1)), e.id);
                long textAt = begin & (size - 1);
                if (begin >>> sizeBits != next >>> sizeBits) {
                    putLong(DATA, e.id);
                    textAt = 0;
                }
                mem.write(DATA + textAt + 8, t);
                e.begin = begin;
                e.next = next;
            }
            long i = e.id & (count - 1);
            writeInfo(i, "seq", e.seq);
            writeInfo(i, "ts_nsec", tsNs);
            writeInfo(i, "text_len", t.length);
            writeInfo(i, "facility", facility);
            writeInfo(i, "flags", 2);
            writeInfo(i, "level", level);
            writeInfo(i, "caller_id", caller);
            writeChars(i, "dev_info.subsystem", subsystem);
            writeChars(i, "dev_info.device", device);
            e.state = state;
            writeDesc(e);
            writeHeader();
            return e;
        }

        private Entry reserve() {
            long id = (headId + 1) & ID_MASK;
            if (((headId - tailId) & ID_MASK) + 1 == count) {
                // desc_push_tail(): the oldest descriptor's data goes first, then the tail moves on.
                Entry tail = live.getFirst();
                if (tail.state != PrintkRing.DESC_REUSABLE && (tail.begin & 1) == 0) {
                    pushDataTail(tail.next);
                }
                live.removeFirst();
                tailId = (tailId + 1) & ID_MASK;
            }
            Entry e = new Entry(id, nextSeq++);
            e.state = PrintkRing.DESC_RESERVED;
            live.add(e);
            all.add(e);
            headId = id;
            writeDesc(e);
            return e;
        }

        /** data_push_tail(): every block that ends at or before {@code lpos} is freed, its descriptor made reusable. */
        private void pushDataTail(long lpos) {
            while (tailLpos - lpos < 0) {
                Entry owner = null;
                for (Entry x : live) {
                    if ((x.begin & 1) == 0 && x.begin == tailLpos) {
                        owner = x;
                        break;
                    }
                }
                if (owner == null) {
                    throw new IllegalStateException("no block at tail lpos " + tailLpos);
                }
                owner.state = PrintkRing.DESC_REUSABLE;
                writeDesc(owner);
                tailLpos = owner.next;
            }
        }

        /** Changes a descriptor's state in memory, as a writer or a recycling would. */
        void setState(Entry e, int state) {
            e.state = state;
            writeDesc(e);
        }

        void writeHeader() {
            set("printk_ringbuffer", RING, "desc_ring.count_bits", countBits);
            set("printk_ringbuffer", RING, "desc_ring.descs", DESCS);
            set("printk_ringbuffer", RING, "desc_ring.infos", INFOS);
            set("printk_ringbuffer", RING, "desc_ring.head_id.counter", headId);
            set("printk_ringbuffer", RING, "desc_ring.tail_id.counter", tailId);
            set("printk_ringbuffer", RING, "text_data_ring.size_bits", sizeBits);
            set("printk_ringbuffer", RING, "text_data_ring.data", DATA);
            set("printk_ringbuffer", RING, "text_data_ring.head_lpos.counter", headLpos);
            set("printk_ringbuffer", RING, "text_data_ring.tail_lpos.counter", tailLpos);
        }

        private void writeDesc(Entry e) {
            long at = DESCS + (e.id & (count - 1)) * descSize;
            set("prb_desc", at, "state_var.counter", ((long) e.state << 62) | e.id);
            set("prb_desc", at, "text_blk_lpos.begin", e.begin);
            set("prb_desc", at, "text_blk_lpos.next", e.next);
        }

        private void writeInfo(long index, String field, long value) {
            set("printk_info", INFOS + index * infoSize, field, value);
        }

        private void writeChars(long index, String field, String s) {
            Optional<BtfField> f = btf.findField("printk_info", field);
            byte[] b = new byte[f.orElseThrow().size()];
            byte[] v = s.getBytes(StandardCharsets.UTF_8);
            System.arraycopy(v, 0, b, 0, v.length);
            mem.write(INFOS + index * infoSize + f.get().offset(), b);
        }

        /** Writes a number field (a bitfield too: read-modify-write of its bytes) at its BTF offset. */
        void set(String struct, long base, String path, long value) {
            BtfField f = btf.field(struct, path);
            if (!f.isBitfield()) {
                byte[] b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
                mem.write(base + f.offset(), java.util.Arrays.copyOf(b, f.size()));
                return;
            }
            int shift = (int) (f.bitOffset() & 7);
            byte[] cur = new byte[2];
            mem.read(base + f.offset(), cur, 0, 2);
            int word = (cur[0] & 0xff) | (cur[1] & 0xff) << 8;
            int mask = ((1 << f.bitSize()) - 1) << shift;
            word = (word & ~mask) | (((int) value << shift) & mask);
            mem.write(base + f.offset(), new byte[] {(byte) word, (byte) (word >> 8)});
        }

        private void putLong(long at, long v) {
            mem.writeLong(at, v);
        }

        PrintkRing reader() {
            return new PrintkRing(mem, btf, RING);
        }
    }
}
