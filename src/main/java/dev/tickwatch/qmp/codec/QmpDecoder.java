package dev.tickwatch.qmp.codec;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tickwatch.util.Json;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Frames the QMP byte stream into JSON objects and decodes each into a {@link QmpMessage}
 * (QMP spec, section 2: the server sends one JSON object per message, QEMU ends each with CRLF).
 *
 * <p>Framing counts braces outside strings, like Netty's {@code JsonObjectDecoder}, but a bad
 * frame does not poison the stream: garbage between objects is skipped up to the next '{',
 * an object over {@code maxObjectLength} is skipped to its closing brace, and each becomes one
 * {@link QmpInvalid} message. Memory stays bounded by {@code maxObjectLength} whatever arrives.
 */
public final class QmpDecoder extends ByteToMessageDecoder {

    /** Default limit on one JSON object: {@code query-qmp-schema} alone is about 207 KB. */
    public static final int DEFAULT_MAX_OBJECT_LENGTH = 8 * 1024 * 1024;
    private static final int EXCERPT = 80;
    /** Built once: the mapper's own readTree looks the tree type up again for every frame. */
    private static final ObjectReader TREE = Json.MAPPER.reader();

    private enum State { BETWEEN, GARBAGE, OBJECT, OVERSIZED }

    private final int maxObjectLength;
    private final Consumer<String> frameTap;

    private State state = State.BETWEEN;
    /** Bytes of the current object already scanned, from the reader index. */
    private int scanned;
    private int depth;
    private boolean inString;
    private boolean escaped;
    /** Objects come one a line, as QEMU sends them: see {@link #wholeLine}. */
    private boolean lineFraming = true;

    public QmpDecoder() {
        this(DEFAULT_MAX_OBJECT_LENGTH, null);
    }

    /**
     * @param maxObjectLength largest JSON object accepted, in bytes
     * @param frameTap        receives the text of every complete frame (for transcripts), or null
     */
    public QmpDecoder(int maxObjectLength, Consumer<String> frameTap) {
        if (maxObjectLength < 64) {
            throw new IllegalArgumentException("maxObjectLength: " + maxObjectLength + " (expected: >= 64)");
        }
        this.maxObjectLength = maxObjectLength;
        this.frameTap = frameTap;
    }

    /** Bytes held back waiting for the rest of a frame: never more than the size limit plus one read. */
    public int bufferedBytes() {
        return actualReadableBytes();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            switch (state) {
                case BETWEEN -> {
                    byte b = in.getByte(in.readerIndex());
                    if (isWhitespace(b)) {
                        in.skipBytes(1);
                    } else if (b == '{') {
                        startObject();
                    } else {
                        // Reported at once (a decoder must consume what it reports), then skipped.
                        out.add(new QmpInvalid("garbage between messages, skipped up to the next '{'",
                                excerpt(in, in.readerIndex(), Math.min(in.readableBytes(), EXCERPT))));
                        in.skipBytes(1);
                        state = State.GARBAGE;
                    }
                }
                case GARBAGE -> {
                    int brace = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '{');
                    in.readerIndex(brace < 0 ? in.writerIndex() : brace);
                    if (brace < 0) {
                        return;
                    }
                    state = State.BETWEEN;
                }
                case OBJECT -> {
                    if (scanned == 0 && lineFraming) {
                        QmpMessage whole = wholeLine(in);
                        if (whole != null) {
                            out.add(whole);
                            state = State.BETWEEN;
                            continue;
                        }
                    }
                    int end = scan(in, in.readerIndex() + scanned);
                    if (end < 0) {
                        scanned = in.readableBytes();
                        if (scanned > maxObjectLength) {
                            // Keep counting braces while discarding, so the stream stays in sync.
                            out.add(new QmpInvalid("object length: > " + maxObjectLength
                                    + " (expected: <= " + maxObjectLength + ")",
                                    excerpt(in, in.readerIndex(), EXCERPT)));
                            in.skipBytes(in.readableBytes());
                            state = State.OVERSIZED;
                        }
                        return;
                    }
                    int length = end - in.readerIndex() + 1;
                    QmpReturn text;
                    if (length > maxObjectLength) {
                        out.add(new QmpInvalid("object length: " + length + " (expected: <= "
                                + maxObjectLength + ")", excerpt(in, in.readerIndex(), EXCERPT)));
                        in.readerIndex(end + 1);
                    } else if (frameTap == null && (text = textReturn(in, in.readerIndex(), end + 1)) != null) {
                        in.readerIndex(end + 1);
                        out.add(text);
                    } else {
                        byte[] frame = new byte[length];
                        in.readBytes(frame);
                        out.add(parse(frame));
                    }
                    state = State.BETWEEN;
                }
                case OVERSIZED -> {
                    int end = scan(in, in.readerIndex());
                    if (end < 0) {
                        in.skipBytes(in.readableBytes());
                        return;
                    }
                    in.readerIndex(end + 1);
                    state = State.BETWEEN;
                }
                default -> throw new IllegalStateException(state.name());
            }
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        decode(ctx, in, out);
        switch (state) {
            case OBJECT, OVERSIZED -> out.add(new QmpInvalid("truncated object at end of stream: "
                    + Math.max(in.readableBytes(), scanned) + " bytes", excerpt(in, in.readerIndex(),
                    Math.min(in.readableBytes(), EXCERPT))));
            default -> { }
        }
        in.skipBytes(in.readableBytes());
        state = State.BETWEEN;
    }

    private void startObject() {
        state = State.OBJECT;
        scanned = 0;
        depth = 0;
        inString = false;
        escaped = false;
    }

    /**
     * Scans from {@code from}; returns the index of the brace closing the object, or -1. Most of
     * a frame's bytes are inside one string (an {@code info registers -a} reply is kilobytes,
     * four times a second per guest), so a string is crossed by {@link ByteBuf#indexOf} hops from
     * backslash to backslash up to its closing quote, not a byte at a time.
     */
    private int scan(ByteBuf in, int from) {
        int end = in.writerIndex();
        int quote = -1; // the next '"' at or after i inside the current string, once looked up
        int i = from;
        while (i < end) {
            if (inString) {
                if (escaped) {
                    escaped = false;
                    i++;
                    continue;
                }
                if (quote < i) {
                    quote = in.indexOf(i, end, (byte) '"');
                }
                int limit = quote < 0 ? end : quote;
                int backslash = in.indexOf(i, limit, (byte) '\\');
                if (backslash >= 0) {
                    escaped = true;
                    i = backslash + 1;
                } else if (quote < 0) {
                    return -1;
                } else {
                    inString = false;
                    i = quote + 1;
                }
                continue;
            }
            byte b = in.getByte(i);
            if (b == '"') {
                inString = true;
            } else if (b == '{' || b == '[') {
                depth++;
            } else if (b == '}' || b == ']') {
                if (--depth == 0) {
                    return i;
                }
            }
            i++;
        }
        return -1;
    }

    /**
     * The object starting at the reader index when it is a whole line: QEMU ends every message
     * with CRLF and escapes line breaks inside strings, so a line that parses as one JSON object
     * and nothing after it is that object, framed without {@link #scan} (which reads every
     * kilobyte of an {@code info registers -a} reply once more before Jackson does). Null, with
     * nothing consumed, when there is no line end yet, or the line is anything else (pretty-printed
     * output, two objects on a line, malformed JSON, garbage): then the brace scan frames it
     * exactly as before, and, since this peer does not keep to one object a line, goes on doing so.
     */
    private QmpMessage wholeLine(ByteBuf in) {
        int start = in.readerIndex();
        int nl = in.indexOf(start, in.writerIndex(), (byte) '\n');
        if (nl < 0 || nl - start + 1 > maxObjectLength) {
            return null;
        }
        if (frameTap == null) {
            QmpReturn text = textReturn(in, start, nl);
            if (text != null) {
                in.readerIndex(nl + 1);
                return text;
            }
        }
        byte[] line = new byte[nl - start];
        in.getBytes(start, line);
        JsonNode node;
        try (JsonParser p = TREE.createParser(line)) {
            node = TREE.readTree(p);
            if (node == null || p.nextToken() != null) {
                lineFraming = false;
                return null;
            }
        } catch (IOException e) {
            lineFraming = false;
            return null;
        }
        in.readerIndex(nl + 1);
        if (frameTap != null) {
            frameTap.accept(Json.compact(node));
        }
        return classify(node, line);
    }

    /**
     * The line {@code [start, nl)} read without Jackson when it is what nearly every line of a
     * watch is, an HMP reply: {@code {"return": "text", "id": 7}}, compact or with QEMU's spacing,
     * the text in ASCII with JSON's escapes. Jackson's string decoding was the largest single
     * cost of watching a hundred guests (10 % of the watcher's CPU samples: kilobytes of
     * {@code info registers -a} four times a second each, a {@code \r\n} escape every line).
     * Null, having consumed nothing, for anything else, valid or not: Jackson then decides, so
     * what comes out is always what Jackson makes of the line (QmpDecoderFuzzTest).
     */
    static QmpReturn textReturn(ByteBuf in, int start, int nl) {
        int end = nl > start && in.getByte(nl - 1) == '\r' ? nl - 1 : nl;
        int i = skipSpaces(in, start, end);
        if (i >= end || in.getByte(i) != '{') {
            return null;
        }
        i = skipSpaces(in, i + 1, end);
        if (!startsWith(in, i, end, RETURN_KEY)) {
            return null;
        }
        i = skipSpaces(in, i + RETURN_KEY.length, end);
        if (i >= end || in.getByte(i) != ':') {
            return null;
        }
        i = skipSpaces(in, i + 1, end);
        if (i >= end || in.getByte(i) != '"') {
            return null;
        }
        // The text: runs between backslashes copied whole, each escape decoded; ASCII only.
        byte[] text = new byte[end - i];
        int n = 0;
        int quote = in.indexOf(i + 1, end, (byte) '"');
        i++;
        while (true) {
            if (quote < 0) {
                return null;
            }
            int backslash = in.indexOf(i, quote, (byte) '\\');
            int runEnd = backslash < 0 ? quote : backslash;
            in.getBytes(i, text, n, runEnd - i);
            for (int j = n + runEnd - i; n < j; n++) {
                if (text[n] < 0x20) { // a raw control character (Jackson rejects it), or not ASCII (Java bytes are signed)
                    return null;
                }
            }
            if (backslash < 0) {
                i = quote + 1;
                break;
            }
            if (backslash + 1 >= end) {
                return null;
            }
            byte e = in.getByte(backslash + 1);
            int c;
            int next = backslash + 2;
            switch (e) {
                case '"', '\\', '/' -> c = e;
                case 'b' -> c = '\b';
                case 'f' -> c = '\f';
                case 'n' -> c = '\n';
                case 'r' -> c = '\r';
                case 't' -> c = '\t';
                case 'u' -> {
                    c = next + 4 <= end ? hex4(in, next) : -1;
                    next += 4;
                }
                default -> c = -1;
            }
            if (c < 0 || c >= 0x80) {
                return null;
            }
            text[n++] = (byte) c;
            i = next;
            if (quote < i) {
                // The escape was a quote (or its u-escape ended past the one found): find the closing one again.
                quote = in.indexOf(i, end, (byte) '"');
            }
        }
        i = skipSpaces(in, i, end);
        JsonNode id = null;
        if (i < end && in.getByte(i) == ',') {
            i = skipSpaces(in, i + 1, end);
            if (!startsWith(in, i, end, ID_KEY)) {
                return null;
            }
            i = skipSpaces(in, i + ID_KEY.length, end);
            if (i >= end || in.getByte(i) != ':') {
                return null;
            }
            i = skipSpaces(in, i + 1, end);
            int digits = i < end && in.getByte(i) == '-' ? i + 1 : i;
            int j = digits;
            long v = 0;
            while (j < end && j - digits < 18 && in.getByte(j) >= '0' && in.getByte(j) <= '9') {
                v = v * 10 + (in.getByte(j) - '0');
                j++;
            }
            // JSON has no leading zeros; ids past 18 digits, fractions and exponents are Jackson's.
            if (j == digits || (in.getByte(digits) == '0' && j > digits + 1) || (j < end && isNumberPart(in.getByte(j)))) {
                return null;
            }
            v = digits > i ? -v : v;
            // As Jackson's tree has it: an int where the value fits one.
            id = v == (int) v ? IntNode.valueOf((int) v) : LongNode.valueOf(v);
            i = skipSpaces(in, j, end);
        }
        if (i >= end || in.getByte(i) != '}' || skipSpaces(in, i + 1, end) != end) {
            return null;
        }
        return new QmpReturn(id, TextNode.valueOf(new String(text, 0, n, StandardCharsets.ISO_8859_1)));
    }

    private static final byte[] RETURN_KEY = "\"return\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ID_KEY = "\"id\"".getBytes(StandardCharsets.US_ASCII);

    private static int skipSpaces(ByteBuf in, int i, int end) {
        while (i < end && isWhitespace(in.getByte(i))) {
            i++;
        }
        return i;
    }

    private static boolean startsWith(ByteBuf in, int i, int end, byte[] s) {
        if (end - i < s.length) {
            return false;
        }
        for (int k = 0; k < s.length; k++) {
            if (in.getByte(i + k) != s[k]) {
                return false;
            }
        }
        return true;
    }

    private static boolean isNumberPart(byte b) {
        return (b >= '0' && b <= '9') || b == '.' || b == 'e' || b == 'E' || b == '+' || b == '-';
    }

    /** Four hex digits at {@code i} as a char value, or -1. */
    private static int hex4(ByteBuf in, int i) {
        int v = 0;
        for (int k = 0; k < 4; k++) {
            int d = Character.digit(in.getByte(i + k), 16);
            if (d < 0) {
                return -1;
            }
            v = v * 16 + d;
        }
        return v;
    }

    private QmpMessage parse(byte[] frame) {
        JsonNode node;
        try {
            node = TREE.readTree(frame);
        } catch (IOException e) {
            return new QmpInvalid("malformed JSON: " + firstLine(e instanceof com.fasterxml.jackson.core.JsonProcessingException jpe
                    ? jpe.getOriginalMessage() : e.getMessage()),
                    excerpt(frame));
        }
        if (frameTap != null) {
            frameTap.accept(Json.compact(node));
        }
        return classify(node, frame);
    }

    static QmpMessage classify(JsonNode node, byte[] frame) {
        if (node == null || !node.isObject()) {
            return new QmpInvalid("not a JSON object", excerpt(frame));
        }
        JsonNode id = node.has("id") ? node.get("id") : null;
        if (node.has("return")) {
            return new QmpReturn(id, node.get("return"));
        }
        if (node.has("error")) {
            JsonNode err = node.get("error");
            return new QmpError(id, err.path("class").asText("GenericError"), err.path("desc").asText(""));
        }
        if (node.has("event")) {
            JsonNode ts = node.path("timestamp");
            long micros = ts.path("seconds").asLong(0) * 1_000_000L + ts.path("microseconds").asLong(0);
            JsonNode data = node.has("data") ? node.get("data") : Json.object();
            return new QmpEvent(node.get("event").asText(), data, micros);
        }
        if (node.has("QMP")) {
            JsonNode qmp = node.get("QMP");
            List<String> caps = new ArrayList<>();
            qmp.path("capabilities").forEach(c -> caps.add(c.asText()));
            return new QmpGreeting(qmp.path("version"), List.copyOf(caps));
        }
        List<String> keys = new ArrayList<>();
        node.fieldNames().forEachRemaining(keys::add);
        return new QmpInvalid("not a QMP message: keys " + keys, excerpt(frame));
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static boolean isWhitespace(byte b) {
        return b == ' ' || b == '\t' || b == '\r' || b == '\n';
    }

    private static String excerpt(ByteBuf in, int from, int length) {
        byte[] bytes = new byte[Math.min(length, in.writerIndex() - from)];
        in.getBytes(from, bytes);
        return printable(bytes);
    }

    private static String excerpt(byte[] frame) {
        byte[] bytes = frame.length <= EXCERPT ? frame : java.util.Arrays.copyOf(frame, EXCERPT);
        return printable(bytes);
    }

    private static String printable(byte[] bytes) {
        String s = new String(bytes, StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c != 0x7f && c != '\uFFFD' ? c : '.');
        }
        return sb.toString();
    }
}
