package dev.tickwatch.guest.log;

import java.util.Locale;

/**
 * The syslog levels of {@code include/linux/kern_levels.h} ({@code KERN_EMERG} "0" to
 * {@code KERN_DEBUG} "7"), named as {@code dmesg --level} names them.
 */
public enum LogLevel {
    EMERG, ALERT, CRIT, ERR, WARN, NOTICE, INFO, DEBUG;

    private static final LogLevel[] ALL = values();

    /** The level stored in a record's 3-bit {@code printk_info.level}. */
    public static LogLevel of(int level) {
        return ALL[level & 7];
    }

    public int number() {
        return ordinal();
    }

    /** {@code emerg} .. {@code debug}, as dmesg prints and takes them. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Levels as {@code dmesg --level} takes them: names or numbers separated by commas.
     *
     * @throws IllegalArgumentException for an unknown name or an empty list
     */
    public static java.util.Set<LogLevel> parseList(String names) {
        java.util.Set<LogLevel> out = java.util.EnumSet.noneOf(LogLevel.class);
        for (String n : names.split(",")) {
            if (!n.isBlank()) {
                out.add(parse(n));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no level in '" + names + "'");
        }
        return out;
    }

    /**
     * A level by dmesg's name (also {@code warning}, {@code error}, {@code emergency},
     * {@code critical}, and the number 0-7).
     *
     * @throws IllegalArgumentException naming the levels there are
     */
    public static LogLevel parse(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        switch (n) {
            case "warning" -> n = "warn";
            case "error" -> n = "err";
            case "emergency" -> n = "emerg";
            case "critical" -> n = "crit";
            default -> {
            }
        }
        if (n.length() == 1 && n.charAt(0) >= '0' && n.charAt(0) <= '7') {
            return ALL[n.charAt(0) - '0'];
        }
        for (LogLevel l : ALL) {
            if (l.label().equals(n)) {
                return l;
            }
        }
        throw new IllegalArgumentException("unknown level '" + name
                + "' (expected: emerg, alert, crit, err, warn, notice, info, debug or 0-7)");
    }
}
