package dev.tickwatch.guest;

import dev.tickwatch.guest.btf.Btf;
import dev.tickwatch.guest.btf.BtfArray;
import dev.tickwatch.guest.btf.BtfComposite;
import dev.tickwatch.guest.btf.BtfEnum;
import dev.tickwatch.guest.btf.BtfField;
import dev.tickwatch.guest.btf.BtfInt;
import dev.tickwatch.guest.btf.BtfKind;
import dev.tickwatch.guest.btf.BtfMember;
import dev.tickwatch.guest.btf.BtfType;
import dev.tickwatch.guest.sym.SymbolOffset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Typed values read from guest memory, as {@code print} shows them: a variable by name (its type
 * from the BTF {@code VAR} of that name, which pahole emits for every per-CPU variable; without
 * one, an unsigned number of the symbol's size from kallsyms), a per-CPU variable on one CPU
 * (its per-CPU offset plus {@code __per_cpu_offset[cpu]}), or any BTF type at an address. The
 * whole value is read at once (one moment, one round trip) and decoded into a {@link TypedValue}.
 *
 * <p>On x86-64 per-CPU symbols are offsets into the per-CPU area, so kallsyms lists them below the
 * kernel image's addresses, with the top bit clear (arch/x86/kernel/vmlinux.lds.S links
 * {@code .data..percpu} at 0): that is how a per-CPU variable is told from a global one.
 */
public final class Values {

    /** More than this is not a value to print but a dump ({@code read}). */
    public static final int MAX_BYTES = 1 << 20;
    /** Array elements shown before the rest is counted only. */
    public static final int ARRAY_SHOWN = 8;
    /** Struct nesting shown; deeper members are named, not expanded (a bad BTF cannot loop). */
    static final int MAX_DEPTH = 12;

    private Values() {
    }

    /**
     * What {@code print} reads: {@code typeId} -1 when the variable has no BTF type (then
     * {@code size} bytes are an unsigned number); {@code bitShift} and {@code bitSize} for a
     * bitfield picked by a field path; {@code cpu} the CPU of a per-CPU variable, else null;
     * {@code note} what the reader assumed, or null.
     */
    public record Target(String expression, long address, int typeId, int size, int bitShift, int bitSize, Integer cpu,
            String note) {
    }

    /** Whether kernel symbol {@code name} is a per-CPU variable (see the class comment). */
    public static boolean isPerCpu(GuestKernel k, String name) {
        long a = k.symbols().require(name);
        return a >= 0 && k.symbols().addressOf("__per_cpu_end").map(end -> Long.compareUnsigned(a, end) < 0).orElse(true);
    }

    /** The BTF type id of variable {@code name} (per-CPU variables have one), if the guest's BTF has it. */
    public static OptionalInt varType(GuestKernel k, String name) {
        if (!k.hasBtf()) {
            return OptionalInt.empty();
        }
        OptionalInt v = k.btf().typeId(BtfKind.VAR, name);
        return v.isPresent() ? OptionalInt.of(k.btf().type(v.getAsInt()).sizeOrType()) : OptionalInt.empty();
    }

    /** The size of variable {@code name}: its BTF type's, else the distance to the next symbol in kallsyms. */
    public static OptionalLong symbolSize(GuestKernel k, String name) {
        OptionalInt t = varType(k, name);
        if (t.isPresent() && k.btf().size(t.getAsInt()) > 0) {
            return OptionalLong.of(k.btf().size(t.getAsInt()));
        }
        long a = k.symbols().require(name);
        Optional<SymbolOffset> s = k.symbols().lookup(a);
        return s.isPresent() && s.get().offset() == 0 ? OptionalLong.of(s.get().size()) : OptionalLong.empty();
    }

    /**
     * Variable {@code name}, optionally a field in it ({@code hrtimer_bases.expires_next}); for a
     * per-CPU variable on {@code cpu} (null: CPU 0, said in the note).
     *
     * @throws IllegalArgumentException for a CPU out of range or given for a variable that is not per-CPU
     */
    public static Target variable(GuestKernel k, String expression, Integer cpu) {
        String name = expression;
        String path = null;
        if (k.symbols().addressOf(name).isEmpty() && name.indexOf('.') > 0) {
            // Symbol names may hold dots (foo.constprop.0): the whole name is tried first.
            path = name.substring(name.indexOf('.') + 1);
            name = name.substring(0, name.indexOf('.'));
        }
        long symbol = k.symbols().require(name);
        boolean perCpu = isPerCpu(k, name);
        String note = null;
        Integer on = null;
        long address = symbol;
        if (perCpu) {
            int n = k.cpuCount();
            on = cpu == null ? 0 : cpu;
            if (on < 0 || on >= n) {
                throw new IllegalArgumentException("--cpu " + on + ": the guest has CPUs 0.." + (n - 1));
            }
            if (cpu == null && n > 1) {
                note = name + " is per-CPU: CPU 0 of " + n + " shown (--cpu N for another)";
            }
            address = k.perCpu(name, on);
        } else if (cpu != null) {
            throw new IllegalArgumentException(name + " is not a per-CPU variable: --cpu does not apply");
        }
        OptionalInt type = varType(k, name);
        if (type.isEmpty()) {
            if (path != null) {
                throw new GuestLayoutException(name + " has no BTF type (pahole records per-CPU variables only):"
                        + " give the type, e.g. print 'struct NAME' " + name);
            }
            OptionalLong size = symbolSize(k, name);
            long s = size.orElse(8);
            String why = (k.hasBtf() ? "no BTF type for " + name : "no BTF (" + k.btfProblem() + ")");
            if (s == 1 || s == 2 || s == 4 || s == 8) {
                return new Target(expression, address, -1, (int) s, 0, 0, on, join(note, why + ": shown as an unsigned "
                        + 8 * s + "-bit number" + (size.isPresent() ? " (kallsyms: " + s + " bytes to the next symbol)"
                        : " (size unknown)")));
            }
            return new Target(expression, address, -1, 8, 0, 0, on, join(note, why + "; kallsyms gives "
                    + (size.isPresent() ? s + " bytes to the next symbol (padding, or more than one value)" : "no size")
                    + ": its first 8 bytes shown as an unsigned number"));
        }
        if (path == null) {
            return new Target(expression, address, type.getAsInt(), k.btf().size(type.getAsInt()), 0, 0, on, note);
        }
        return field(k, expression, address, type.getAsInt(), path, on, note);
    }

    /** {@code TYPE} ({@code struct X}, {@code union X}, {@code enum X}, a typedef or a base type) at {@code address}. */
    public static Target at(GuestKernel k, String type, long address) {
        int id = typeByName(k.btf(), type);
        return new Target("(" + type.strip() + ") 0x" + Long.toHexString(address), address, id, k.btf().size(id), 0, 0,
                null, null);
    }

    private static Target field(GuestKernel k, String expression, long address, int typeId, String path, Integer cpu,
            String note) {
        Btf btf = k.btf();
        BtfType t = btf.resolve(typeId);
        if (t.kind() != BtfKind.STRUCT && t.kind() != BtfKind.UNION || t.isAnonymous()) {
            throw new GuestLayoutException(expression + ": " + btf.typeName(typeId) + " has no named fields");
        }
        BtfField f = btf.field(t.name(), path);
        return new Target(expression, address + f.offset(), f.typeId(), f.size(), (int) (f.bitOffset() & 7), f.bitSize(),
                cpu, note);
    }

    /** The type id for a C type name; unknown, a {@link GuestLayoutException} naming it. */
    static int typeByName(Btf btf, String type) {
        String t = type.strip().replaceAll("\\s+", " ");
        OptionalInt id;
        if (t.startsWith("struct ")) {
            id = btf.typeId(BtfKind.STRUCT, t.substring(7));
        } else if (t.startsWith("union ")) {
            id = btf.typeId(BtfKind.UNION, t.substring(6));
        } else if (t.startsWith("enum ")) {
            id = btf.typeId(BtfKind.ENUM, t.substring(5));
        } else {
            id = btf.typeId(BtfKind.TYPEDEF, t);
            if (id.isEmpty()) {
                id = btf.typeId(BtfKind.INT, t);
            }
            if (id.isEmpty()) {
                id = btf.typeId(BtfKind.STRUCT, t);
            }
        }
        return id.orElseThrow(() -> new GuestLayoutException("BTF has no type '" + t + "' (e.g. 'struct hrtimer_cpu_base',"
                + " 'enum tick_device_mode', 'u64')"));
    }

    /** Reads and decodes {@code target}. */
    public static TypedValue read(GuestKernel k, Target target) {
        int size = Math.max(target.size(), 0);
        if (size > MAX_BYTES) {
            throw new IllegalArgumentException(target.expression() + " is " + size + " bytes: more than print shows"
                    + " (at most " + MAX_BYTES + "); 'read' dumps memory");
        }
        byte[] bytes = k.memory().read(target.address(), Math.max(size, target.bitSize() > 0 ? 9 : 0));
        if (target.typeId() < 0) {
            long v = le(bytes, 0, size);
            String type = "u" + 8 * size;
            return new TypedValue(target.expression(), type, target.address(), TypedValue.Kind.INT, v, false, null,
                    List.of(), 0);
        }
        return new Decoder(k, target.address(), bytes).decode(target.expression(), target.typeId(), 0, target.bitShift(),
                target.bitSize(), 0);
    }

    private static String join(String a, String b) {
        return a == null ? b : a + "; " + b;
    }

    static long le(byte[] b, int at, int n) {
        long v = 0;
        for (int i = Math.min(n, 8) - 1; i >= 0; i--) {
            v = (v << 8) | (b[at + i] & 0xffL);
        }
        return v;
    }

    /** Decodes one value read whole: offsets are into {@code bytes}, which start at {@code base}. */
    private static final class Decoder {
        private final GuestKernel k;
        private final Btf btf;
        private final long base;
        private final byte[] bytes;

        Decoder(GuestKernel k, long base, byte[] bytes) {
            this.k = k;
            this.btf = k.btf();
            this.base = base;
            this.bytes = bytes;
        }

        TypedValue decode(String name, int typeId, int off, int bitShift, int bitSize, int depth) {
            BtfType t = btf.resolve(typeId);
            String type = btf.typeName(typeId) + (bitSize != 0 ? ":" + bitSize : "");
            long address = base + off;
            int size = btf.size(t.id());
            if (bitSize == 0 && off + size > bytes.length) {
                return opaque(name, type, address, "outside the bytes read");
            }
            switch (t.kind()) {
                case INT: {
                    BtfInt e = btf.intEncoding(t.id());
                    if (e.bits() != size * 8 && bitSize == 0) {
                        bitSize = e.bits(); // an old-style bitfield: its width in the INT encoding
                        bitShift += e.bitOffset();
                    }
                    if (bitSize == 0 && size > 8) {
                        return opaque(name, type, address, size + "-byte integer: 0x" + hex(off, size));
                    }
                    long v = bitSize != 0 ? bits(off, bitShift, bitSize, e.signed()) : number(off, size, e.signed());
                    TypedValue.Kind kind = (e.encoding() & BtfInt.BOOL) != 0 ? TypedValue.Kind.BOOL
                            : (e.encoding() & BtfInt.CHAR) != 0 || size == 1 && t.name().equals("char")
                                    ? TypedValue.Kind.CHAR : TypedValue.Kind.INT;
                    return new TypedValue(name, type, address, kind, v, e.signed(), null, List.of(), 0);
                }
                case ENUM:
                case ENUM64: {
                    BtfEnum en = btf.enumType(t.id());
                    long v = bitSize != 0 ? bits(off, bitShift, bitSize, en.signed()) : number(off, size, en.signed());
                    return new TypedValue(name, type, address, TypedValue.Kind.ENUM, v, en.signed(), en.name(v).orElse(null),
                            List.of(), 0);
                }
                case PTR: {
                    long v = le(bytes, off, 8);
                    String symbol = v == 0 ? null : k.symbols().lookup(v).map(SymbolOffset::toString).orElse(null);
                    return new TypedValue(name, type, address, TypedValue.Kind.POINTER, v, false, symbol, List.of(), 0);
                }
                case FLOAT:
                    return new TypedValue(name, type, address, TypedValue.Kind.FLOAT, le(bytes, off, size), false,
                            size == 4 || size == 8 ? null : size + "-byte float", List.of(), 0);
                case STRUCT:
                case UNION:
                    return composite(name, type, t, off, depth);
                case ARRAY:
                    return array(name, type, t, off, depth);
                default:
                    return opaque(name, type, address, t.kind() == BtfKind.FWD ? "incomplete type (declared only)"
                            : "no value (" + t.kind().name().toLowerCase(java.util.Locale.ROOT) + ")");
            }
        }

        private TypedValue composite(String name, String type, BtfType t, int off, int depth) {
            BtfComposite c = btf.composite(t.id());
            TypedValue.Kind kind = c.union() ? TypedValue.Kind.UNION : TypedValue.Kind.STRUCT;
            if (depth >= MAX_DEPTH) {
                return new TypedValue(name, type, base + off, kind, 0, false, "nested deeper than " + MAX_DEPTH
                        + ": print it by its address", List.of(), 0);
            }
            List<TypedValue> members = new ArrayList<>(c.members().size());
            for (BtfMember m : c.members()) {
                int at = off + (int) (m.bitOffset() / 8);
                members.add(decode(m.name(), m.typeId(), at, (int) (m.bitOffset() & 7), m.bitSize(), depth + 1));
            }
            return new TypedValue(name, type, base + off, kind, 0, false, null, members, 0);
        }

        private TypedValue array(String name, String type, BtfType t, int off, int depth) {
            BtfArray a = btf.array(t.id());
            int elemSize = btf.size(a.elementType());
            BtfType elem = btf.resolve(a.elementType());
            // char[] is text; u8[] (unsigned char) is bytes, shown as numbers.
            if (elem.kind() == BtfKind.INT && elemSize == 1 && (elem.name().equals("char")
                    || (btf.intEncoding(elem.id()).encoding() & BtfInt.CHAR) != 0)) {
                int n = 0;
                while (n < a.length() && bytes[off + n] != 0) {
                    n++;
                }
                return new TypedValue(name, type, base + off, TypedValue.Kind.STRING, 0, false,
                        new String(bytes, off, n, StandardCharsets.ISO_8859_1), List.of(), 0);
            }
            if (elemSize == 0) {
                return opaque(name, type, base + off, a.length() == 0 ? "empty (a flexible array)" : "elements of no size");
            }
            int shown = (int) Math.min(a.length(), ARRAY_SHOWN);
            List<TypedValue> elements = new ArrayList<>(shown);
            for (int i = 0; i < shown; i++) {
                elements.add(decode("[" + i + "]", a.elementType(), off + i * elemSize, 0, 0, depth + 1));
            }
            return new TypedValue(name, type, base + off, TypedValue.Kind.ARRAY, a.length(), false, null, elements,
                    a.length() - shown);
        }

        private TypedValue opaque(String name, String type, long address, String why) {
            return new TypedValue(name, type, address, TypedValue.Kind.OPAQUE, 0, false, why, List.of(), 0);
        }

        private long number(int off, int size, boolean signed) {
            long v = le(bytes, off, size);
            return signed && size < 8 ? (v << (64 - 8 * size)) >> (64 - 8 * size) : v;
        }

        private long bits(int off, int shift, int width, boolean signed) {
            int n = (shift + width + 7) / 8;
            long v = le(bytes, off, Math.min(n, 8)) >>> shift;
            if (n > 8) {
                v |= (bytes[off + 8] & 0xffL) << (64 - shift);
            }
            if (width < 64) {
                v &= (1L << width) - 1;
                if (signed) {
                    v = (v << (64 - width)) >> (64 - width);
                }
            }
            return v;
        }

        private String hex(int off, int size) {
            StringBuilder sb = new StringBuilder();
            for (int i = size - 1; i >= 0; i--) {
                sb.append(String.format("%02x", bytes[off + i] & 0xff));
            }
            return sb.toString();
        }
    }
}
