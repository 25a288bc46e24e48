package dev.tickwatch.guest;

/**
 * One CPU's timer state as the kernel keeps it (the fields /proc/timer_list prints), read from
 * guest memory. Times are CLOCK_MONOTONIC nanoseconds since boot ({@code ktime_t}); a null field
 * is one this kernel does not have (the view's {@code unavailable} list says which).
 *
 * @param localTimerInterrupts  irq_stat.apic_timer_irqs: LAPIC timer interrupts taken ("LOC" in /proc/interrupts)
 * @param expiresNextNs         hrtimer_bases.expires_next: when the CPU's next hrtimer is due
 * @param hrtimerEvents         hrtimer_bases.nr_events: hrtimer interrupts handled
 * @param tickStopped           tick_sched.tick_stopped: NO_HZ stopped the periodic tick on this idle CPU
 * @param nextTickNs            tick_sched.next_tick: the tick it will resume at
 * @param clockevent            the tick device's clock_event_device name (e.g. lapic)
 * @param clockeventState       its state (oneshot, periodic, shutdown, oneshot-stopped)
 * @param clockeventNextEventNs clock_event_device.next_event: what the device was last programmed for
 */
public record CpuTimers(int cpu, long localTimerInterrupts, long expiresNextNs, long hrtimerEvents,
        Boolean hresActive, Boolean tickStopped, Boolean idleActive, Long nextTickNs, Long idleJiffies,
        Long idleCalls, Long idleSleeps, String tickDeviceMode, String clockevent, String clockeventState,
        Long clockeventNextEventNs, TaskRef current) {

    /** The task a CPU runs: enough to say "swapper/0" (idle) or name the spinner. */
    public record TaskRef(long address, int pid, String comm) {
    }
}
