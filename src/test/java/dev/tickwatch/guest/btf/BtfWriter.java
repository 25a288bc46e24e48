package dev.tickwatch.guest.btf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Test-only writer of small little-endian BTF blobs (btf.rst section 2): returns type ids as types
 * are added, in order from 1, and lays out header, type section, then string section.
 */
public final class BtfWriter {

    public static final int KIND_FLAG = 1 << 31;

    private final ByteArrayOutputStream strings = new ByteArrayOutputStream();
    private final Map<String, Integer> stringOffsets = new HashMap<>();
    private ByteBuffer types = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
    private int next = 1;

    public BtfWriter() {
        str("");
    }

    /** A member or enumerator or parameter: name plus up to two numbers. */
    public record M(String name, long a, long b) {
    }

    public static M m(String name, long type, long bitOffset) {
        return new M(name, type, bitOffset);
    }

    /** A kind_flag bitfield member: offset bits 0-23, size bits 24-31. */
    public static M bits(String name, int type, int bitOffset, int bitSize) {
        return new M(name, type, (long) bitSize << 24 | bitOffset);
    }

    public int str(String s) {
        Integer off = stringOffsets.get(s);
        if (off == null) {
            off = strings.size();
            strings.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            strings.write(0);
            stringOffsets.put(s, off);
        }
        return off;
    }

    /** A raw btf_type: {@code info} holds kind, vlen and kind_flag; then trailer words. */
    public int raw(int nameOff, int info, int sizeOrType, int... trailer) {
        ensure(12 + 4 * trailer.length);
        types.putInt(nameOff).putInt(info).putInt(sizeOrType);
        for (int t : trailer) {
            types.putInt(t);
        }
        return next++;
    }

    public int type(BtfKind kind, String name, boolean kindFlag, int vlen, int sizeOrType, int... trailer) {
        int info = kind.code() << 24 | vlen | (kindFlag ? KIND_FLAG : 0);
        return raw(str(name), info, sizeOrType, trailer);
    }

    public int integer(String name, int size, int encoding, int bits) {
        return type(BtfKind.INT, name, false, 0, size, encoding << 24 | bits);
    }

    /** An old-style bitfield INT: bit offset and width in the INT encoding. */
    public int intBits(String name, int size, int encoding, int bitOffset, int bits) {
        return type(BtfKind.INT, name, false, 0, size, encoding << 24 | bitOffset << 16 | bits);
    }

    public int ptr(int type) {
        return type(BtfKind.PTR, "", false, 0, type);
    }

    public int array(int elem, int index, int n) {
        return type(BtfKind.ARRAY, "", false, 0, 0, elem, index, n);
    }

    public int struct(String name, int size, boolean kindFlag, M... members) {
        return composite(BtfKind.STRUCT, name, size, kindFlag, members);
    }

    public int union(String name, int size, boolean kindFlag, M... members) {
        return composite(BtfKind.UNION, name, size, kindFlag, members);
    }

    private int composite(BtfKind kind, String name, int size, boolean kindFlag, M... members) {
        int[] t = new int[3 * members.length];
        for (int i = 0; i < members.length; i++) {
            t[3 * i] = str(members[i].name());
            t[3 * i + 1] = (int) members[i].a();
            t[3 * i + 2] = (int) members[i].b();
        }
        return type(kind, name, kindFlag, members.length, size, t);
    }

    public int enumeration(String name, int size, boolean signed, M... values) {
        int[] t = new int[2 * values.length];
        for (int i = 0; i < values.length; i++) {
            t[2 * i] = str(values[i].name());
            t[2 * i + 1] = (int) values[i].a();
        }
        return type(BtfKind.ENUM, name, signed, values.length, size, t);
    }

    public int enum64(String name, boolean signed, M... values) {
        int[] t = new int[3 * values.length];
        for (int i = 0; i < values.length; i++) {
            t[3 * i] = str(values[i].name());
            t[3 * i + 1] = (int) values[i].a();
            t[3 * i + 2] = (int) (values[i].a() >>> 32);
        }
        return type(BtfKind.ENUM64, name, signed, values.length, 8, t);
    }

    public int fwd(String name, boolean union) {
        return type(BtfKind.FWD, name, union, 0, 0);
    }

    public int typedef(String name, int type) {
        return type(BtfKind.TYPEDEF, name, false, 0, type);
    }

    public int modifier(BtfKind kind, int type) {
        return type(kind, "", false, 0, type);
    }

    public int funcProto(int ret, int... params) {
        int[] t = new int[2 * params.length];
        for (int i = 0; i < params.length; i++) {
            t[2 * i + 1] = params[i];
        }
        return type(BtfKind.FUNC_PROTO, "", false, params.length, ret, t);
    }

    public int func(String name, int proto) {
        return type(BtfKind.FUNC, name, false, 1, proto);
    }

    public int var(String name, int type) {
        return type(BtfKind.VAR, name, false, 0, type, 1);
    }

    public int datasec(String name, int size, int var, int offset, int varSize) {
        return type(BtfKind.DATASEC, name, false, 1, size, var, offset, varSize);
    }

    public int floating(String name, int size) {
        return type(BtfKind.FLOAT, name, false, 0, size);
    }

    public int declTag(String name, int type, int component) {
        return type(BtfKind.DECL_TAG, name, false, 0, type, component);
    }

    public int typeTag(String name, int type) {
        return type(BtfKind.TYPE_TAG, name, false, 0, type);
    }

    /** Header (magic, version 1, flags 0, hdr_len 24), type section at 0, string section after it. */
    public byte[] build() {
        int typeLen = types.position();
        byte[] str = strings.toByteArray();
        ByteBuffer out = ByteBuffer.allocate(24 + typeLen + str.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putShort((short) 0xeb9f).put((byte) 1).put((byte) 0).putInt(24)
                .putInt(0).putInt(typeLen).putInt(typeLen).putInt(str.length);
        out.put(types.array(), 0, typeLen).put(str);
        return out.array();
    }

    private void ensure(int n) {
        if (types.remaining() < n) {
            ByteBuffer bigger = ByteBuffer.allocate(2 * types.capacity() + n).order(ByteOrder.LITTLE_ENDIAN);
            types.flip();
            bigger.put(types);
            types = bigger;
        }
    }
}
