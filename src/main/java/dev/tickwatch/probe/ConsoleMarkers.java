package dev.tickwatch.probe;

/**
 * What the kernel prints on the console that tickwatch reacts to, spelled once: the probe, the
 * judge, the boot loop and the accelerator check all look for the same words.
 */
public final class ConsoleMarkers {

    /** The start of panic()'s message, {@code Kernel panic - not syncing: ...}. */
    public static final String KERNEL_PANIC = "Kernel panic";

    /** The kernel's last words before the ACPI power-off write (kernel/reboot.c). */
    public static final String POWER_DOWN = "reboot: Power down";

    /** The kernel's last words before the reset write (kernel/reboot.c). */
    public static final String RESTART = "reboot: Restarting system";

    /** Whether {@code text} holds the kernel's last words before it powers off or resets the machine. */
    public static boolean goingDown(CharSequence text) {
        String s = text.toString();
        return s.contains(POWER_DOWN) || s.contains(RESTART);
    }

    private ConsoleMarkers() {
    }
}
