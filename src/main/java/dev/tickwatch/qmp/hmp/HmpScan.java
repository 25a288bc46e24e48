package dev.tickwatch.qmp.hmp;

/**
 * Character scanning for the HMP replies the probe parses several times a second per guest
 * ({@code info registers -a}, {@code info lapic N}): positions and numbers read in place, without
 * regular expressions, substrings or boxed values. Each method stands for one small regular
 * expression of the parsers it replaced and matches what {@link java.util.regex.Matcher#find()}
 * would: the leftmost place, greedy digit runs, and the same exceptions for numbers that do not
 * fit (RegexParsersEquivalenceTest holds them to that). Ends are exclusive; -1 means no match.
 */
final class HmpScan {

    private HmpScan() {
    }

    static boolean isHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }

    static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** {@code \s} of java.util.regex without UNICODE_CHARACTER_CLASS. */
    static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
    }

    /** Whether {@code lit} occurs at {@code at}, wholly before {@code end}. */
    static boolean at(String s, int at, int end, String lit) {
        return at >= 0 && at + lit.length() <= end && s.startsWith(lit, at);
    }

    /** The end of the run of lower-case hex digits starting at {@code from} (== from when none). */
    static int hexRun(String s, int from, int end) {
        int i = from;
        while (i < end && isHex(s.charAt(i))) {
            i++;
        }
        return i;
    }

    /** The end of the run of decimal digits starting at {@code from} (== from when none). */
    static int digitRun(String s, int from, int end) {
        int i = from;
        while (i < end && isDigit(s.charAt(i))) {
            i++;
        }
        return i;
    }

    /**
     * {@code Long.parseUnsignedLong(s.substring(from, to), 16)}: in place up to 16 digits; longer
     * runs (leading zeros, or too big) go to the JDK, which decides and throws as before.
     */
    static long unsignedHex(String s, int from, int to) {
        if (to - from > 16) {
            return Long.parseUnsignedLong(s.substring(from, to), 16);
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            v = (v << 4) | (c <= '9' ? c - '0' : c - 'a' + 10);
        }
        return v;
    }

    /** {@code Long.parseLong(s.substring(from, to), 16)} for a run of hex digits: signed, so 15 digits in place. */
    static long signedHex(String s, int from, int to) {
        if (to - from > 15) {
            return Long.parseLong(s.substring(from, to), 16);
        }
        return unsignedHex(s, from, to);
    }

    /** {@code Long.parseLong} of a run of decimal digits: 18 digits in place, longer ones to the JDK. */
    static long decimal(String s, int from, int to) {
        if (to - from > 18) {
            return Long.parseLong(s.substring(from, to));
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            v = v * 10 + (s.charAt(i) - '0');
        }
        return v;
    }

    /** {@code Integer.parseInt} of a run of decimal digits: 9 digits in place, longer ones to the JDK. */
    static int decimalInt(String s, int from, int to) {
        if (to - from > 9) {
            return Integer.parseInt(s.substring(from, to));
        }
        return (int) decimal(s, from, to);
    }

    /**
     * The first hex run that follows {@code lit} in [from, end) ({@code LIT([0-9a-f]+)}): its
     * start, or -1. The run ends at {@link #hexRun}.
     */
    static int hexAfter(String s, int from, int end, String lit) {
        int i = from;
        while (true) {
            i = s.indexOf(lit, i);
            if (i < 0 || i + lit.length() > end) {
                return -1;
            }
            int v = i + lit.length();
            if (v < end && isHex(s.charAt(v))) {
                return v;
            }
            i++;
        }
    }
}
