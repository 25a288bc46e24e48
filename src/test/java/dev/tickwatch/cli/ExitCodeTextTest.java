package dev.tickwatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.command.ErrorHandler;
import dev.tickwatch.command.ExitCode;
import dev.tickwatch.verdict.Verdict;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * What the commands say their exit codes mean, and where the hang code may come from: every
 * command class of both trees (the CLI's and the shell's, read from their {@code @Command}
 * annotations) is scanned for exit-code text, and 1 must always be a hang.
 */
class ExitCodeTextTest {

    private static final Pattern STATEMENT = Pattern.compile("(?i)\\bexit(s| code| codes)?\\b[^.]*");
    private static final Pattern CODE = Pattern.compile("(?<![\\w.-])(0|1|125|128)(?![\\w.])");

    /** Every command class reachable from the roots through {@code subcommands}. */
    private static Set<Class<?>> commandClasses() throws ClassNotFoundException {
        Set<Class<?>> seen = new LinkedHashSet<>();
        List<Class<?>> todo = new ArrayList<>(List.of(Main.class, Class.forName("dev.tickwatch.shell.ShellCommands")));
        while (!todo.isEmpty()) {
            Class<?> c = todo.remove(0);
            Command a = c.getAnnotation(Command.class);
            if (a == null || !seen.add(c)) {
                continue;
            }
            todo.addAll(List.of(a.subcommands()));
        }
        return seen;
    }

    private static String helpText(Command a) {
        List<String> parts = new ArrayList<>();
        parts.addAll(List.of(a.header()));
        parts.addAll(List.of(a.description()));
        for (String e : a.exitCodeList()) {
            parts.add("Exit " + e.replaceFirst(":", " ") + ".");
        }
        parts.addAll(List.of(a.footer()));
        return String.join(" ", parts).replaceAll("\\s+", " ");
    }

    /** Code to what the text says about it, for every exit-code statement in {@code text}. */
    static Map<String, List<String>> claims(String text) {
        Map<String, List<String>> out = new HashMap<>();
        Matcher s = STATEMENT.matcher(text);
        while (s.find()) {
            String st = s.group();
            Matcher c = CODE.matcher(st);
            List<int[]> at = new ArrayList<>();
            while (c.find()) {
                at.add(new int[] {c.start(), c.end()});
            }
            for (int i = 0; i < at.size(); i++) {
                String code = st.substring(at.get(i)[0], at.get(i)[1]);
                String meaning = st.substring(at.get(i)[1], i + 1 < at.size() ? at.get(i + 1)[0] : st.length());
                out.computeIfAbsent(code, k -> new ArrayList<>()).add(meaning);
            }
        }
        return out;
    }

    /** What is wrong with the exit-code statements in {@code text}: empty when 1 is a hang and nothing else. */
    static List<String> wrong(String text) {
        List<String> w = new ArrayList<>();
        Map<String, List<String>> claims = claims(text);
        for (String m : claims.getOrDefault("1", List.of())) {
            if (!m.matches("(?s).*\\b(hang|hung)\\b.*")) {
                w.add("exit 1 must mean a hang, says '1" + m + "'");
            }
        }
        for (String code : List.of("0", "125", "128")) {
            for (String m : claims.getOrDefault(code, List.of())) {
                if (m.matches("(?s).*\\b(hang|hung)\\b.*") && !m.contains("never")) {
                    w.add("exit " + code + " is not a hang, says '" + code + m + "'");
                }
            }
        }
        for (String m : claims.getOrDefault("128", List.of())) {
            if (!m.contains("usage")) {
                w.add("128 is a usage error, says '128" + m + "'");
            }
        }
        return w;
    }

    @Test
    void theScannerCatchesTheOldTexts() {
        assertEquals(1, wrong("Runs one QMP command, or QEMU's error class and description (exit 1).").size());
        assertEquals(1, wrong("Exit codes are bisect-safe: 0 good, 1 failed, 125 could not test, 128 usage error.").size());
        assertEquals(1, wrong("Exit: 0 fine, 1 a hang, 125 a hang we could not confirm.").size());
        assertEquals(List.of(), wrong("Exit: 0 test ok, 1 a boot hung, 125 could not test (QEMU did not start,"
                + " firmware stuck), 128 usage error: safe for 'git bisect run'."));
        assertEquals(List.of(), wrong("Boots 1 kernel on 2 vCPUs, 125 MiB."), "numbers outside exit statements");
    }

    @Test
    void everyCommandSaysOneIsAHangAndNothingElse() throws Exception {
        Set<String> listingOne = new LinkedHashSet<>();
        int statements = 0;
        for (Class<?> c : commandClasses()) {
            Command a = c.getAnnotation(Command.class);
            String text = helpText(a);
            statements += claims(text).size();
            assertEquals(List.of(), wrong(text), c.getSimpleName() + " (" + a.name() + ")");
            if (claims(text).containsKey("1")) {
                listingOne.add(a.name());
            }
        }
        assertTrue(statements > 10, "the scanner found the exit-code texts: " + statements);
        // The commands whose result can be a hang say so.
        assertTrue(listingOne.containsAll(List.of("tickwatch", "boot-loop", "merge", "demo", "watch")), listingOne.toString());
    }

    @Test
    void theRenderedHelpSaysIt() {
        QmpCommandTest.Result root = QmpCommandTest.run("--help");
        assertTrue(root.out().contains("1     a hang verdict, and nothing else"), root.out());
        QmpCommandTest.Result qmp = QmpCommandTest.run("qmp", "--help");
        assertTrue(qmp.out().replaceAll("\\s+", " ").contains("(exit 125: QEMU could not do it;"), qmp.out());
        QmpCommandTest.Result watch = QmpCommandTest.run("watch", "--help");
        String w = watch.out().replaceAll("\\s+", " ");
        assertTrue(w.contains("1 a hang verdict, and only that"), watch.out());
        assertTrue(w.contains("128 usage error"), watch.out());
    }

    @Test
    void onlyAHangVerdictExitsOne() {
        for (Verdict v : Verdict.values()) {
            assertEquals(v.isHang(), v.exitCode() == ExitCode.HANG, v.name());
        }
        for (Throwable t : List.of(new dev.tickwatch.TickwatchException("x"), new dev.tickwatch.ConnectionException("x"),
                new dev.tickwatch.CommandTimeoutException("greeting", java.time.Duration.ofSeconds(1), "x"),
                new IllegalArgumentException("x"), new IllegalStateException("x"), new NoSuchFileException("/x"),
                new UncheckedIOException(new IOException("x")), new NullPointerException())) {
            int code = ErrorHandler.exitCode(t);
            assertTrue(code == ExitCode.CANNOT_TEST || code == ExitCode.USAGE, t + " exits " + code);
        }
        assertEquals(ExitCode.USAGE, ErrorHandler.exitCode(new IllegalArgumentException("x")));
    }

    @Test
    void theHangCodeIsReturnedOnlyWhereAHangVerdictDecided() throws IOException, IllegalAccessException {
        Path main = Path.of("src/main/java/dev/tickwatch");
        List<String> uses = new ArrayList<>();
        List<String> literals = new ArrayList<>();
        Pattern literalOne = Pattern.compile("return\\s+1\\s*;|return\\s+[^;]*\\?\\s*1\\s*:|:\\s*1\\s*;");
        try (Stream<Path> files = Files.walk(main)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String rel = main.relativize(f).toString();
                String src = Files.readString(f);
                if (src.contains("ExitCode.HANG")) {
                    uses.add(rel);
                }
                boolean commandLayer = rel.startsWith("cli/") || rel.startsWith("command/") || rel.startsWith("shell/")
                        || rel.startsWith("bench/");
                if (commandLayer && literalOne.matcher(src).find()) {
                    literals.add(rel);
                }
            }
        }
        // LoopReport: a boot hung (a hang verdict, or the loop's console-silence and timeout verdicts).
        assertEquals(List.of("cli/LoopReport.java"), uses);
        assertEquals(List.of(), literals, "commands return ExitCode constants, never a bare 1");
        Set<Integer> values = new LinkedHashSet<>();
        for (Field f : ExitCode.class.getFields()) {
            values.add(f.getInt(null));
        }
        assertEquals(Set.of(0, 1, 125, 128), values, "no second name for 1 (FAILED is gone)");
    }
}
