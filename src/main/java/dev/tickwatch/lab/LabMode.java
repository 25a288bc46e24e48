package dev.tickwatch.lab;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The kinds of hang the lab module induces (src/main/resources/tickwatch/lab/README.md). */
public enum LabMode {
    /** No module: the appliance boots and powers off. */
    HEALTHY,
    /** Every CPU's clockevent drops its programming; all vCPUs idle in HLT, jiffies frozen. */
    TIMER_STALL_LOST,
    /** Timer interrupts keep coming, the tick never runs: jiffies frozen. */
    TIMER_STALL_STORM,
    /** ABBA on two spinlocks with IRQs off; every CPU spins, time stops. */
    SPIN_DEADLOCK,
    /** One CPU spins with IRQs off; the others keep ticking. */
    SPIN_ONE,
    /** Two kthreads ABBA on mutexes (D state); insmod blocks too; CPUs idle, jiffies advance. */
    SLEEP_DEADLOCK,
    /** One CPU loops in the kernel with preemption off, IRQs on. */
    SOFT_LOCKUP,
    /** panic(). */
    PANIC,
    /**
     * With probability {@code p_permille}/1000, drawn in the guest at insmod, a
     * {@link #TIMER_STALL_LOST} hang; otherwise the boot goes on to its done line and powers off.
     * The lab guest for testing a bisection ({@link Lab#flakyArg}).
     */
    FLAKY;

    /** Whether the lab guest still boots to its end when the mode does not hang (only {@link #FLAKY} may not). */
    public boolean mayPass() {
        return this == HEALTHY || this == FLAKY;
    }

    /** The name used on the command line and as the module's {@code mode=}: {@code timer-stall-lost}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static LabMode parse(String s) {
        for (LabMode m : values()) {
            if (m.label().equals(s) || m.name().equalsIgnoreCase(s)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown lab mode '" + s + "' (expected one of: "
                + Arrays.stream(values()).map(LabMode::label).collect(Collectors.joining(", ")) + ")");
    }
}
