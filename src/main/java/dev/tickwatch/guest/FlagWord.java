package dev.tickwatch.guest;

import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * State bits a struct once kept as fields of their own and a later kernel keeps in one flags
 * word, read by the bit's name: the value of the enumerator of that name in the kernel's BTF when
 * the kernel makes the bits an enum, else the value the kernel's source gives the name (a
 * {@code #define} leaves nothing in BTF). The old field is read where the kernel has it, so the
 * reading is the same on either side of the change, and never a guess: a struct with neither the
 * field nor the word gives nothing.
 *
 * <p>{@link #TICK_SCHED}: 6.9 ("tick/sched: Move the bit fields to a flags word") replaced
 * {@code tick_sched}'s {@code inidle}, {@code tick_stopped}, {@code idle_active},
 * {@code do_timer_last} (and {@code nohz_mode}) by {@code unsigned long flags} with the
 * {@code TS_FLAG_*} bits of kernel/time/tick-sched.h; Debian's 6.12 has it.
 */
final class FlagWord {

    static final FlagWord TICK_SCHED = new FlagWord("flags", Map.of("TS_FLAG_INIDLE", 1L << 0, "TS_FLAG_STOPPED", 1L << 1,
            "TS_FLAG_IDLE_ACTIVE", 1L << 2, "TS_FLAG_DO_TIMER_LAST", 1L << 3, "TS_FLAG_NOHZ", 1L << 4,
            "TS_FLAG_HIGHRES", 1L << 5));

    private final String word;
    private final Map<String, Long> source;

    FlagWord(String word, Map<String, Long> source) {
        this.word = word;
        this.source = source;
    }

    /** The state {@code field} had, or bit {@code flag} of the flags word; empty when the struct has neither. */
    Optional<Boolean> bit(StructView s, String field, String flag) {
        Optional<Long> old = s.find(field);
        if (old.isPresent()) {
            return Optional.of(old.get() != 0);
        }
        Optional<Long> flags = s.find(word);
        if (flags.isEmpty()) {
            return Optional.empty();
        }
        OptionalLong bit = s.btf().findConstant(flag);
        long mask = bit.isPresent() ? bit.getAsLong() : source.getOrDefault(flag, 0L);
        if (mask == 0) {
            return Optional.empty();
        }
        return Optional.of((flags.get() & mask) != 0);
    }
}
