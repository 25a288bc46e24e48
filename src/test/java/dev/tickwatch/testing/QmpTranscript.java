package dev.tickwatch.testing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.util.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A QMP transcript from {@code protocols/qmp/}: "S: {json}" lines from QEMU, "C: {json}" lines
 * to QEMU. Gives the greeting, and per command what QEMU sent after it up to its reply.
 */
public final class QmpTranscript {

    public record Line(boolean fromServer, String json) {
    }

    private final List<Line> lines;

    private QmpTranscript(List<Line> lines) {
        this.lines = List.copyOf(lines);
    }

    public static QmpTranscript load(String name) {
        Path p = Path.of("protocols/qmp").resolve(name);
        try {
            List<Line> lines = new ArrayList<>();
            for (String l : Files.readAllLines(p)) {
                if (l.startsWith("S: ")) {
                    lines.add(new Line(true, l.substring(3)));
                } else if (l.startsWith("C: ")) {
                    lines.add(new Line(false, l.substring(3)));
                }
            }
            return new QmpTranscript(lines);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<Line> lines() {
        return lines;
    }

    /** Every frame QEMU sent, in order, each ended with CRLF as QEMU ends them. */
    public String serverStream() {
        StringBuilder sb = new StringBuilder();
        for (Line l : lines) {
            if (l.fromServer()) {
                sb.append(l.json()).append("\r\n");
            }
        }
        return sb.toString();
    }

    public String greeting() {
        return lines.get(0).json();
    }

    /**
     * For each command (keyed by {@link #key}), what QEMU sent between it and the next command:
     * events and the reply, with the recorded id.
     */
    public Map<String, List<String>> responses() {
        Map<String, List<String>> map = new LinkedHashMap<>();
        List<String> current = null;
        for (Line l : lines) {
            if (!l.fromServer()) {
                current = new ArrayList<>();
                map.putIfAbsent(key(parse(l.json())), current);
            } else if (current != null) {
                current.add(l.json());
            }
        }
        return map;
    }

    /**
     * A command's identity for replay: its name and its arguments, less the file name (a
     * recorded temp path): {@code memsave {"val":0,"size":4096}}.
     */
    public static String key(JsonNode command) {
        String name = command.path("execute").asText();
        JsonNode args = command.get("arguments");
        if (args == null || !args.isObject()) {
            return name;
        }
        com.fasterxml.jackson.databind.node.ObjectNode a = args.deepCopy();
        a.remove("filename");
        return name + " " + Json.compact(a);
    }

    static JsonNode parse(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
