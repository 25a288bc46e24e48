package dev.tickwatch.qemu;

import java.util.Locale;

/** QEMU accelerator. {@link #AUTO} takes KVM only when a probe showed it boots a kernel here. */
public enum Accel {
    TCG, KVM, AUTO;

    public String qemuName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Accel parse(String s) {
        try {
            return valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("accelerator: '" + s + "' (expected: tcg, kvm or auto)");
        }
    }
}
