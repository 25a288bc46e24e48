package dev.tickwatch.qmp.hmp;

import dev.tickwatch.ProtocolException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The local APIC timer of one vCPU from HMP {@code info lapic N} (QEMU's
 * target/i386/monitor.c): the LVTT line (mode, mask, vector) and the {@code Timer} line
 * (divide, initial and current count). QEMU 7.2 prints no TSC-deadline value.
 *
 * @param lvtt         the raw LVT timer register
 * @param timerMode    {@code one-shot}, {@code periodic} or {@code tsc-deadline}
 * @param masked       LVTT mask bit: the timer cannot interrupt
 * @param vector       interrupt vector
 * @param divide       divide value (1..128)
 * @param initialCount TMICT: 0 means nothing armed in one-shot/periodic mode
 * @param currentCount TMCCT: counts down to 0
 */
public record LapicState(long lvtt, String timerMode, boolean masked, int vector, int divide,
        long initialCount, long currentCount) {

    private static final Pattern LVTT = Pattern.compile("LVTT\\s+0x([0-9a-f]+)[^\\r\\n]*?(one-shot|periodic|tsc-deadline)");
    private static final Pattern TIMER = Pattern.compile(
            "Timer\\s+DCR=0x[0-9a-f]+ \\(divide by (\\d+)\\) initial_count = (\\d+) current_count = (\\d+)");

    /** Whether a count-down timer is running (one-shot or periodic, not masked, count non-zero). */
    public boolean armed() {
        return !masked && !timerMode.equals("tsc-deadline") && currentCount != 0;
    }

    public static LapicState parse(String text) {
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
