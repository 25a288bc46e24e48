package dev.tickwatch.qmp.hmp;

import dev.tickwatch.ProtocolException;

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

    private static final String[] MODES = {"one-shot", "periodic", "tsc-deadline"};

    /** Whether a count-down timer is running (one-shot or periodic, not masked, count non-zero). */
    public boolean armed() {
        return !masked && !timerMode.equals("tsc-deadline") && currentCount != 0;
    }

    /**
     * Reads the LVTT and Timer lines, scanning the text in place (HmpScan): the probe runs this for
     * every vCPU of every idle guest at each sample.
     */
    public static LapicState parse(String text) {
        int end = text.length();
        // LVTT\s+0x([0-9a-f]+)[^\r\n]*?(one-shot|periodic|tsc-deadline), leftmost.
        int v = -1;
        int ve = -1;
        String mode = null;
        for (int i = text.indexOf("LVTT"); i >= 0 && mode == null; i = text.indexOf("LVTT", i + 1)) {
            int w = i + 4;
            int x = w;
            while (x < end && HmpScan.isSpace(text.charAt(x))) {
                x++;
            }
            if (x == w || !HmpScan.at(text, x, end, "0x")) {
                continue;
            }
            int hv = x + 2;
            int hve = HmpScan.hexRun(text, hv, end);
            if (hve == hv) {
                continue;
            }
            for (int k = hve; k < end && mode == null; k++) {
                char c = text.charAt(k);
                if (c == '\r' || c == '\n') {
                    break;
                }
                for (String m : MODES) {
                    if (text.startsWith(m, k)) {
                        mode = m;
                        v = hv;
                        ve = hve;
                        break;
                    }
                }
            }
        }
        // Timer\s+DCR=0x[0-9a-f]+ \(divide by (\d+)\) initial_count = (\d+) current_count = (\d+), leftmost.
        int[] t = mode == null ? null : timer(text, end);
        if (t == null) {
            throw new ProtocolException("cannot read LVTT and Timer lines from 'info lapic': "
                    + text.strip().lines().findFirst().orElse("(empty)"));
        }
        // The numbers are read once both lines are found, in the old order: the same exception wins.
        long lvtt = HmpScan.signedHex(text, v, ve);
        int divide = HmpScan.decimalInt(text, t[0], t[1]);
        return new LapicState(lvtt, mode, (lvtt & 0x10000) != 0, (int) (lvtt & 0xff),
                divide, HmpScan.decimal(text, t[2], t[3]), HmpScan.decimal(text, t[4], t[5]));
    }

    /** The Timer line's three numbers as {from, to} pairs, or null. */
    private static int[] timer(String text, int end) {
        for (int i = text.indexOf("Timer"); i >= 0; i = text.indexOf("Timer", i + 1)) {
            int w = i + 5;
            int x = w;
            while (x < end && HmpScan.isSpace(text.charAt(x))) {
                x++;
            }
            if (x == w || !HmpScan.at(text, x, end, "DCR=0x")) {
                continue;
            }
            int h = x + 6;
            int he = HmpScan.hexRun(text, h, end);
            if (he == h || !HmpScan.at(text, he, end, " (divide by ")) {
                continue;
            }
            int d = he + 12;
            int de = HmpScan.digitRun(text, d, end);
            if (de == d || !HmpScan.at(text, de, end, ") initial_count = ")) {
                continue;
            }
            int a = de + 18;
            int ae = HmpScan.digitRun(text, a, end);
            if (ae == a || !HmpScan.at(text, ae, end, " current_count = ")) {
                continue;
            }
            int b = ae + 17;
            int be = HmpScan.digitRun(text, b, end);
            if (be == b) {
                continue;
            }
            return new int[] {d, de, a, ae, b, be};
        }
        return null;
    }
}
