package dev.tickwatch.guest.btf;

/** BTF type kinds with their wire numbers (btf.rst section 2.1, {@code BTF_KIND_*}). */
public enum BtfKind {
    VOID(0), INT(1), PTR(2), ARRAY(3), STRUCT(4), UNION(5), ENUM(6), FWD(7), TYPEDEF(8), VOLATILE(9),
    CONST(10), RESTRICT(11), FUNC(12), FUNC_PROTO(13), VAR(14), DATASEC(15), FLOAT(16), DECL_TAG(17),
    TYPE_TAG(18), ENUM64(19);

    private static final BtfKind[] BY_CODE = values();

    private final int code;

    BtfKind(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The kind numbered {@code code}, or null if this parser does not know it. */
    static BtfKind ofCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /** Kinds that only qualify or rename another type; a layout looks through them. */
    boolean isModifier() {
        return this == TYPEDEF || this == CONST || this == VOLATILE || this == RESTRICT || this == TYPE_TAG;
    }

    boolean isComposite() {
        return this == STRUCT || this == UNION;
    }

    boolean isEnum() {
        return this == ENUM || this == ENUM64;
    }
}
