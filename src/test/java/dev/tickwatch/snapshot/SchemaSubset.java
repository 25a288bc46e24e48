package dev.tickwatch.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A validator for the part of JSON Schema (draft 2020-12) that snapshot.schema.json uses:
 * {@code type} (one or a list), {@code properties}, {@code required}, {@code additionalProperties}
 * (boolean), {@code items}, {@code enum}, {@code const}, {@code pattern}, {@code minimum},
 * {@code minItems} and local {@code $ref} to {@code #/$defs/NAME}. Anything else in the schema is
 * an error here, so the schema cannot silently use a keyword nobody checks.
 */
final class SchemaSubset {

    private static final List<String> KNOWN = List.of("$schema", "$id", "$defs", "title", "description", "type",
            "properties", "required", "additionalProperties", "items", "enum", "const", "pattern", "minimum",
            "minItems", "$ref");

    private final JsonNode root;

    SchemaSubset(JsonNode root) {
        this.root = root;
    }

    /** Every violation, as "path: problem"; empty when {@code value} is valid. */
    List<String> validate(JsonNode value) {
        List<String> errors = new ArrayList<>();
        check(root, value, "$", errors);
        return errors;
    }

    private void check(JsonNode schema, JsonNode v, String path, List<String> errors) {
        for (Iterator<String> it = schema.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KNOWN.contains(k)) {
                throw new IllegalArgumentException("schema keyword '" + k + "' at " + path + " is not supported");
            }
        }
        if (schema.has("$ref")) {
            String ref = schema.get("$ref").asText();
            if (!ref.startsWith("#/$defs/")) {
                throw new IllegalArgumentException("only #/$defs/ references: " + ref);
            }
            JsonNode target = root.path("$defs").path(ref.substring("#/$defs/".length()));
            if (target.isMissingNode()) {
                throw new IllegalArgumentException("unresolved " + ref);
            }
            check(target, v, path, errors);
        }
        if (schema.has("type")) {
            List<String> types = new ArrayList<>();
            if (schema.get("type").isArray()) {
                schema.get("type").forEach(t -> types.add(t.asText()));
            } else {
                types.add(schema.get("type").asText());
            }
            if (types.stream().noneMatch(t -> is(t, v))) {
                errors.add(path + ": " + kind(v) + " (expected: " + String.join(" or ", types) + ")");
                return;
            }
        }
        if (schema.has("const") && !schema.get("const").equals(v)) {
            errors.add(path + ": " + v + " (expected: " + schema.get("const") + ")");
        }
        if (schema.has("enum")) {
            boolean found = false;
            for (JsonNode e : schema.get("enum")) {
                found |= e.equals(v);
            }
            if (!found) {
                errors.add(path + ": " + v + " is not one of " + schema.get("enum"));
            }
        }
        if (schema.has("pattern") && v.isTextual() && !Pattern.compile(schema.get("pattern").asText()).matcher(v.asText()).find()) {
            errors.add(path + ": '" + v.asText() + "' does not match " + schema.get("pattern").asText());
        }
        if (schema.has("minimum") && v.isNumber() && v.asDouble() < schema.get("minimum").asDouble()) {
            errors.add(path + ": " + v + " < " + schema.get("minimum"));
        }
        if (v.isObject()) {
            for (JsonNode r : schema.path("required")) {
                if (!v.has(r.asText())) {
                    errors.add(path + ": missing '" + r.asText() + "'");
                }
            }
            JsonNode props = schema.path("properties");
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (props.has(f.getKey())) {
                    check(props.get(f.getKey()), f.getValue(), path + "." + f.getKey(), errors);
                } else if (schema.has("additionalProperties") && !schema.get("additionalProperties").asBoolean()) {
                    errors.add(path + ": unexpected property '" + f.getKey() + "'");
                }
            }
        }
        if (v.isArray()) {
            if (schema.has("minItems") && v.size() < schema.get("minItems").asInt()) {
                errors.add(path + ": " + v.size() + " items (expected: >= " + schema.get("minItems") + ")");
            }
            if (schema.has("items")) {
                for (int i = 0; i < v.size(); i++) {
                    check(schema.get("items"), v.get(i), path + "[" + i + "]", errors);
                }
            }
        }
    }

    private static boolean is(String type, JsonNode v) {
        switch (type) {
            case "object": return v.isObject();
            case "array": return v.isArray();
            case "string": return v.isTextual();
            case "integer": return v.isIntegralNumber();
            case "number": return v.isNumber();
            case "boolean": return v.isBoolean();
            case "null": return v.isNull();
            default: throw new IllegalArgumentException("unknown type " + type);
        }
    }

    private static String kind(JsonNode v) {
        return v.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }
}
