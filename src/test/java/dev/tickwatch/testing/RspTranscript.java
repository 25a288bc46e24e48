package dev.tickwatch.testing;

import dev.tickwatch.gdb.codec.Rsp;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An RSP transcript from {@code protocols/gdb-rsp/}: "S: frame" from the stub, "C: frame" to it,
 * frames as on the wire (see {@link Rsp#wire}). Gives the stub's byte stream, and per client
 * request (packet payload, or {@code \x03}) the stub frames that followed it, acks left out.
 */
public final class RspTranscript {

    public record Line(boolean fromStub, String frame) {
    }

    private final List<Line> lines;

    private RspTranscript(List<Line> lines) {
        this.lines = List.copyOf(lines);
    }

    public static RspTranscript load(String name) {
        Path p = Path.of("protocols/gdb-rsp").resolve(name);
        try {
            List<Line> lines = new ArrayList<>();
            for (String l : Files.readAllLines(p, StandardCharsets.ISO_8859_1)) {
                if (l.startsWith("S: ")) {
                    lines.add(new Line(true, l.substring(3)));
                } else if (l.startsWith("C: ")) {
                    lines.add(new Line(false, l.substring(3)));
                }
            }
            return new RspTranscript(lines);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<Line> lines() {
        return lines;
    }

    /** Everything the stub sent, in order, as bytes. */
    public byte[] stubStream() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Line l : lines) {
            if (l.fromStub()) {
                out.writeBytes(Rsp.unwire(l.frame()));
            }
        }
        return out.toByteArray();
    }

    /** The payload of a {@code $...#cs} frame, or the frame itself for {@code \x03}. */
    public static String key(String frame) {
        if (frame.startsWith("$") && frame.length() >= 4) {
            return new String(Rsp.unwire(frame.substring(1, frame.length() - 3)), StandardCharsets.ISO_8859_1);
        }
        return frame;
    }

    /** Per request key, one entry per time it was sent: the stub frames that followed, acks left out. */
    public Map<String, ArrayDeque<List<String>>> responses() {
        Map<String, ArrayDeque<List<String>>> out = new LinkedHashMap<>();
        List<String> current = null;
        for (Line l : lines) {
            if (!l.fromStub()) {
                if (l.frame().equals("+") || l.frame().equals("-")) {
                    continue;
                }
                current = new ArrayList<>();
                out.computeIfAbsent(key(l.frame()), k -> new ArrayDeque<>()).addLast(current);
            } else if (current != null && !l.frame().equals("+") && !l.frame().equals("-")) {
                current.add(l.frame());
            }
        }
        return out;
    }
}
