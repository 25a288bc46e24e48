package dev.tickwatch.gdb.codec;

import java.nio.charset.StandardCharsets;

/** Hex and checksum helpers shared by the codec and the client (GDB manual, "Overview"). */
public final class Rsp {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Rsp() {
    }

    /** The modulo-256 sum of {@code data}: the checksum of a frame's bytes as sent. */
    public static int checksum(byte[] data, int from, int to) {
        int sum = 0;
        for (int i = from; i < to; i++) {
            sum += data[i] & 0xff;
        }
        return sum & 0xff;
    }

    /** -1 when {@code b} is not a hex digit (either case). */
    public static int hexValue(int b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f') {
            return b - 'a' + 10;
        }
        if (b >= 'A' && b <= 'F') {
            return b - 'A' + 10;
        }
        return -1;
    }

    public static String hex(byte[] data) {
        StringBuilder sb = new StringBuilder(data.length * 2);
        for (byte b : data) {
            sb.append(HEX[(b >> 4) & 0xf]).append(HEX[b & 0xf]);
        }
        return sb.toString();
    }

    public static String hex(String text) {
        return hex(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Decodes hex text ({@code from} inclusive, {@code to} exclusive) into bytes.
     *
     * @throws IllegalArgumentException on an odd length or a non-hex digit
     */
    public static byte[] unhex(byte[] text, int from, int to) {
        if (((to - from) & 1) != 0) {
            throw new IllegalArgumentException("odd hex length: " + (to - from));
        }
        byte[] out = new byte[(to - from) / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = hexValue(text[from + 2 * i]);
            int lo = hexValue(text[from + 2 * i + 1]);
            if (hi < 0 || lo < 0) {
                throw new IllegalArgumentException("not hex at offset " + (2 * i) + ": '"
                        + (char) text[from + 2 * i] + (char) text[from + 2 * i + 1] + "'");
            }
            out[i] = (byte) (hi << 4 | lo);
        }
        return out;
    }

    public static byte[] unhex(String text) {
        byte[] b = text.getBytes(StandardCharsets.ISO_8859_1);
        return unhex(b, 0, b.length);
    }

    /** Whether {@code text[from, to)} is all hex digits and of even length. */
    static boolean isHex(byte[] text, int from, int to) {
        if (((to - from) & 1) != 0) {
            return false;
        }
        for (int i = from; i < to; i++) {
            if (hexValue(text[i]) < 0) {
                return false;
            }
        }
        return true;
    }

    /** At most {@code max} bytes as text, non-printable bytes as '.'. */
    public static String printable(byte[] bytes, int max) {
        return printable(bytes, 0, Math.min(bytes.length, max));
    }

    static String printable(byte[] bytes, int from, int to) {
        StringBuilder sb = new StringBuilder(to - from);
        for (int i = from; i < to; i++) {
            int c = bytes[i] & 0xff;
            sb.append(c >= 0x20 && c < 0x7f ? (char) c : '.');
        }
        return sb.toString();
    }

    /** A frame as it crossed the wire, for transcripts: printable ASCII kept, other bytes as \xNN. */
    public static String wire(byte[] bytes, int from, int to) {
        StringBuilder sb = new StringBuilder(to - from);
        for (int i = from; i < to; i++) {
            int c = bytes[i] & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '\\') {
                sb.append((char) c);
            } else {
                sb.append("\\x").append(HEX[c >> 4]).append(HEX[c & 0xf]);
            }
        }
        return sb.toString();
    }

    /** The inverse of {@link #wire}. */
    public static byte[] unwire(String text) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 3 < text.length() && text.charAt(i + 1) == 'x') {
                out.write(Integer.parseInt(text.substring(i + 2, i + 4), 16));
                i += 3;
            } else {
                out.write(c);
            }
        }
        return out.toByteArray();
    }
}
