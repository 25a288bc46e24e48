package dev.tickwatch.probe;

/**
 * The appliance's progress marks on the serial console, in boot order. A boot loop knows a boot
 * succeeded when {@link #DONE} appears and QEMU exits; a hang stops somewhere before it.
 */
public enum Milestone {
    /** The kernel's banner, its first console line. */
    KERNEL("Linux version "),
    /** The appliance's /init runs. */
    USERLAND("tickwatch-init: userland up"),
    /** The appliance finished its work and powers off. */
    DONE("tickwatch-init: done");

    private final String marker;

    Milestone(String marker) {
        this.marker = marker;
    }

    public String marker() {
        return marker;
    }

    /** The last milestone found in {@code console}, or null if none. */
    public static Milestone last(CharSequence console) {
        String s = console.toString();
        Milestone last = null;
        for (Milestone m : values()) {
            if (s.contains(m.marker)) {
                last = m;
            }
        }
        return last;
    }
}
