package dev.tickwatch.guest.btf;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * An ENUM or ENUM64 type: {@code size} in bytes, {@code signed} from the kind_flag, enumerators in
 * declaration order with their values sign- or zero-extended to 64 bits accordingly.
 */
public record BtfEnum(int id, String name, int size, boolean signed, List<Enumerator> values) {

    public BtfEnum {
        values = List.copyOf(values);
    }

    public record Enumerator(String name, long value) {
    }

    public OptionalLong value(String enumerator) {
        for (Enumerator e : values) {
            if (e.name().equals(enumerator)) {
                return OptionalLong.of(e.value());
            }
        }
        return OptionalLong.empty();
    }

    /**
     * The first enumerator whose value is {@code value}; compared in {@code size} bytes, so a
     * value read as unsigned finds a negative enumerator and the other way round.
     */
    public Optional<String> name(long value) {
        long mask = size >= 8 ? -1L : (1L << (8 * size)) - 1;
        for (Enumerator e : values) {
            if (e.value() == value || (e.value() & mask) == (value & mask)) {
                return Optional.of(e.name());
            }
        }
        return Optional.empty();
    }
}
