package dev.tickwatch.qmp.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.qmp.hmp.Hmp;
import dev.tickwatch.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a {@link QmpReplayServer} answers: a recorded QMP transcript in the format of
 * {@code protocols/qmp/} ("S: {json}" from QEMU, "C: {json}" to QEMU, one object a line; the
 * format the tests' {@code QmpTranscript} reads), reduced to the greeting and, per command
 * {@link #key}, the frames QEMU sent after it up to its reply. HMP outputs recorded elsewhere
 * ({@code protocols/hmp/<mode>/}) can replace or add {@code human-monitor-command} answers.
 * Immutable.
 */
public final class QmpScript {

    private final String greeting;
    private final Map<String, List<String>> answers;

    private QmpScript(String greeting, Map<String, List<String>> answers) {
        this.greeting = greeting;
        this.answers = Map.copyOf(answers);
    }

    /** Reads a transcript file. */
    public static QmpScript load(Path transcript) {
        try {
            return parse(Files.readAllLines(transcript));
        } catch (IOException e) {
            throw new TickwatchException("cannot read QMP transcript " + transcript + ": " + dev.tickwatch.util.IoErrors.reason(e), e);
        }
    }

    /**
     * Parses transcript lines; other lines (comments) are skipped. The first command's answer is
     * kept when a command was recorded twice.
     *
     * @throws TickwatchException when there is no greeting or a line is not JSON
     */
    public static QmpScript parse(List<String> lines) {
        String greeting = null;
        Map<String, List<String>> answers = new LinkedHashMap<>();
        List<String> current = null;
        for (String l : lines) {
            if (l.startsWith("C: ")) {
                current = new ArrayList<>();
                answers.putIfAbsent(key(parseJson(l.substring(3))), current);
            } else if (l.startsWith("S: ")) {
                String json = Json.compact(parseJson(l.substring(3)));
                if (current != null) {
                    current.add(json);
                } else if (greeting == null) {
                    greeting = json;
                }
            }
        }
        if (greeting == null) {
            throw new TickwatchException("QMP transcript has no greeting (an \"S: \" line before the first \"C: \")");
        }
        return new QmpScript(greeting, answers);
    }

    /**
     * This script, with {@code human-monitor-command} of exactly {@code commandLine} (no
     * {@code cpu-index}) answering {@code output}. Line ends become CRLF, as QEMU sends HMP text.
     */
    public QmpScript withHmp(String commandLine, String output) {
        ObjectNode cmd = Json.object().put("execute", "human-monitor-command");
        cmd.putObject("arguments").put("command-line", commandLine);
        ObjectNode reply = Json.object().put("return", output.replace("\r\n", "\n").replace("\n", "\r\n"));
        // The id is a placeholder: the server puts the client's id in.
        reply.put("id", 0);
        Map<String, List<String>> copy = new LinkedHashMap<>(answers);
        copy.put(key(cmd), List.of(Json.compact(reply)));
        return new QmpScript(greeting, copy);
    }

    /**
     * This script with the HMP outputs of one lab mode folder: {@code info-registers-a.txt}
     * answers {@code info registers -a}, {@code info-lapic-N.txt} answers {@code info lapic N}.
     */
    public QmpScript withHmpFolder(Path modeDir) {
        QmpScript s = this;
        try (var files = Files.list(modeDir)) {
            for (Path f : files.sorted().toList()) {
                String name = f.getFileName().toString();
                String cmd = hmpCommandFor(name);
                if (cmd != null) {
                    s = s.withHmp(cmd, Files.readString(f));
                }
            }
        } catch (IOException e) {
            throw new TickwatchException("cannot read HMP outputs in " + modeDir + ": " + dev.tickwatch.util.IoErrors.reason(e), e);
        }
        return s;
    }

    /**
     * The HMP command a recorded file answers, by the names {@code tickwatch lab --record-hmp}
     * gives them: {@code info-registers-a.txt}, {@code info-lapic-N.txt}; null for other files.
     */
    static String hmpCommandFor(String fileName) {
        if (fileName.equals("info-registers-a.txt")) {
            return Hmp.INFO_REGISTERS;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("info-lapic-(\\d+)\\.txt").matcher(fileName);
        return m.matches() ? Hmp.lapicCommand(Integer.parseInt(m.group(1))) : null;
    }

    /** The greeting, compact JSON. */
    public String greeting() {
        return greeting;
    }

    /** The frames (events, then the reply with its recorded id) answering {@code key}, or null. */
    public List<String> answer(String key) {
        return answers.get(key);
    }

    /** The command keys this script answers. */
    public java.util.Set<String> keys() {
        return answers.keySet();
    }

    /**
     * A command's identity for replay: its name and arguments, less {@code filename} (a recorded
     * temp path): {@code memsave {"val":0,"size":4096}}. The same rule as the tests' transcript.
     */
    public static String key(JsonNode command) {
        String name = command.path("execute").asText();
        JsonNode args = command.get("arguments");
        if (args == null || !args.isObject()) {
            return name;
        }
        ObjectNode a = args.deepCopy();
        a.remove("filename");
        return name + " " + Json.compact(a);
    }

    static JsonNode parseJson(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new TickwatchException("not JSON in QMP transcript: " + json, e);
        }
    }
}
