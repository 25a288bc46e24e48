package dev.tickwatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layering rules of ARCHITECTURE.md read off the sources in src/main/java: the protocol,
 * guest, probe and verdict layers name nothing above them, gdb does not reach for QMP, and HMP
 * command text lives in qmp.hmp. Names are taken from the code with comments and string literals
 * removed, so an import, a fully qualified name in the code and a static import all count, while
 * prose about a package does not.
 */
class ArchitectureTest {

    private static final Path MAIN = Path.of("src/main/java/dev/tickwatch");
    /** The packages that run the guest and serve the user: everything below them is a library to them. */
    private static final List<String> UPPER = List.of("qemu", "boot", "bisect", "snapshot", "cli", "shell", "bench",
            "command", "watch", "lab");
    /** The lower layers, with their subpackages. */
    private static final List<String> LOWER = List.of("qmp", "gdb", "guest", "probe", "verdict");
    private static final Pattern NAME = Pattern.compile("\\bdev\\.tickwatch\\.([a-z][a-z0-9]*)(?:\\.[a-z][a-z0-9]*)*\\.[A-Z*]");
    private static final List<String> HMP_TEXT = List.of("info registers", "info lapic", "gpa2hva");
    /**
     * Files that may spell HMP text: qmp.hmp sends it, qmp.replay matches recorded answers by it
     * (taking the strings from qmp.hmp), and two help texts show a raw command the user types
     * ({@code qmp ... human-monitor-command '{"command-line":"info lapic"}'}, the shell's
     * {@code hmp info registers}): documentation of a pass-through, not a command we send.
     */
    private static final Set<String> HMP_TEXT_ALLOWED_FILES = Set.of("QmpCommand.java", "ProbeCommands.java");

    @Test
    void lowerLayersImportNothingFromUpperOnes() {
        List<String> bad = new ArrayList<>();
        for (String lower : LOWER) {
            for (Path f : sources(MAIN.resolve(lower))) {
                for (String used : packagesUsed(f)) {
                    if (UPPER.contains(used)) {
                        bad.add(MAIN.relativize(f) + " uses dev.tickwatch." + used);
                    }
                }
            }
        }
        assertEquals(List.of(), bad);
    }

    @Test
    void lowerLayersDoNotReachUpwardAmongThemselves() {
        // verdict > probe > guest > qmp | gdb (ARCHITECTURE.md's table).
        List<String> bad = new ArrayList<>();
        check(bad, "probe", Set.of("verdict"));
        check(bad, "guest", Set.of("probe", "verdict"));
        check(bad, "qmp", Set.of("guest", "probe", "verdict", "gdb"));
        check(bad, "gdb", Set.of("guest", "probe", "verdict"));
        assertEquals(List.of(), bad);
    }

    @Test
    void bisectSitsAboveTheBootLoopAndBelowTheCommands() {
        // ARCHITECTURE.md: cli / shell > bench > bisect > boot.
        List<String> bad = new ArrayList<>();
        check(bad, "boot", Set.of("bisect"));
        check(bad, "bisect", Set.of("cli", "shell", "bench", "command"));
        assertEquals(List.of(), bad);
    }

    @Test
    void gdbDoesNotImportQmp() {
        List<String> bad = new ArrayList<>();
        check(bad, "gdb", Set.of("qmp"));
        assertEquals(List.of(), bad);
    }

    @Test
    void hmpTextIsSpelledOnlyInQmpHmp() {
        List<String> bad = new ArrayList<>();
        for (Path f : sources(MAIN)) {
            Path rel = MAIN.relativize(f);
            if (rel.startsWith("qmp/hmp") || rel.startsWith("qmp/replay")
                    || HMP_TEXT_ALLOWED_FILES.contains(f.getFileName().toString())) {
                continue;
            }
            for (String literal : split(read(f)).literals()) {
                for (String t : HMP_TEXT) {
                    if (literal.contains(t)) {
                        bad.add(rel + ": \"" + literal + "\"");
                    }
                }
            }
        }
        assertEquals(List.of(), bad);
    }

    @Test
    void theScannerSeesCodeAndLiteralsApart() {
        Source s = split("import dev.tickwatch.cli.Main; // dev.tickwatch.shell.X\n"
                + "/* dev.tickwatch.boot.Y */ String a = \"info lapic \\\" dev.tickwatch.lab.Z\"; char c = '\"';"
                + " var q = dev.tickwatch.qemu.QemuVm.class; String b = \"\"\"\n  gpa2hva\n  \"\"\";");
        assertEquals(List.of("info lapic \\\" dev.tickwatch.lab.Z", "  gpa2hva\n  "), s.literals());
        assertTrue(s.code().contains("dev.tickwatch.cli.Main"));
        assertTrue(s.code().contains("dev.tickwatch.qemu.QemuVm"));
        assertFalse(s.code().contains("shell"), s.code());
        assertFalse(s.code().contains("boot"), s.code());
        assertFalse(s.code().contains("lab"), s.code());
    }

    private static void check(List<String> bad, String pkg, Set<String> forbidden) {
        for (Path f : sources(MAIN.resolve(pkg))) {
            for (String used : packagesUsed(f)) {
                if (forbidden.contains(used)) {
                    bad.add(MAIN.relativize(f) + " uses dev.tickwatch." + used);
                }
            }
        }
    }

    /** The top-level tickwatch packages (qmp for qmp.hmp) that {@code f}'s code names. */
    private static Set<String> packagesUsed(Path f) {
        Set<String> out = new TreeSet<>();
        Matcher m = NAME.matcher(split(read(f)).code());
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    private static List<Path> sources(Path dir) {
        assertTrue(Files.isDirectory(dir), dir + " is not a source folder");
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A source file's code without comments and literals, and its string literals (escapes kept as written). */
    record Source(String code, List<String> literals) {
    }

    static Source split(String src) {
        StringBuilder code = new StringBuilder();
        List<String> literals = new ArrayList<>();
        int i = 0;
        int n = src.length();
        while (i < n) {
            char c = src.charAt(i);
            if (src.startsWith("//", i)) {
                i = src.indexOf('\n', i);
                i = i < 0 ? n : i;
            } else if (src.startsWith("/*", i)) {
                int end = src.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                code.append(' ');
            } else if (src.startsWith("\"\"\"", i)) {
                int start = src.indexOf('\n', i) + 1;
                int end = src.indexOf("\"\"\"", start);
                literals.add(src.substring(start, end));
                i = end + 3;
                code.append("\"\"");
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (src.charAt(j) != c) {
                    j += src.charAt(j) == '\\' ? 2 : 1;
                }
                if (c == '"') {
                    literals.add(src.substring(i + 1, j));
                }
                code.append(c).append(c);
                i = j + 1;
            } else {
                code.append(c);
                i++;
            }
        }
        return new Source(code.toString(), literals);
    }
}
