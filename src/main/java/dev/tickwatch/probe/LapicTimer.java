package dev.tickwatch.probe;

import dev.tickwatch.qmp.hmp.LapicState;

/**
 * One vCPU's local APIC timer as a sample keeps it: what the judge needs to tell whether anything
 * is armed to wake a sleeping CPU, and what the recorded samples hold. Its own record so that
 * samples and verdicts do not depend on how the monitor's text is parsed.
 *
 * @param lvtt         the raw LVT timer register
 * @param timerMode    {@code one-shot}, {@code periodic} or {@code tsc-deadline}
 * @param masked       LVTT mask bit: the timer cannot interrupt
 * @param vector       interrupt vector
 * @param divide       divide value (1..128)
 * @param initialCount TMICT: 0 means nothing armed in one-shot/periodic mode
 * @param currentCount TMCCT: counts down to 0
 */
public record LapicTimer(long lvtt, String timerMode, boolean masked, int vector, int divide,
        long initialCount, long currentCount) {

    /** Whether a count-down timer is running (one-shot or periodic, not masked, count non-zero). */
    public boolean armed() {
        return !masked && !timerMode.equals("tsc-deadline") && currentCount != 0;
    }

    /** The timer part of an {@code info lapic} reading. */
    public static LapicTimer of(LapicState l) {
        return new LapicTimer(l.lvtt(), l.timerMode(), l.masked(), l.vector(), l.divide(), l.initialCount(),
                l.currentCount());
    }
}
