package dev.tickwatch.qmp.hmp;

import dev.tickwatch.ProtocolException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The regular-expression parser of {@code info lapic} before {@link LapicState}'s scanner: the equivalence tests' reference. */
final class RegexLapicState {

    private RegexLapicState() {
    }

    private static final Pattern LVTT = Pattern.compile("LVTT\\s+0x([0-9a-f]+)[^\\r\\n]*?(one-shot|periodic|tsc-deadline)");
    private static final Pattern TIMER = Pattern.compile(
            "Timer\\s+DCR=0x[0-9a-f]+ \\(divide by (\\d+)\\) initial_count = (\\d+) current_count = (\\d+)");

    static LapicState parse(String text) {
        Matcher l = LVTT.matcher(text);
        Matcher t = TIMER.matcher(text);
        if (!l.find() || !t.find()) {
            throw new ProtocolException("cannot read LVTT and Timer lines from 'info lapic': "
                    + text.strip().lines().findFirst().orElse("(empty)"));
        }
        long lvtt = Long.parseLong(l.group(1), 16);
        return new LapicState(lvtt, l.group(2), (lvtt & 0x10000) != 0, (int) (lvtt & 0xff),
                Integer.parseInt(t.group(1)), Long.parseLong(t.group(2)), Long.parseLong(t.group(3)));
    }
}
