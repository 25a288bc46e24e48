package dev.tickwatch.boot.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * boot.cluster sits on the boot loop and nothing else of tickwatch: boot.loop, boot.stats, util and
 * the exception root. (ArchitectureTest sees top-level packages only; boot.loop is "boot" there.)
 */
class ClusterLayeringTest {

    private static final Path DIR = Path.of("src/main/java/dev/tickwatch/boot/cluster");
    private static final Pattern NAME = Pattern.compile("\\bdev\\.tickwatch\\.((?:[a-z][a-z0-9]*\\.)*)[A-Z]");
    private static final Set<String> ALLOWED = Set.of("", "boot.loop.", "boot.stats.", "boot.cluster.", "util.");

    @Test
    void importsOnlyTheBootLoopAndUtil() throws IOException {
        List<String> bad = new ArrayList<>();
        try (Stream<Path> s = Files.list(DIR)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                // Comments and string literals out: only code counts.
                String code = Files.readString(f).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "")
                        .replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"");
                Matcher m = NAME.matcher(code);
                while (m.find()) {
                    if (!ALLOWED.contains(m.group(1))) {
                        bad.add(f.getFileName() + " uses dev.tickwatch." + m.group(1) + "*");
                    }
                }
            }
        }
        assertEquals(List.of(), bad);
    }
}
