package dev.tickwatch.util;

import com.fasterxml.jackson.annotation.JacksonAnnotationsInside;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import dev.tickwatch.ProtocolException;
import java.io.IOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a {@code long} record component that JSON carries as a hex string, the convention of
 * every tickwatch file ({@code "0xffffffff81000000"}, see {@link Json#hex}): a kernel address as a
 * JSON number would lose its low bits in any reader that uses doubles. A value without
 * {@code 0x} is refused rather than guessed at; an absent or null one reads as 0, as any
 * absent number does. For a map of such values use the
 * {@link Writer}/{@link Reader} pair as {@code contentUsing}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.METHOD, ElementType.PARAMETER, ElementType.ANNOTATION_TYPE})
@JacksonAnnotationsInside
@JsonSerialize(using = Hex.Writer.class)
@JsonDeserialize(using = Hex.Reader.class)
public @interface Hex {

    /** Writes a long as {@code "0x..."}, unsigned. */
    final class Writer extends StdSerializer<Long> {

        public Writer() {
            super(Long.class);
        }

        @Override
        public void serialize(Long value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            gen.writeString(Json.hex(value));
        }
    }

    /** Reads {@code "0x..."} back, unsigned. */
    final class Reader extends StdDeserializer<Long> {

        public Reader() {
            super(Long.class);
        }

        @Override
        public Long deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String s = p.getValueAsString();
            if (s == null || !s.startsWith("0x")) {
                throw new ProtocolException("address without 0x: " + (s == null ? p.getText() : s));
            }
            return Long.parseUnsignedLong(s.substring(2), 16);
        }

        @Override
        public Long getNullValue(DeserializationContext ctxt) {
            return 0L;
        }
    }
}
