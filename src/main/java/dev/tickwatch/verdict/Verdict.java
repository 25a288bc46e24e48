package dev.tickwatch.verdict;

/** What a guest is doing, as ARCHITECTURE.md's verdict table names it. */
public enum Verdict {
    /** Booting or running normally: time advances and so does the guest. */
    PROGRESSING,
    /** Alive but stuck: idle, and timer events stopped (flavours: lost-timer, tick-storm). */
    TIMER_STALL,
    /** CPUs spin in the kernel with interrupts off: a real deadlock or hard lockup. */
    SPIN_LOCKUP,
    /** Tasks block each other in D state while time goes on. */
    SLEEP_DEADLOCK,
    /** Time advances, but a CPU is stuck busy in the kernel without scheduling. */
    SOFT_LOCKUP,
    /** The kernel panicked. */
    PANICKED,
    /** The guest powered off, or QEMU exited. */
    SHUTDOWN,
    /** QEMU has the VM paused: nothing runs, so nothing can be said about the guest. */
    PAUSED,
    /** The kernel never started. */
    FIRMWARE_STUCK,
    /**
     * Nothing shows progress and nothing proves a hang: the host starved QEMU, nothing was
     * readable, or the series is too short. Said instead of a PROGRESSING without evidence.
     */
    UNDECIDED;

    /** Whether this verdict is a hang a boot loop stops for. */
    public boolean isHang() {
        return this == TIMER_STALL || this == SPIN_LOCKUP || this == SLEEP_DEADLOCK || this == SOFT_LOCKUP
                || this == PANICKED;
    }

    /**
     * The exit code that ends a watch with this verdict, bisect-safe: 0 fine, 1 a hang, 125 could
     * not test (the kernel never started, the VM was paused under us, or nothing could be decided).
     */
    public int exitCode() {
        if (isHang()) {
            return 1;
        }
        return this == FIRMWARE_STUCK || this == PAUSED || this == UNDECIDED ? 125 : 0;
    }
}
