package dev.tickwatch.util;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code String.format(Locale.ROOT, pattern, args)} with the same output, for the few conversions
 * the judge's evidence uses ({@code %s %d %x %%}, {@code %Nd}, {@code %0Nd}, {@code %.Nf}), at a
 * fraction of the cost: the judge words its evidence at every sample of every watch (a hundred
 * guests at 4 Hz is 400 decisions a second), and {@link java.util.Formatter} parses the pattern
 * and builds its decimal symbols again each time (a third of the judge's CPU in bench watch-scale).
 * Patterns are parsed once and kept; anything else in a pattern, or an argument of another type,
 * goes to {@code String.format} itself, so the output never differs, only the cost.
 */
public final class Fmt {

    private Fmt() {
    }

    /** A parsed pattern: literal text (String) and conversions (Spec), in order; null when Fmt does not handle it. */
    private static final ConcurrentHashMap<String, Object[]> PARSED = new ConcurrentHashMap<>();
    private static final Object[] UNHANDLED = new Object[0];
    private static final long[] POW10 = {1, 10, 100, 1000, 10_000, 100_000, 1_000_000};

    /** One conversion: {@code %[0][width][.precision]conversion}. */
    private record Spec(char conversion, int width, boolean zeroPad, int precision) {
    }

    /** The same text as {@code String.format(Locale.ROOT, pattern, args)}. */
    public static String format(String pattern, Object... args) {
        Object[] parts = PARSED.computeIfAbsent(pattern, Fmt::parse);
        if (parts == UNHANDLED) {
            return String.format(Locale.ROOT, pattern, args);
        }
        StringBuilder sb = new StringBuilder(pattern.length() + 16 * args.length);
        int next = 0;
        for (Object p : parts) {
            if (p instanceof String s) {
                sb.append(s);
                continue;
            }
            if (next >= args.length || !append(sb, (Spec) p, args[next++])) {
                // Too few arguments or one Fmt does not know: Formatter's own answer (or exception).
                return String.format(Locale.ROOT, pattern, args);
            }
        }
        return sb.toString();
    }

    /**
     * {@code %.Nf} of {@code v} as Formatter writes it: the shortest decimal digits that give back
     * the double ({@link Double#toString}), rounded half up at the N-th decimal; the sign of a
     * negative value (or -0.0) kept even when it rounds to zero.
     */
    public static String fixed(double v, int decimals) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return String.format(Locale.ROOT, "%." + decimals + "f", v);
        }
        StringBuilder sb = new StringBuilder(24);
        appendFixed(sb, v, decimals);
        return sb.toString();
    }

    private static void appendFixed(StringBuilder sb, double v, int decimals) {
        if (Double.doubleToRawLongBits(v) < 0) {
            sb.append('-');
            v = -v;
        }
        // Away from a tie (x.x5 at the last decimal kept), rounding the double itself gives what
        // rounding its shortest decimal digits gives: they are within half an ulp of each other,
        // far less than the margin. Durations and shares all take this way; ties go to BigDecimal.
        if (decimals < POW10.length && v * POW10[decimals] < 1e9) {
            long scale = POW10[decimals];
            double x = v * scale; // below 1e9 its rounding error is under 1e-7, the margin 1e-3
            double frac = x - Math.floor(x);
            if (Math.abs(frac - 0.5) > 1e-3) {
                long r = (long) Math.floor(x + 0.5);
                sb.append(r / scale);
                if (decimals > 0) {
                    sb.append('.');
                    String f = Long.toString(r % scale);
                    for (int i = f.length(); i < decimals; i++) {
                        sb.append('0');
                    }
                    sb.append(f);
                }
                return;
            }
        }
        sb.append(new BigDecimal(Double.toString(v)).setScale(decimals, RoundingMode.HALF_UP).toPlainString());
    }

    /** Appends one conversion of {@code arg}; false when Fmt leaves it to Formatter. */
    private static boolean append(StringBuilder sb, Spec s, Object arg) {
        switch (s.conversion) {
            case 's' -> {
                if (arg instanceof java.util.Formattable) {
                    return false;
                }
                sb.append(arg);
                return true;
            }
            case 'd' -> {
                if (!(arg instanceof Long || arg instanceof Integer || arg instanceof Short || arg instanceof Byte)) {
                    return false;
                }
                long n = ((Number) arg).longValue();
                String digits = Long.toString(n);
                if (n < 0 && s.zeroPad) {
                    return false; // "-0001": the sign goes before the zeros; rare enough for Formatter
                }
                for (int i = digits.length(); i < s.width; i++) {
                    sb.append(s.zeroPad ? '0' : ' ');
                }
                sb.append(digits);
                return true;
            }
            case 'x' -> {
                String hex = arg instanceof Long l ? Long.toHexString(l) : arg instanceof Integer i ? Integer.toHexString(i) : null;
                if (hex == null) {
                    return false;
                }
                sb.append(hex);
                return true;
            }
            case 'f' -> {
                if (!(arg instanceof Double || arg instanceof Float)) {
                    return false;
                }
                double v = ((Number) arg).doubleValue();
                if (Double.isNaN(v) || Double.isInfinite(v)) {
                    return false;
                }
                appendFixed(sb, v, s.precision);
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    /** The pattern's parts, or {@link #UNHANDLED} when it has anything but the conversions above. */
    private static Object[] parse(String pattern) {
        List<Object> parts = new ArrayList<>();
        StringBuilder lit = new StringBuilder();
        int i = 0;
        while (i < pattern.length()) {
            char c = pattern.charAt(i);
            if (c != '%') {
                lit.append(c);
                i++;
                continue;
            }
            int j = i + 1;
            boolean zero = j < pattern.length() && pattern.charAt(j) == '0';
            if (zero) {
                j++;
            }
            int width = 0;
            while (j < pattern.length() && Character.isDigit(pattern.charAt(j))) {
                width = width * 10 + (pattern.charAt(j++) - '0');
            }
            int precision = -1;
            if (j < pattern.length() && pattern.charAt(j) == '.') {
                j++;
                precision = 0;
                int start = j;
                while (j < pattern.length() && Character.isDigit(pattern.charAt(j))) {
                    precision = precision * 10 + (pattern.charAt(j++) - '0');
                }
                if (j == start) {
                    return UNHANDLED;
                }
            }
            if (j >= pattern.length()) {
                return UNHANDLED;
            }
            char conv = pattern.charAt(j);
            boolean plain = !zero && width == 0 && precision < 0;
            if (conv == '%' && plain) {
                lit.append('%');
            } else if ((conv == 's' || conv == 'x') && plain
                    || conv == 'd' && precision < 0 && (!zero || width > 0)
                    || conv == 'f' && precision >= 0 && !zero && width == 0) {
                if (lit.length() > 0) {
                    parts.add(lit.toString());
                    lit.setLength(0);
                }
                parts.add(new Spec(conv, width, zero, precision));
            } else {
                return UNHANDLED;
            }
            i = j + 1;
        }
        if (lit.length() > 0) {
            parts.add(lit.toString());
        }
        return parts.toArray();
    }
}
