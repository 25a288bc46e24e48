package dev.tickwatch.snapshot;


/**
 * {@code report.html}: the text report's sections plus plots of the sample series, in one file
 * that needs nothing else: inline CSS and SVG, no scripts, no fonts or images to fetch, so it
 * opens the same in a mail client's sandbox, offline, years later. Built from snapshot.json alone.
 */
public final class ReportHtml {

    private ReportHtml() {
    }

    public static String render(SnapshotDoc s) {
        StringBuilder b = new StringBuilder();
        SnapshotDoc.Judgement v = ReportText.verdict(s);
        String verdict = ReportText.verdictTitle(v);
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>tickwatch snapshot: ")
                .append(escape(verdict)).append("</title>\n<style>\n")
                .append("body{font-family:sans-serif;margin:1.5em;max-width:1000px;color:#222}\n")
                .append("h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;border-bottom:1px solid #ccc;margin-top:1.5em}\n")
                .append("pre{font-family:monospace;font-size:12.5px;background:#f6f6f6;padding:.6em;overflow-x:auto}\n")
                .append(".verdict{font-size:1.3em;font-weight:bold;color:#b00} .note{color:#666}\n")
                .append("figure{margin:.4em 0} svg text{font-family:sans-serif;font-size:11px;fill:#333}\n")
                .append("svg text.title{font-size:12.5px;font-weight:bold} svg text.note{fill:#888;font-style:italic}\n")
                .append("</style>\n</head>\n<body>\n");
        b.append("<h1>tickwatch snapshot</h1>\n<p class=\"verdict\">").append(escape(verdict)).append("</p>\n");
        b.append("<ul>\n");
        for (String e : v.evidence()) {
            b.append("<li>").append(escape(e)).append("</li>\n");
        }
        b.append("</ul>\n");
        b.append("<h2 id=\"plots\">The last ").append(String.format(java.util.Locale.ROOT, "%.0f",
                ReportText.seriesSeconds(s.samples()))).append(" s</h2>\n");
        b.append(new Plots(s).all());
        for (ReportText.Section sec : ReportText.sections(s)) {
            b.append("<h2 id=\"").append(sec.id()).append("\">").append(escape(sec.title() == null ? "Summary" : sec.title()))
                    .append("</h2>\n<pre>");
            for (String line : sec.lines()) {
                b.append(escape(line)).append('\n');
            }
            b.append("</pre>\n");
        }
        b.append("</body>\n</html>\n");
        return b.toString();
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                default -> b.append(c < 0x20 && c != '\n' && c != '\t' ? ' ' : c);
            }
        }
        return b.toString();
    }
}
