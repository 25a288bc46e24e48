package dev.tickwatch.guest;

import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.btf.BtfField;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * One kernel struct read from guest memory in a single read, its fields decoded with BTF. Reading
 * the whole struct at once keeps related fields consistent with each other (one moment) and costs
 * one backend round trip instead of one per field.
 */
public final class StructView {

    private final Btf btf;
    private final String struct;
    private final long address;
    private final byte[] bytes;
    /** Struct offset of bytes[0]: big structs (task_struct) are read only over the span we use. */
    private final int from;

    StructView(Btf btf, String struct, long address, byte[] bytes, int from) {
        this.btf = btf;
        this.struct = struct;
        this.address = address;
        this.bytes = bytes;
        this.from = from;
    }

    Btf btf() {
        return btf;
    }

    public long address() {
        return address;
    }

    /** A number field; a missing field is a {@link GuestLayoutException} naming it. */
    public long get(String path) {
        return read(btf.field(struct, path));
    }

    private long read(BtfField f) {
        try {
            return f.read(bytes, -from);
        } catch (IndexOutOfBoundsException e) {
            throw new GuestLayoutException(struct + "." + f.path() + " lies outside the span read");
        }
    }

    /** A number field that some kernels do not have. */
    public Optional<Long> find(String path) {
        return btf.findField(struct, path).map(this::read);
    }

    /** A char array field (like {@code task_struct.comm}) as a string. */
    public String chars(String path) {
        BtfField f = btf.field(struct, path);
        int n = 0;
        int at = f.offset() - from;
        while (n < f.size() && bytes[at + n] != 0) {
            n++;
        }
        return new String(bytes, at, n, StandardCharsets.ISO_8859_1);
    }

    /** The guest address of a field (for embedded structs and list heads). */
    public long addressOf(String path) {
        return address + btf.field(struct, path).offset();
    }
}
