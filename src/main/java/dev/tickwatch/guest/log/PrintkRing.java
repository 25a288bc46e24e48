package dev.tickwatch.guest.log;

import dev.tickwatch.guest.GuestLayoutException;
import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.mem.GuestMemory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A reader of the kernel's lockless printk ring buffer (kernel/printk/printk_ringbuffer.{c,h},
 * Linux 5.10 and later) in guest memory, as the kernel's own readers read it, without taking
 * part in its protocol: the guest keeps running. Descriptors are walked by id from the tail (or
 * from the record a caller asks for) to the head; a record is taken only when its descriptor is
 * finalized and carries the id walked to, and only if the descriptor still says so after its text
 * was copied (the re-check of {@code prb_read()}). Records a writer holds (reserved, or committed
 * with a line still open for continuation) are counted as pending; descriptors already recycled
 * (reusable) and records whose text is gone are counted, not shown.
 *
 * <p>What is constant here is what the kernel #defines (printk_ringbuffer.h): the state in the two
 * top bits of {@code state_var} (DESC_SV_BITS = 64 on x86-64), the dataless lpos values
 * FAILED_LPOS 0x1 and NO_LPOS / EMPTY_LINE_LPOS 0x3, and a data block being an {@code unsigned long}
 * id followed by the text, 8-byte aligned. Layouts come from BTF ({@link PrintkLayout}).
 */
public final class PrintkRing {

    /** DESC_FLAGS_SHIFT = DESC_SV_BITS - 2 (printk_ringbuffer.h), DESC_SV_BITS = 64 on x86-64. */
    private static final int DESC_FLAGS_SHIFT = 62;
    private static final long DESC_ID_MASK = ~(3L << DESC_FLAGS_SHIFT);
    /** enum desc_state (printk_ringbuffer.h). */
    static final int DESC_RESERVED = 0;
    static final int DESC_COMMITTED = 1;
    static final int DESC_FINALIZED = 2;
    static final int DESC_REUSABLE = 3;
    /** printk_ringbuffer.h: lpos values of a block without data; bit 0 marks them, bit 1 says why. */
    static final long FAILED_LPOS = 0x1;
    static final long EMPTY_LINE_LPOS = 0x3;
    /** sizeof(prb_data_block.id), the alignment of every block. */
    private static final int ID_BYTES = 8;
    /** Beyond these a reading is not a plausible ring (a bad pointer), not a big one. */
    private static final int MAX_COUNT_BITS = 24;
    private static final int MAX_SIZE_BITS = 31;
    /** Above this many records a read takes the whole text ring in one read, not block by block. */
    private static final int WHOLE_RING_FROM = 32;
    private static final long WHOLE_RING_MAX = 32L << 20;

    private final GuestMemory memory;
    private final PrintkLayout layout;
    private final long address;

    /**
     * @param address the guest address of the {@code struct printk_ringbuffer} in use (what the
     *                kernel's {@code prb} points to)
     */
    public PrintkRing(GuestMemory memory, Btf btf, long address) {
        this.memory = memory;
        this.layout = PrintkLayout.of(btf);
        this.address = address;
    }

    public long address() {
        return address;
    }

    /** The ring's geometry and positions at one read of its header. */
    public record Header(int countBits, long descs, long infos, long headId, long tailId, int sizeBits, long data,
            long headLpos, long tailLpos) {

        long count() {
            return 1L << countBits;
        }

        long dataSize() {
            return 1L << sizeBits;
        }
    }

    public Header header() {
        PrintkLayout l = layout;
        byte[] b = memory.read(address, l.ringSize());
        Header h = new Header((int) l.countBits().read(b, 0), l.descs().read(b, 0), l.infos().read(b, 0),
                l.headId().read(b, 0) & DESC_ID_MASK, l.tailId().read(b, 0) & DESC_ID_MASK,
                (int) l.sizeBits().read(b, 0), l.data().read(b, 0), l.headLpos().read(b, 0), l.tailLpos().read(b, 0));
        if (h.countBits() < 0 || h.countBits() > MAX_COUNT_BITS || h.sizeBits() < 4 || h.sizeBits() > MAX_SIZE_BITS
                || h.descs() == 0 || h.infos() == 0 || h.data() == 0) {
            throw new GuestLayoutException(String.format("kernel log: the ring at 0x%x does not look like a printk"
                    + " ring buffer (count_bits %d, size_bits %d, descs 0x%x, infos 0x%x, data 0x%x)", address,
                    h.countBits(), h.sizeBits(), h.descs(), h.infos(), h.data()));
        }
        return h;
    }

    /** Every record the ring still holds. */
    public LogRead read() {
        return read(0);
    }

    /**
     * The records with sequence number {@code fromSeq} or later that the ring still holds (the
     * older ones are not read at all).
     */
    public LogRead read(long fromSeq) {
        Header h = header();
        long count = h.count();
        long mask = count - 1;
        long span = ((h.headId() - h.tailId()) & DESC_ID_MASK) + 1;
        if (span > count) {
            // Tail and head read a moment apart while a writer pushed both: the newest count ids stand.
            span = count;
        }
        long startId = (h.headId() - span + 1) & DESC_ID_MASK;
        if (fromSeq > 0) {
            byte[] head = memory.read(h.infos() + (h.headId() & mask) * layout.infoSize(), layout.infoSize());
            long headSeq = layout.seq().read(head, 0);
            if (Long.compareUnsigned(fromSeq, headSeq) > 0) {
                return new LogRead(List.of(), fromSeq, 0, 0, 0, 0, 0);
            }
            long back = headSeq - fromSeq;
            if (Long.compareUnsigned(back, span) < 0) {
                startId = (h.headId() - back) & DESC_ID_MASK;
                span = back + 1;
            }
        }
        int n = (int) span;
        int first = (int) (startId & mask);
        byte[] descs = readRing(h.descs(), layout.descSize(), first, n, count);
        byte[] infos = readRing(h.infos(), layout.infoSize(), first, n, count);
        byte[] ring = n > WHOLE_RING_FROM && h.dataSize() <= WHOLE_RING_MAX ? memory.read(h.data(), (int) h.dataSize())
                : null;

        List<LogRecord> records = new ArrayList<>();
        List<Integer> at = new ArrayList<>();
        long resume = -1;
        long lastSeq = -1;
        int pending = 0;
        int reusable = 0;
        int lost = 0;
        int changed = 0;
        for (int i = 0; i < n; i++) {
            long id = (startId + i) & DESC_ID_MASK;
            int d = i * layout.descSize();
            int in = i * layout.infoSize();
            long sv = layout.stateVar().read(descs, d);
            if ((sv & DESC_ID_MASK) != id) {
                // desc_miss: the descriptor was taken for a newer id while we read.
                changed++;
                continue;
            }
            int state = (int) (sv >>> DESC_FLAGS_SHIFT);
            long seq = layout.seq().read(infos, in);
            if (state == DESC_RESERVED || state == DESC_COMMITTED) {
                pending++;
                if (resume < 0) {
                    resume = seq;
                }
                continue;
            }
            if (state == DESC_REUSABLE) {
                // DESC0_ID (printk_ringbuffer.h): the placeholder the ring starts with, reusable
                // from the first moment; no record was ever there, so nothing was lost. The macro
                // negates _DESCS_COUNT, an unsigned int: the id is 32 bits wide.
                if (id != ((-(count + 1)) & 0xffff_ffffL)) {
                    reusable++;
                }
                continue;
            }
            lastSeq = seq;
            if (Long.compareUnsigned(seq, fromSeq) < 0) {
                continue;
            }
            String text = text(h, ring, id, layout.begin().read(descs, d), layout.next().read(descs, d),
                    (int) layout.textLen().read(infos, in));
            if (text == null) {
                lost++;
                continue;
            }
            records.add(new LogRecord(seq, layout.tsNsec().read(infos, in), LogLevel.of((int) layout.level().read(infos, in)),
                    (int) layout.facility().read(infos, in), (int) layout.flags().read(infos, in),
                    (int) layout.callerId().read(infos, in), text, PrintkLayout.chars(layout.subsystem(), infos, in),
                    PrintkLayout.chars(layout.device(), infos, in)));
            at.add(i);
        }
        // prb_read()'s re-check: a record whose descriptor changed while its text was copied may
        // carry another record's text.
        byte[] again = readRing(h.descs(), layout.descSize(), first, n, count);
        List<LogRecord> kept = new ArrayList<>(records.size());
        for (int r = 0; r < records.size(); r++) {
            int d = at.get(r) * layout.descSize();
            if (layout.stateVar().read(again, d) == layout.stateVar().read(descs, d)) {
                kept.add(records.get(r));
            } else {
                changed++;
            }
        }
        long next = resume >= 0 ? resume : lastSeq >= 0 ? Math.max(lastSeq + 1, fromSeq) : fromSeq;
        return new LogRead(kept, next, pending, reusable, lost, changed, n);
    }

    /** {@code n} consecutive array elements from index {@code first}, wrapping at {@code count}. */
    private byte[] readRing(long base, int size, int first, int n, long count) {
        int till = (int) Math.min(n, count - first);
        byte[] out = new byte[n * size];
        memory.read(base + (long) first * size, out, 0, till * size);
        if (till < n) {
            memory.read(base, out, till * size, (n - till) * size);
        }
        return out;
    }

    /**
     * The text of a finalized record, or null when it has none to give (get_data() and
     * copy_data()): dataless blocks, illegal positions, a block whose id word names another
     * descriptor, a text_len longer than the block.
     */
    private String text(Header h, byte[] ring, long id, long begin, long next, int textLen) {
        if ((begin & 1) != 0 && (next & 1) != 0) {
            return begin == EMPTY_LINE_LPOS && next == EMPTY_LINE_LPOS ? "" : null;
        }
        long size = h.dataSize();
        int bits = h.sizeBits();
        long offset;
        long blockSize;
        if (begin >>> bits == next >>> bits && Long.compareUnsigned(begin, next) < 0) {
            offset = begin & (size - 1);
            blockSize = next - begin;
        } else if ((begin + size) >>> bits == next >>> bits) {
            // A block that would run past the ring's end is stored whole at its start.
            offset = 0;
            blockSize = next & (size - 1);
        } else {
            return null;
        }
        if ((begin & (ID_BYTES - 1)) != 0 || (next & (ID_BYTES - 1)) != 0 || blockSize < ID_BYTES
                || offset + blockSize > size || textLen > blockSize - ID_BYTES) {
            return null;
        }
        byte[] block;
        int from;
        if (ring != null) {
            block = ring;
            from = (int) offset;
        } else {
            block = memory.read(h.data() + offset, ID_BYTES + textLen);
            from = 0;
        }
        long blockId = java.nio.ByteBuffer.wrap(block, from, ID_BYTES).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        if ((blockId & DESC_ID_MASK) != id) {
            return null;
        }
        return new String(block, from + ID_BYTES, textLen, StandardCharsets.UTF_8);
    }
}
