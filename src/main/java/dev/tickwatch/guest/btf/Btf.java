package dev.tickwatch.guest.btf;

import dev.tickwatch.guest.GuestLayoutException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A parsed BTF blob (kernel {@code Documentation/bpf/btf.rst}, section 2 "BTF Type and String
 * Encoding"): the 24-byte {@code struct btf_header}, the string section (2.1) and the type
 * section with every kind up to ENUM64 (2.2, kind_flag bitfield members in 2.2.5). Only
 * little-endian blobs, as x86 guests carry. The whole blob is validated up front (header,
 * section bounds, every string offset and type reference), so lookups never index outside it;
 * anything malformed is a {@link GuestLayoutException} naming what is wrong. Types are kept as flat int arrays indexed by
 * type id (the guest's blob has ~100k types); names are decoded on demand and the by-name index
 * is built on first lookup. Immutable and safe to share between threads.
 */
public final class Btf {

    public static final int MAGIC = 0xeb9f;
    public static final int VERSION = 1;
    public static final int HEADER_LEN = 24;

    /** x86-64: pointers are 8 bytes; BTF itself does not say. */
    static final int POINTER_SIZE = 8;
    private static final int TYPE_HEADER = 12;
    /** Bound on typedef/qualifier chains and anonymous nesting: a cycle in a bad blob ends here. */
    private static final int MAX_DEPTH = 64;
    private static final VarHandle U32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private final byte[] blob;
    private final int strStart;
    private final int strLen;
    /** Number of ids including 0 (void). */
    private final int count;
    private final byte[] kinds;
    private final int[] info;
    private final int[] nameOff;
    private final int[] sizeType;
    /** Blob position of the kind-specific data after each btf_type. */
    private final int[] data;
    private volatile Index index;

    private Btf(byte[] blob, int strStart, int strLen, int count, byte[] kinds, int[] info, int[] nameOff,
            int[] sizeType, int[] data) {
        this.blob = blob;
        this.strStart = strStart;
        this.strLen = strLen;
        this.count = count;
        this.kinds = kinds;
        this.info = info;
        this.nameOff = nameOff;
        this.sizeType = sizeType;
        this.data = data;
    }

    // ---------------------------------------------------------------- parsing

    /**
     * Parses and validates a whole blob (copied; the caller may reuse {@code blob}).
     *
     * @throws GuestLayoutException if the blob is not valid BTF; the message says what is wrong
     */
    public static Btf parse(byte[] blob) {
        Objects.requireNonNull(blob, "blob");
        byte[] b = blob.clone();
        if (b.length < HEADER_LEN) {
            throw bad("blob length: " + b.length + " (expected: >= " + HEADER_LEN + ", the BTF header)");
        }
        int magic = (b[0] & 0xff) | (b[1] & 0xff) << 8;
        if (magic == 0x9feb) {
            throw bad("magic is byte-swapped (0x9feb): big-endian BTF is not supported");
        }
        if (magic != MAGIC) {
            throw bad(String.format("magic: 0x%04x (expected: 0xeb9f)", magic));
        }
        if (b[2] != VERSION) {
            throw bad("version: " + (b[2] & 0xff) + " (expected: 1)");
        }
        if (b[3] != 0) {
            throw bad("header flags: " + (b[3] & 0xff) + " (expected: 0)");
        }
        long hdrLen = u32(b, 4);
        if (hdrLen < HEADER_LEN || hdrLen > b.length) {
            throw bad("header length: " + hdrLen + " (expected: >= 24 and <= blob length " + b.length + ")");
        }
        // A newer, longer header is fine only if its extra fields are unused (as the kernel requires).
        for (int i = HEADER_LEN; i < hdrLen; i++) {
            if (b[i] != 0) {
                throw bad("header of " + hdrLen + " bytes has unknown non-zero byte at " + i);
            }
        }
        long typeOff = u32(b, 8);
        long typeLen = u32(b, 12);
        long strOff = u32(b, 16);
        long strLen = u32(b, 20);
        long body = b.length - hdrLen;
        if (typeOff + typeLen > body) {
            throw bad("type section: offset " + typeOff + " length " + typeLen + " ends past the "
                    + body + " bytes after the header");
        }
        if (strOff + strLen > body) {
            throw bad("string section: offset " + strOff + " length " + strLen + " ends past the "
                    + body + " bytes after the header");
        }
        if ((typeOff & 3) != 0) {
            throw bad("type section offset " + typeOff + " is not 4-byte aligned");
        }
        if (typeLen > 0 && strOff < typeOff + typeLen && typeOff < strOff + strLen) {
            throw bad("type section [" + typeOff + ", " + (typeOff + typeLen) + ") overlaps string section ["
                    + strOff + ", " + (strOff + strLen) + ")");
        }
        if (strLen == 0) {
            throw bad("string section is empty (expected: at least the NUL of the empty name)");
        }
        int strStart = (int) (hdrLen + strOff);
        if (b[strStart] != 0) {
            throw bad("string section does not start with NUL");
        }
        if (b[(int) (strStart + strLen - 1)] != 0) {
            throw bad("string section does not end with NUL");
        }
        return parseTypes(b, (int) (hdrLen + typeOff), (int) typeLen, strStart, (int) strLen);
    }

    private static Btf parseTypes(byte[] b, int start, int len, int strStart, int strLen) {
        int cap = len / TYPE_HEADER + 1;
        byte[] kinds = new byte[cap];
        int[] info = new int[cap];
        int[] nameOff = new int[cap];
        int[] sizeType = new int[cap];
        int[] data = new int[cap];
        kinds[0] = (byte) BtfKind.VOID.code();
        int end = start + len;
        int pos = start;
        int id = 1;
        while (pos < end) {
            if (end - pos < TYPE_HEADER) {
                throw bad("type id " + id + " at type section offset " + (pos - start) + " is truncated: "
                        + (end - pos) + " bytes left (expected: 12)");
            }
            int name = (int) U32.get(b, pos);
            int inf = (int) U32.get(b, pos + 4);
            int kindCode = (inf >>> 24) & 0x1f;
            BtfKind kind = BtfKind.ofCode(kindCode);
            if (kind == null || kind == BtfKind.VOID) {
                throw bad("type id " + id + " at type section offset " + (pos - start) + " has unknown kind "
                        + kindCode);
            }
            checkName(name, strLen, id, "name");
            int vlen = inf & 0xffff;
            long extra = trailer(kind, vlen);
            if (pos + TYPE_HEADER + extra > end) {
                throw bad("type id " + id + " (" + kind + ", vlen " + vlen + ") at type section offset "
                        + (pos - start) + " needs " + (TYPE_HEADER + extra) + " bytes, "
                        + (end - pos) + " left");
            }
            kinds[id] = (byte) kindCode;
            info[id] = inf;
            nameOff[id] = name;
            sizeType[id] = (int) U32.get(b, pos + 8);
            data[id] = pos + TYPE_HEADER;
            int d = pos + TYPE_HEADER;
            switch (kind) {
                case STRUCT, UNION -> {
                    for (int i = 0; i < vlen; i++) {
                        checkName((int) U32.get(b, d + 12 * i), strLen, id, "member " + i + " name");
                    }
                }
                case ENUM, FUNC_PROTO -> {
                    for (int i = 0; i < vlen; i++) {
                        checkName((int) U32.get(b, d + 8 * i), strLen, id, "entry " + i + " name");
                    }
                }
                case ENUM64 -> {
                    for (int i = 0; i < vlen; i++) {
                        checkName((int) U32.get(b, d + 12 * i), strLen, id, "entry " + i + " name");
                    }
                }
                default -> {
                }
            }
            pos += TYPE_HEADER + (int) extra;
            id++;
        }
        Btf btf = new Btf(b, strStart, strLen, id, kinds, info, nameOff, sizeType, data);
        btf.checkReferences();
        return btf;
    }

    /** Bytes of kind-specific data after the btf_type (btf.rst 2.2). */
    private static long trailer(BtfKind kind, int vlen) {
        switch (kind) {
            case INT:
            case VAR:
            case DECL_TAG:
                return 4;
            case ARRAY:
                return 12;
            case STRUCT:
            case UNION:
            case DATASEC:
            case ENUM64:
                return 12L * vlen;
            case ENUM:
            case FUNC_PROTO:
                return 8L * vlen;
            default:
                return 0;
        }
    }

    private static void checkName(int off, int strLen, int id, String what) {
        if (Integer.compareUnsigned(off, strLen) >= 0) {
            throw bad("type id " + id + " " + what + " offset " + Integer.toUnsignedString(off)
                    + " is outside the " + strLen + "-byte string section");
        }
    }

    /** Every type id a type refers to must exist, so later walks cannot leave the arrays. */
    private void checkReferences() {
        for (int id = 1; id < count; id++) {
            BtfKind kind = kindOf(id);
            int d = data[id];
            int vlen = vlen(id);
            switch (kind) {
                case PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, VAR, DECL_TAG, TYPE_TAG ->
                    checkRef(id, "type", sizeType[id]);
                case ARRAY -> {
                    checkRef(id, "element type", u32i(d));
                    checkRef(id, "index type", u32i(d + 4));
                }
                case STRUCT, UNION -> {
                    for (int i = 0; i < vlen; i++) {
                        checkRef(id, "member " + i + " type", u32i(d + 12 * i + 4));
                    }
                }
                case FUNC_PROTO -> {
                    checkRef(id, "return type", sizeType[id]);
                    for (int i = 0; i < vlen; i++) {
                        checkRef(id, "parameter " + i + " type", u32i(d + 8 * i + 4));
                    }
                }
                case DATASEC -> {
                    for (int i = 0; i < vlen; i++) {
                        checkRef(id, "variable " + i + " type", u32i(d + 12 * i));
                    }
                }
                default -> {
                }
            }
        }
    }

    private void checkRef(int id, String what, int ref) {
        if (Integer.compareUnsigned(ref, count) >= 0) {
            throw bad("type id " + id + " (" + kindOf(id) + " " + quoted(id) + ") " + what + " is id "
                    + Integer.toUnsignedString(ref) + ", but the last type id is " + (count - 1));
        }
    }

    // ---------------------------------------------------------------- finding

    /**
     * Finds the first valid BTF blob in {@code region} (e.g. a dump of kernel rodata): a header with
     * magic 0xeb9f, version 1, flags 0 and header length 24 whose sections fit in the region, whose
     * string section starts and ends with NUL, and which then parses; other magic hits are skipped.
     */
    public static Optional<BtfLocation> find(byte[] region) {
        Objects.requireNonNull(region, "region");
        for (int i = 0; i + HEADER_LEN <= region.length; i++) {
            if (region[i] != (byte) 0x9f || region[i + 1] != (byte) 0xeb || region[i + 2] != VERSION
                    || region[i + 3] != 0 || u32(region, i + 4) != HEADER_LEN) {
                continue;
            }
            long typeOff = u32(region, i + 8);
            long typeLen = u32(region, i + 12);
            long strOff = u32(region, i + 16);
            long strLen = u32(region, i + 20);
            long body = region.length - (long) i - HEADER_LEN;
            if ((typeOff & 3) != 0 || typeLen == 0 || strLen == 0 || typeOff + typeLen > body
                    || strOff + strLen > body) {
                continue;
            }
            int str = (int) (i + HEADER_LEN + strOff);
            if (region[str] != 0 || region[(int) (str + strLen - 1)] != 0) {
                continue;
            }
            int length = (int) (HEADER_LEN + Math.max(typeOff + typeLen, strOff + strLen));
            try {
                parse(Arrays.copyOfRange(region, i, i + length));
                return Optional.of(new BtfLocation(i, length));
            } catch (GuestLayoutException notBtf) {
                // A header look-alike over bytes that are not BTF: keep searching.
            }
        }
        return Optional.empty();
    }

    // ---------------------------------------------------------------- types

    /** Number of types, not counting void (id 0); valid ids are 0 to {@code typeCount()}. */
    public int typeCount() {
        return count - 1;
    }

    /** The type with {@code id} (0 is void). */
    public BtfType type(int id) {
        checkId(id);
        if (id == 0) {
            return new BtfType(0, BtfKind.VOID, "", false, 0, 0);
        }
        return new BtfType(id, kindOf(id), name(id), info[id] < 0, vlen(id), sizeType[id]);
    }

    /** {@code id} with typedefs, const, volatile, restrict and type tags looked through. */
    public BtfType resolve(int id) {
        return type(resolveId(id));
    }

    /** Size in bytes of {@code id}: 0 for void, functions and forward declarations. */
    public int size(int id) {
        long s = sizeOf(id, 0);
        if (s > Integer.MAX_VALUE) {
            throw bad("type id " + id + " " + quoted(id) + " is " + s + " bytes, more than this reader handles");
        }
        return (int) s;
    }

    /** C-like name: {@code struct hrtimer_clock_base[8]}, {@code void (*)(struct clock_event_device *)}. */
    public String typeName(int id) {
        checkId(id);
        return render(id, "", 0);
    }

    /** The struct or union {@code id} (after typedefs). */
    public BtfComposite composite(int id) {
        int r = resolveId(id);
        BtfKind k = kindOf(r);
        if (!k.isComposite()) {
            throw new GuestLayoutException("BTF type id " + id + " is " + typeName(id) + ", not a struct or union");
        }
        return new BtfComposite(r, name(r), sizeType[r], k == BtfKind.UNION, members(r));
    }

    public BtfArray array(int id) {
        requireKind(id, BtfKind.ARRAY);
        int d = data[id];
        return new BtfArray(u32i(d), u32i(d + 4), u32(blob, d + 8));
    }

    public BtfInt intEncoding(int id) {
        requireKind(id, BtfKind.INT);
        int v = u32i(data[id]);
        return new BtfInt((v >>> 24) & 0x0f, (v >>> 16) & 0xff, v & 0xff);
    }

    /** The enum {@code id} (ENUM or ENUM64, after typedefs). */
    public BtfEnum enumType(int id) {
        int r = resolveId(id);
        BtfKind k = kindOf(r);
        if (!k.isEnum()) {
            throw new GuestLayoutException("BTF type id " + id + " is " + typeName(id) + ", not an enum");
        }
        boolean signed = info[r] < 0;
        int d = data[r];
        List<BtfEnum.Enumerator> values = new ArrayList<>(vlen(r));
        for (int i = 0; i < vlen(r); i++) {
            long v;
            if (k == BtfKind.ENUM) {
                int raw = u32i(d + 8 * i + 4);
                v = signed ? raw : Integer.toUnsignedLong(raw);
                values.add(new BtfEnum.Enumerator(string(u32i(d + 8 * i)), v));
            } else {
                v = u32(blob, d + 12 * i + 4) | ((long) u32i(d + 12 * i + 8) << 32);
                values.add(new BtfEnum.Enumerator(string(u32i(d + 12 * i)), v));
            }
        }
        return new BtfEnum(r, name(r), sizeType[r], signed, values);
    }

    private List<BtfMember> members(int id) {
        int n = vlen(id);
        boolean kindFlag = info[id] < 0;
        int d = data[id];
        List<BtfMember> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int p = d + 12 * i;
            int off = u32i(p + 8);
            // kind_flag set: bits 0-23 are the bit offset, bits 24-31 the bitfield size (btf.rst 2.2.5).
            long bitOffset = kindFlag ? off & 0xffffff : Integer.toUnsignedLong(off);
            int bitSize = kindFlag ? off >>> 24 : 0;
            out.add(new BtfMember(string(u32i(p)), u32i(p + 4), bitOffset, bitSize));
        }
        return out;
    }

    // ---------------------------------------------------------------- lookup by name

    /** The struct named {@code name}; also a union, or a typedef of either (e.g. {@code irq_cpustat_t}). */
    public BtfComposite struct(String name) {
        return composite(compositeId(name));
    }

    public boolean hasStruct(String name) {
        return findComposite(name).isPresent();
    }

    /** The id of the named type of {@code kind} (STRUCT, UNION, ENUM/ENUM64, TYPEDEF, or any other kind). */
    public OptionalInt typeId(BtfKind kind, String name) {
        Index ix = index();
        Integer id;
        switch (kind) {
            case STRUCT -> id = ix.structs.get(name);
            case UNION -> id = ix.unions.get(name);
            case ENUM, ENUM64 -> id = ix.enums.get(name);
            case TYPEDEF -> id = ix.typedefs.get(name);
            default -> {
                id = null;
                for (int i = 1; i < count && id == null; i++) {
                    if (kindOf(i) == kind && nameEquals(i, name)) {
                        id = i;
                    }
                }
            }
        }
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The enum named {@code name} (or a typedef of one). */
    public BtfEnum enumType(String name) {
        Integer id = index().enums.get(name);
        if (id == null) {
            Integer td = index().typedefs.get(name);
            if (td != null && kindOf(resolveId(td)).isEnum()) {
                id = td;
            }
        }
        if (id == null) {
            throw new GuestLayoutException("BTF has no enum " + name);
        }
        return enumType(id);
    }

    /** Value of {@code enumerator} in enum {@code enumName}. */
    public long enumValue(String enumName, String enumerator) {
        BtfEnum e = enumType(enumName);
        return e.value(enumerator).orElseThrow(() -> new GuestLayoutException(
                "BTF enum " + enumName + " has no enumerator '" + enumerator + "'"));
    }

    /** Name of the enumerator with {@code value} in enum {@code enumName}, empty if none has it. */
    public Optional<String> enumName(String enumName, long value) {
        return enumType(enumName).name(value);
    }

    /** Value of an enumerator of any enum, named or anonymous (many kernel constants live there). */
    public long constant(String enumerator) {
        Long v = index().constants.get(enumerator);
        if (v == null) {
            throw new GuestLayoutException("BTF has no enumerator '" + enumerator + "'");
        }
        return v;
    }

    /** Like {@link #constant} but empty when no enum has {@code enumerator}. */
    public java.util.OptionalLong findConstant(String enumerator) {
        Long v = index().constants.get(enumerator);
        return v == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(v);
    }

    private int compositeId(String name) {
        return findComposite(name).orElseThrow(() -> new GuestLayoutException("BTF has no struct " + name));
    }

    private OptionalInt findComposite(String name) {
        Index ix = index();
        Integer id = ix.structs.get(name);
        if (id == null) {
            id = ix.unions.get(name);
        }
        if (id == null) {
            Integer td = ix.typedefs.get(name);
            if (td != null && kindOf(resolveId(td)).isComposite()) {
                id = td;
            }
        }
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    private Index index() {
        Index ix = index;
        if (ix == null) {
            ix = new Index();
            for (int id = 1; id < count; id++) {
                BtfKind k = kindOf(id);
                Map<String, Integer> map;
                switch (k) {
                    case STRUCT -> map = ix.structs;
                    case UNION -> map = ix.unions;
                    case ENUM, ENUM64 -> map = ix.enums;
                    case TYPEDEF -> map = ix.typedefs;
                    default -> map = null;
                }
                if (map != null && nameOff[id] != 0) {
                    // The first definition wins; a later empty duplicate must not hide a full one.
                    String n = name(id);
                    Integer old = map.get(n);
                    if (old == null || (vlen(old) == 0 && vlen(id) > 0 && k != BtfKind.TYPEDEF)) {
                        map.put(n, id);
                    }
                }
                if (k.isEnum()) {
                    for (BtfEnum.Enumerator e : enumType(id).values()) {
                        ix.constants.putIfAbsent(e.name(), e.value());
                    }
                }
            }
            index = ix;
        }
        return ix;
    }

    private static final class Index {
        final Map<String, Integer> structs = new HashMap<>();
        final Map<String, Integer> unions = new HashMap<>();
        final Map<String, Integer> enums = new HashMap<>();
        final Map<String, Integer> typedefs = new HashMap<>();
        final Map<String, Long> constants = new HashMap<>();
    }

    // ---------------------------------------------------------------- fields

    /**
     * The field at {@code path} in struct {@code struct}: member names separated by dots, members
     * of anonymous structs and unions found as if direct (as in C), array elements as
     * {@code name[i]}. E.g. {@code field("task_struct", "__state")},
     * {@code field("hrtimer_cpu_base", "clock_base[1].offset")}.
     *
     * @throws GuestLayoutException naming the struct and field if either is missing
     */
    public BtfField field(String struct, String path) {
        return findField(struct, path).orElseGet(() -> field(struct, path, true));
    }

    /** Like {@link #field} but empty if the struct or field does not exist (e.g. renamed across kernels). */
    public Optional<BtfField> findField(String struct, String path) {
        // The probe asks for the same few dozen fields several times a second: resolve each once.
        return fieldCache.computeIfAbsent(struct + '\u0000' + path,
                k -> hasStruct(struct) ? Optional.ofNullable(field(struct, path, false)) : Optional.empty());
    }

    private final java.util.concurrent.ConcurrentHashMap<String, Optional<BtfField>> fieldCache =
            new java.util.concurrent.ConcurrentHashMap<>();

    private BtfField field(String struct, String path, boolean required) {
        Objects.requireNonNull(path, "path");
        int typeId = compositeId(struct);
        long bit = 0;
        int bitSize = 0;
        String where = kindOf(typeId) == BtfKind.TYPEDEF ? struct : composite(typeId).cName();
        String[] parts = path.split("\\.", -1);
        for (int p = 0; p < parts.length; p++) {
            String part = parts[p];
            int bracket = part.indexOf('[');
            String name = bracket < 0 ? part : part.substring(0, bracket);
            if (name.isEmpty()) {
                throw new IllegalArgumentException("empty member name in field path '" + path + "'");
            }
            if (bitSize != 0) {
                throw new GuestLayoutException("BTF field " + struct + "." + String.join(".", Arrays.copyOf(parts, p))
                        + " is a bitfield, it has no field '" + name + "'");
            }
            int cur = resolveId(typeId);
            if (!kindOf(cur).isComposite()) {
                throw new GuestLayoutException("BTF field " + struct + "." + String.join(".", Arrays.copyOf(parts, p))
                        + " is " + typeName(typeId) + ", not a struct or union, so it has no field '" + name + "'");
            }
            long[] hit = lookup(cur, name, 0);
            if (hit == null) {
                if (!required) {
                    return null;
                }
                String in = p == 0 ? where : typeName(typeId) + " (" + struct + "."
                        + String.join(".", Arrays.copyOf(parts, p)) + ")";
                throw new GuestLayoutException("BTF has no field '" + name + "' in " + in);
            }
            typeId = (int) hit[0];
            bit += hit[1];
            bitSize = (int) hit[2];
            if (bracket >= 0) {
                for (long idx : indices(part.substring(bracket), path)) {
                    int arr = resolveId(typeId);
                    if (kindOf(arr) != BtfKind.ARRAY) {
                        throw new GuestLayoutException("BTF field " + struct + "." + path + ": " + name + " is "
                                + typeName(typeId) + ", not an array");
                    }
                    BtfArray a = array(arr);
                    if (idx >= a.length()) {
                        throw new GuestLayoutException("BTF field " + struct + "." + path + ": index " + idx
                                + " is outside " + typeName(typeId));
                    }
                    bit += idx * sizeOf(a.elementType(), 0) * 8;
                    typeId = a.elementType();
                }
            }
        }
        int r = resolveId(typeId);
        if (bitSize == 0 && kindOf(r) == BtfKind.INT) {
            // Bitfields in blobs without kind_flag: the INT itself carries bit offset and width.
            BtfInt enc = intEncoding(r);
            if (enc.bitOffset() != 0 || enc.bits() != 8L * sizeType[r]) {
                bit += enc.bitOffset();
                bitSize = enc.bits();
            }
        }
        if (bitSize > 64) {
            throw bad("field " + struct + "." + path + " is a bitfield of " + bitSize + " bits (expected: <= 64)");
        }
        boolean signed = kindOf(r) == BtfKind.INT ? intEncoding(r).signed() : kindOf(r).isEnum() && info[r] < 0;
        String typeName = typeName(typeId) + (bitSize != 0 ? ":" + bitSize : "");
        if (bit / 8 > Integer.MAX_VALUE) {
            throw bad("field " + struct + "." + path + " lies beyond 2 GiB");
        }
        return new BtfField(struct, path, (int) (bit / 8), bit, bitSize, size(typeId), typeId, type(r), typeName,
                signed);
    }

    private static long[] indices(String brackets, String path) {
        List<Long> out = new ArrayList<>();
        int i = 0;
        while (i < brackets.length()) {
            int close = brackets.indexOf(']', i);
            if (brackets.charAt(i) != '[' || close < 0) {
                throw new IllegalArgumentException("bad array index in field path '" + path + "'");
            }
            try {
                out.add(Long.parseLong(brackets.substring(i + 1, close)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad array index in field path '" + path + "'", e);
            }
            if (out.get(out.size() - 1) < 0) {
                throw new IllegalArgumentException("negative array index in field path '" + path + "'");
            }
            i = close + 1;
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** {type id, bit offset, bit size} of member {@code name} of composite {@code id}, looking into anonymous members. */
    private long[] lookup(int id, String name, int depth) {
        if (depth > MAX_DEPTH) {
            throw bad("anonymous members of type id " + id + " nest deeper than " + MAX_DEPTH);
        }
        int n = vlen(id);
        boolean kindFlag = info[id] < 0;
        int d = data[id];
        for (int i = 0; i < n; i++) {
            int p = d + 12 * i;
            int nameAt = u32i(p);
            int type = u32i(p + 4);
            int off = u32i(p + 8);
            long bitOffset = kindFlag ? off & 0xffffff : Integer.toUnsignedLong(off);
            int bitSize = kindFlag ? off >>> 24 : 0;
            if (nameAt != 0) {
                if (stringEquals(nameAt, name)) {
                    return new long[] {type, bitOffset, bitSize};
                }
            } else {
                int r = resolveId(type, depth);
                if (kindOf(r).isComposite()) {
                    long[] hit = lookup(r, name, depth + 1);
                    if (hit != null) {
                        hit[1] += bitOffset;
                        return hit;
                    }
                }
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- describe

    /** Pahole-like member list of {@code struct}, anonymous struct and union members expanded inline. */
    public List<BtfMemberRow> describe(String struct) {
        return describe(compositeId(struct));
    }

    /** Like {@link #describe(String)} for type id {@code id}. */
    public List<BtfMemberRow> describe(int id) {
        List<BtfMemberRow> rows = new ArrayList<>();
        describe(composite(id).id(), 0, 0, rows);
        return rows;
    }

    private void describe(int id, long base, int depth, List<BtfMemberRow> rows) {
        if (depth > MAX_DEPTH) {
            throw bad("anonymous members of type id " + id + " nest deeper than " + MAX_DEPTH);
        }
        for (BtfMember m : members(id)) {
            long bit = base + m.bitOffset();
            if (bit / 8 > Integer.MAX_VALUE) {
                throw bad("member '" + m.name() + "' of type id " + id + " lies beyond 2 GiB");
            }
            String suffix = m.isBitfield() ? ":" + m.bitSize() : "";
            String type = typeName(m.typeId()) + suffix;
            String decl = render(m.typeId(), m.name(), 0) + suffix;
            rows.add(new BtfMemberRow(depth, m.name(), type, (int) (bit / 8), size(m.typeId()), bit, m.bitSize(),
                    decl));
            int r = resolveId(m.typeId());
            if (m.name().isEmpty() && kindOf(r).isComposite()) {
                describe(r, bit, depth + 1, rows);
            }
        }
    }

    /**
     * {@link #describe(String)} as text, like pahole: one member a line with
     * {@code offset[:bit] size} in a trailing comment.
     */
    public String describeText(String struct) {
        BtfComposite c = struct(struct);
        StringBuilder sb = new StringBuilder();
        sb.append(c.union() ? "union " : "struct ").append(struct).append(" {\n");
        List<BtfMemberRow> rows = describe(c.id());
        int open = 0;
        for (BtfMemberRow row : rows) {
            for (; open > row.depth(); open--) {
                sb.append("\t".repeat(open)).append("};\n");
            }
            String indent = "\t".repeat(row.depth() + 1);
            boolean anonymous = row.name().isEmpty() && row.type().endsWith("{...}");
            String where = row.offset() + (row.bitSize() != 0 ? ":" + (row.bitOffset() - 8L * row.offset()) : "");
            if (anonymous) {
                sb.append(indent).append(row.type(), 0, row.type().length() - 4).append("\t/* ").append(where)
                        .append(' ').append(row.size()).append(" */\n");
                open = row.depth() + 1;
            } else {
                sb.append(indent).append(row.declaration()).append(";\t/* ").append(where).append(' ')
                        .append(row.size()).append(" */\n");
            }
        }
        for (; open > 0; open--) {
            sb.append("\t".repeat(open)).append("};\n");
        }
        sb.append("};\t/* size ").append(c.size()).append(" */\n");
        return sb.toString();
    }

    // ---------------------------------------------------------------- rendering and sizes

    private String render(int id, String decl, int depth) {
        if (depth > MAX_DEPTH) {
            throw bad("type id " + id + " is in a type chain deeper than " + MAX_DEPTH);
        }
        if (id == 0) {
            return join("void", decl);
        }
        BtfKind k = kindOf(id);
        switch (k) {
            case INT:
            case FLOAT:
            case TYPEDEF:
            case FUNC:
            case DATASEC:
                return join(name(id), decl);
            case STRUCT:
                return join("struct " + nameOrAnon(id), decl);
            case UNION:
                return join("union " + nameOrAnon(id), decl);
            case ENUM:
            case ENUM64:
                return join("enum " + nameOrAnon(id), decl);
            case FWD:
                return join((info[id] < 0 ? "union " : "struct ") + name(id), decl);
            case PTR: {
                BtfKind target = kindOf(sizeType[id]);
                boolean wrap = target == BtfKind.ARRAY || target == BtfKind.FUNC_PROTO;
                return render(sizeType[id], wrap ? "(*" + decl + ")" : "*" + decl, depth + 1);
            }
            case ARRAY: {
                int d = data[id];
                return render(u32i(d), decl + "[" + u32(blob, d + 8) + "]", depth + 1);
            }
            case CONST:
            case VOLATILE:
            case RESTRICT: {
                String q = k == BtfKind.CONST ? "const" : k == BtfKind.VOLATILE ? "volatile" : "restrict";
                BtfKind target = kindOf(sizeType[id]);
                if (target == BtfKind.PTR) {
                    return render(sizeType[id], q + (decl.isEmpty() ? "" : " " + decl), depth + 1);
                }
                return q + " " + render(sizeType[id], decl, depth + 1);
            }
            case TYPE_TAG:
            case DECL_TAG:
                return render(sizeType[id], decl, depth + 1);
            case VAR:
                return render(sizeType[id], join(name(id), decl), depth + 1);
            case FUNC_PROTO: {
                StringBuilder params = new StringBuilder();
                int n = vlen(id);
                for (int i = 0; i < n; i++) {
                    int t = u32i(data[id] + 8 * i + 4);
                    params.append(i == 0 ? "" : ", ").append(t == 0 && i == n - 1 ? "..." : render(t, "", depth + 1));
                }
                return render(sizeType[id], decl + "(" + (n == 0 ? "void" : params) + ")", depth + 1);
            }
            default:
                throw bad("type id " + id + " has kind " + k);
        }
    }

    private static String join(String base, String decl) {
        if (decl.isEmpty()) {
            return base;
        }
        return base + (decl.startsWith("[") ? "" : " ") + decl;
    }

    private String nameOrAnon(int id) {
        return nameOff[id] == 0 ? "{...}" : name(id);
    }

    private long sizeOf(int id, int depth) {
        if (depth > MAX_DEPTH) {
            throw bad("type id " + id + " is in a type chain deeper than " + MAX_DEPTH);
        }
        checkId(id);
        if (id == 0) {
            return 0;
        }
        switch (kindOf(id)) {
            case INT:
            case STRUCT:
            case UNION:
            case ENUM:
            case ENUM64:
            case FLOAT:
            case DATASEC:
                return Integer.toUnsignedLong(sizeType[id]);
            case PTR:
                return POINTER_SIZE;
            case ARRAY: {
                long n = u32(blob, data[id] + 8);
                long s = sizeOf(u32i(data[id]), depth + 1);
                if (s != 0 && n > Long.MAX_VALUE / 8 / s) {
                    throw bad("array type id " + id + " of " + n + " elements is too large");
                }
                return n * s;
            }
            case TYPEDEF:
            case CONST:
            case VOLATILE:
            case RESTRICT:
            case TYPE_TAG:
            case VAR:
                return sizeOf(sizeType[id], depth + 1);
            default:
                return 0;
        }
    }

    private int resolveId(int id) {
        checkId(id);
        return resolveId(id, 0);
    }

    private int resolveId(int id, int depth) {
        int r = id;
        for (int i = depth; kindOf(r).isModifier(); i++) {
            if (i > MAX_DEPTH) {
                throw bad("type id " + id + " is in a typedef/qualifier chain deeper than " + MAX_DEPTH);
            }
            r = sizeType[r];
        }
        return r;
    }

    // ---------------------------------------------------------------- raw access

    private BtfKind kindOf(int id) {
        return BtfKind.ofCode(kinds[id]);
    }

    private int vlen(int id) {
        return info[id] & 0xffff;
    }

    private String name(int id) {
        return id == 0 ? "" : string(nameOff[id]);
    }

    private String quoted(int id) {
        return nameOff[id] == 0 ? "(anon)" : "'" + name(id) + "'";
    }

    private boolean nameEquals(int id, String name) {
        return stringEquals(nameOff[id], name);
    }

    /** The NUL-terminated string at {@code off}; parse checked it lies in the section, which ends with NUL. */
    private String string(int off) {
        int start = strStart + off;
        int end = start;
        while (blob[end] != 0) {
            end++;
        }
        return new String(blob, start, end - start, StandardCharsets.UTF_8);
    }

    private boolean stringEquals(int off, String s) {
        int start = strStart + off;
        int n = s.length();
        if (off + n >= strLen) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if ((blob[start + i] & 0xff) != s.charAt(i)) {
                return false;
            }
        }
        return blob[start + n] == 0;
    }

    private void checkId(int id) {
        if (id < 0 || id >= count) {
            throw new GuestLayoutException("BTF has no type id " + id + " (last is " + (count - 1) + ")");
        }
    }

    private void requireKind(int id, BtfKind kind) {
        checkId(id);
        if (kindOf(id) != kind) {
            throw new GuestLayoutException("BTF type id " + id + " is " + kindOf(id) + ", not " + kind);
        }
    }

    private int u32i(int pos) {
        return (int) U32.get(blob, pos);
    }

    private static long u32(byte[] b, int pos) {
        return Integer.toUnsignedLong((int) U32.get(b, pos));
    }

    private static GuestLayoutException bad(String what) {
        return new GuestLayoutException("malformed BTF: " + what);
    }
}
