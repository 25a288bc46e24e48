package dev.tickwatch.command;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.guest.TypedValue;
import dev.tickwatch.guest.Values;
import dev.tickwatch.util.Json;
import java.math.BigInteger;

/**
 * A {@link TypedValue} as {@code print} shows it: C declarations with their values, one member a
 * line, nested structs indented by two spaces, pointers in hex with the symbol they point into,
 * enums by name, char arrays as strings, arrays abbreviated after {@link Values#ARRAY_SHOWN}
 * elements. The JSON mirrors the tree: every node has {@code name}, {@code type}, {@code address}
 * and {@code kind}, then {@code value} (a scalar), {@code members} or {@code elements}.
 */
public final class PrintFormat {

    private PrintFormat() {
    }

    /** The whole value, its first line naming what was printed ({@code target}). */
    public static String text(Values.Target target, TypedValue v) {
        StringBuilder sb = new StringBuilder();
        if (target.note() != null) {
            sb.append("# ").append(target.note()).append('\n');
        }
        sb.append("# ").append(target.expression()).append(target.cpu() == null ? "" : " on CPU " + target.cpu())
                .append(" at 0x").append(Long.toHexString(target.address())).append('\n');
        line(sb, v, "", true);
        return sb.toString();
    }

    private static void line(StringBuilder sb, TypedValue v, String indent, boolean top) {
        sb.append(indent);
        if (!v.name().startsWith("[")) {
            boolean plain = !top || v.name().matches("[\\w.\\[\\]]+");
            sb.append(declaration(v.type(), plain ? v.name() : "")).append(" = ");
        } else {
            sb.append(v.name()).append(" = ");
        }
        if (v.kind() == TypedValue.Kind.STRUCT || v.kind() == TypedValue.Kind.UNION
                || v.kind() == TypedValue.Kind.ARRAY && v.members().stream().anyMatch(TypedValue::isComposite)) {
            if (v.text() != null) {
                sb.append("{ ").append(v.text()).append(" }\n");
                return;
            }
            sb.append("{\n");
            for (TypedValue m : v.members()) {
                line(sb, m, indent + "  ", false);
            }
            if (v.omitted() > 0) {
                sb.append(indent).append("  ... ").append(v.omitted()).append(" more\n");
            }
            sb.append(indent).append("}\n");
            return;
        }
        sb.append(scalar(v)).append('\n');
    }

    /** A value on one line: a scalar, a string, or a short array of scalars. */
    static String scalar(TypedValue v) {
        switch (v.kind()) {
            case INT:
                return v.signed() ? Long.toString(v.raw()) : Long.toUnsignedString(v.raw());
            case BOOL:
                return v.raw() != 0 ? "true" : "false";
            case CHAR:
                return v.raw() + (v.raw() >= 0x20 && v.raw() < 0x7f ? " '" + (char) v.raw() + "'" : "");
            case ENUM:
                return v.text() != null ? v.text() : (v.signed() ? Long.toString(v.raw()) : Long.toUnsignedString(v.raw()));
            case POINTER:
                return "0x" + Long.toHexString(v.raw()) + (v.text() == null ? "" : " <" + v.text() + ">");
            case FLOAT:
                return v.text() != null ? "(" + v.text() + ")" : v.type().contains("double") || v.raw() >>> 32 != 0
                        ? Double.toString(Double.longBitsToDouble(v.raw())) : Float.toString(Float.intBitsToFloat((int) v.raw()));
            case STRING:
                return quote(v.text());
            case ARRAY: {
                StringBuilder sb = new StringBuilder("{ ");
                for (int i = 0; i < v.members().size(); i++) {
                    sb.append(i == 0 ? "" : ", ").append(scalar(v.members().get(i)));
                }
                if (v.omitted() > 0) {
                    sb.append(", ... ").append(v.omitted()).append(" more");
                }
                return sb.append(" }").toString();
            }
            default:
                return "(" + v.text() + ")";
        }
    }

    /**
     * {@code type} declared with {@code name}, as C writes it: {@code char comm[16]},
     * {@code struct rb_node *rb_right}, {@code void (*func)(struct x *)}, {@code unsigned int bit:1}.
     */
    static String declaration(String type, String name) {
        if (name.isEmpty()) {
            return type;
        }
        int fn = type.indexOf("(*)");
        if (fn >= 0) {
            return type.substring(0, fn) + "(*" + name + ")" + type.substring(fn + 3);
        }
        int colon = type.lastIndexOf(':');
        if (colon > 0 && type.substring(colon + 1).chars().allMatch(Character::isDigit)) {
            return declaration(type.substring(0, colon), name) + type.substring(colon);
        }
        int dims = type.length();
        while (dims > 0 && type.charAt(dims - 1) == ']') {
            int open = type.lastIndexOf('[', dims - 1);
            if (open < 0) {
                break;
            }
            dims = open;
        }
        String base = type.substring(0, dims);
        return base + (base.endsWith("*") ? "" : " ") + name + type.substring(dims);
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c >= 0x20 && c < 0x7f) {
                sb.append(c);
            } else if (c == '\n') {
                sb.append("\\n");
            } else {
                sb.append(String.format("\\x%02x", (int) c));
            }
        }
        return sb.append('"').toString();
    }

    /** {@code {"expression", "cpu", "address", "type", "note", "value": NODE}}. */
    public static ObjectNode json(Values.Target target, TypedValue v) {
        ObjectNode o = Json.object().put("expression", target.expression());
        if (target.cpu() != null) {
            o.put("cpu", target.cpu());
        } else {
            o.putNull("cpu");
        }
        o.put("address", Json.hex(target.address())).put("type", v.type()).put("note", target.note());
        o.set("value", node(v));
        return o;
    }

    static ObjectNode node(TypedValue v) {
        ObjectNode o = Json.object().put("name", v.name()).put("type", v.type()).put("address", Json.hex(v.address()))
                .put("kind", v.kind().name().toLowerCase(java.util.Locale.ROOT));
        switch (v.kind()) {
            case INT, CHAR -> {
                if (v.signed() || v.raw() >= 0) {
                    o.put("value", v.raw());
                } else {
                    o.put("value", new BigInteger(Long.toUnsignedString(v.raw())));
                }
            }
            case BOOL -> o.put("value", v.raw() != 0);
            case ENUM -> {
                o.put("value", v.text());
                o.put("number", v.signed() || v.raw() >= 0 ? BigInteger.valueOf(v.raw())
                        : new BigInteger(Long.toUnsignedString(v.raw())));
            }
            case POINTER -> o.put("value", Json.hex(v.raw())).put("symbol", v.text());
            case FLOAT, STRING -> o.put("value", v.kind() == TypedValue.Kind.STRING ? v.text() : scalar(v));
            case STRUCT, UNION -> {
                if (v.text() != null) {
                    o.put("not_shown", v.text());
                }
                ArrayNode a = o.putArray("members");
                v.members().forEach(m -> a.add(node(m)));
            }
            case ARRAY -> {
                o.put("length", v.raw()).put("omitted", v.omitted());
                ArrayNode a = o.putArray("elements");
                v.members().forEach(m -> a.add(node(m)));
            }
            default -> o.put("not_shown", v.text());
        }
        return o;
    }
}
