package dev.tickwatch.guest.log;

import dev.tickwatch.guest.GuestLayoutException;
import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.btf.BtfField;
import java.nio.charset.StandardCharsets;

/**
 * Where the printk ring buffer's fields lie, from BTF: {@code struct printk_ringbuffer} with its
 * {@code desc_ring} and {@code text_data_ring}, {@code struct prb_desc} and {@code struct
 * printk_info} (the 5.10+ layout: infos apart from descs since 5.11; 6.1 and 6.12 agree). A
 * kernel without these types (before 5.10, or without BTF) gets a {@link GuestLayoutException}
 * that says which type is missing.
 */
record PrintkLayout(int ringSize, BtfField countBits, BtfField descs, BtfField infos, BtfField headId,
        BtfField tailId, BtfField sizeBits, BtfField data, BtfField headLpos, BtfField tailLpos, int descSize,
        BtfField stateVar, BtfField begin, BtfField next, int infoSize, BtfField seq, BtfField tsNsec,
        BtfField textLen, BtfField facility, BtfField flags, BtfField level, BtfField callerId, BtfField subsystem,
        BtfField device) {

    static PrintkLayout of(Btf btf) {
        for (String s : new String[] {"printk_ringbuffer", "prb_desc", "printk_info"}) {
            if (!btf.hasStruct(s)) {
                throw new GuestLayoutException("kernel log: BTF has no struct " + s
                        + " (a kernel before 5.10 has another log buffer, which this reader does not read)");
            }
        }
        String rb = "printk_ringbuffer";
        return new PrintkLayout(btf.struct(rb).size(), btf.field(rb, "desc_ring.count_bits"),
                btf.field(rb, "desc_ring.descs"), btf.field(rb, "desc_ring.infos"),
                counter(btf, rb, "desc_ring.head_id"), counter(btf, rb, "desc_ring.tail_id"),
                btf.field(rb, "text_data_ring.size_bits"), btf.field(rb, "text_data_ring.data"),
                counter(btf, rb, "text_data_ring.head_lpos"), counter(btf, rb, "text_data_ring.tail_lpos"),
                btf.struct("prb_desc").size(), counter(btf, "prb_desc", "state_var"),
                btf.field("prb_desc", "text_blk_lpos.begin"), btf.field("prb_desc", "text_blk_lpos.next"),
                btf.struct("printk_info").size(), btf.field("printk_info", "seq"), btf.field("printk_info", "ts_nsec"),
                btf.field("printk_info", "text_len"), btf.field("printk_info", "facility"),
                btf.field("printk_info", "flags"), btf.field("printk_info", "level"),
                btf.field("printk_info", "caller_id"), btf.findField("printk_info", "dev_info.subsystem").orElse(null),
                btf.findField("printk_info", "dev_info.device").orElse(null));
    }

    /** An atomic_long_t's counter (a struct holding one s64). */
    private static BtfField counter(Btf btf, String struct, String path) {
        return btf.findField(struct, path + ".counter").orElseGet(() -> btf.field(struct, path));
    }

    static long get(BtfField f, byte[] b, int at) {
        return f.read(b, at);
    }

    /** A char array field as a string, up to its first NUL; "" for a field this kernel lacks. */
    static String chars(BtfField f, byte[] b, int at) {
        if (f == null) {
            return "";
        }
        int from = at + f.offset();
        int n = 0;
        while (n < f.size() && b[from + n] != 0) {
            n++;
        }
        return new String(b, from, n, StandardCharsets.UTF_8);
    }
}
