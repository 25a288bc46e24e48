package dev.tickwatch.util;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/** The one Jackson mapper, and the JSON conventions of the CLI's output. */
public final class Json {

    public static final ObjectMapper MAPPER = new ObjectMapper();
    private static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Records read from files tolerate keys they do not know: a newer writer's file stays readable. */
    private static final ObjectMapper RECORDS = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private Json() {
    }

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    /** Compact, one line: what goes on the wire and into JSON-lines output. */
    public static String compact(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String pretty(JsonNode node) {
        try {
            return PRETTY.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Addresses in JSON output are hex strings, never numbers: {@code "0xffffffff81000000"}. */
    public static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    /** A record (annotated for databind) as a JSON tree. */
    public static ObjectNode tree(Object record) {
        return MAPPER.valueToTree(record);
    }

    /** A JSON tree as a record; unknown keys are ignored. */
    public static <T> T read(JsonNode node, Class<T> type) throws IOException {
        return RECORDS.treeToValue(node, type);
    }

    /**
     * For a {@code long} that files write as -1 when unknown and older files leave out: absent or
     * null reads as -1, not as 0, which would be a reading.
     */
    public static final class MinusOneIfAbsent extends StdDeserializer<Long> {

        public MinusOneIfAbsent() {
            super(Long.class);
        }

        @Override
        public Long deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            return p.getValueAsLong(-1);
        }

        @Override
        public Long getNullValue(DeserializationContext ctxt) {
            return -1L;
        }

        @Override
        public Object getAbsentValue(DeserializationContext ctxt) {
            return -1L;
        }
    }

    /** {@link MinusOneIfAbsent} for an {@code int}. */
    public static final class MinusOneIfAbsentInt extends StdDeserializer<Integer> {

        public MinusOneIfAbsentInt() {
            super(Integer.class);
        }

        @Override
        public Integer deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            return p.getValueAsInt(-1);
        }

        @Override
        public Integer getNullValue(DeserializationContext ctxt) {
            return -1;
        }

        @Override
        public Object getAbsentValue(DeserializationContext ctxt) {
            return -1;
        }
    }
}
