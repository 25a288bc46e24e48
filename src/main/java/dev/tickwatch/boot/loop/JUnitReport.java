package dev.tickwatch.boot.loop;

import dev.tickwatch.TickwatchException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * JUnit XML for CI systems (Jenkins, GitLab, GitHub test reporters): one testsuite, one
 * testcase per boot; a hang or timeout is a {@code <failure>} carrying the verdict and its
 * evidence; a boot that could not run is {@code <skipped>}. The de facto schema (Ant's).
 */
public final class JUnitReport {

    private JUnitReport() {
    }

    public static String render(String suite, List<BootRecord> records) {
        long failures = records.stream().filter(r -> r.outcome().isBad()).count();
        long skipped = records.stream().filter(r -> r.outcome().kind() == BootOutcome.Kind.CANNOT_TEST).count();
        double time = records.stream().mapToDouble(JUnitReport::seconds).sum();
        StringBuilder x = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        x.append(String.format(Locale.ROOT, "<testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"0\""
                + " skipped=\"%d\" time=\"%.3f\">%n", esc(suite), records.size(), failures, skipped, time));
        for (BootRecord r : records) {
            BootOutcome o = r.outcome();
            x.append(String.format(Locale.ROOT, "  <testcase classname=\"%s.shard%d\" name=\"boot-%06d\" time=\"%.3f\"",
                    esc(suite), r.shard().index(), r.boot(), seconds(r)));
            if (o.kind() == BootOutcome.Kind.OK) {
                x.append("/>\n");
                continue;
            }
            x.append(">\n");
            String body = "boot " + r.boot() + " worker " + r.worker() + " smp " + r.smp() + " seed 0x"
                    + Long.toHexString(r.seed()) + (r.labMode() == null ? "" : " lab " + r.labMode()) + "\n"
                    + String.join("\n", o.evidence()) + (r.diagnostic() == null ? "" : "\ndiagnostics: " + r.diagnostic());
            if (o.kind() == BootOutcome.Kind.CANNOT_TEST) {
                x.append("    <skipped message=\"").append(esc(o.verdict() + ": " + o.reason())).append("\"/>\n");
            } else {
                x.append("    <failure type=\"").append(o.kind().name()).append("\" message=\"")
                        .append(esc(o.verdict() + (o.flavour() == null ? "" : " (" + o.flavour() + ")")))
                        .append("\">").append(esc(body)).append("</failure>\n");
            }
            x.append("  </testcase>\n");
        }
        x.append("</testsuite>\n");
        return x.toString();
    }

    public static void write(Path file, String suite, List<BootRecord> records) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(file, render(suite, records), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TickwatchException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static double seconds(BootRecord r) {
        double s = r.outcome().kind() == BootOutcome.Kind.OK ? r.outcome().bootS() : r.outcome().detectS();
        return Double.isNaN(s) ? 0 : s;
    }

    /** XML 1.0 text and attribute escaping; control characters from consoles become '?'. */
    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<': b.append("&lt;"); break;
                case '>': b.append("&gt;"); break;
                case '&': b.append("&amp;"); break;
                case '"': b.append("&quot;"); break;
                case '\'': b.append("&apos;"); break;
                default:
                    b.append(c < 0x20 && c != '\n' && c != '\t' ? '?' : c);
            }
        }
        return b.toString();
    }
}
