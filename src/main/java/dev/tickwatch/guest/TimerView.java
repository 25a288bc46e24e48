package dev.tickwatch.guest;

import java.util.List;

/**
 * The kernel's time keeping at one moment, from outside: the global tick state and every CPU's
 * timers. {@code unavailable} names each reading this kernel's layout did not allow, so a missing
 * value is never mistaken for a zero.
 *
 * @param jiffies               jiffies_64
 * @param tickDoTimerCpu        the CPU charged with advancing jiffies (-1: none, NO_HZ handed it off)
 * @param tickNextPeriodNs      tick_next_period: when jiffies should next advance
 * @param lastJiffiesUpdateNs   last_jiffies_update: when jiffies last advanced
 * @param hz                    ticks per second (from tick_nsec), 0 if unknown
 */
public record TimerView(long hostTimeNs, long jiffies, int tickDoTimerCpu, long tickNextPeriodNs,
        long lastJiffiesUpdateNs, int hz, List<CpuTimers> cpus, List<String> unavailable) {
}
