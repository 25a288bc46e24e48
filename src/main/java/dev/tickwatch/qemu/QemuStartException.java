package dev.tickwatch.qemu;

import dev.tickwatch.QemuException;
import java.util.List;

/**
 * QEMU exited before its QMP monitor was ready, with its own last words: what it printed on
 * stderr ({@code qemu: invalid kernel header}, a bad option) and its exit status. The message's
 * first line carries both, so that a caller who shows only one line (a boot loop's "cannot
 * test" reason) still shows what QEMU said, not the socket it never served.
 */
public class QemuStartException extends QemuException {

    private final int exitStatus;
    private final List<String> qemuSaid;

    public QemuStartException(int exitStatus, List<String> qemuSaid) {
        super("QEMU exited with status " + exitStatus + " before it was ready"
                + (qemuSaid.isEmpty() ? " and printed nothing" : ": " + String.join(" / ", qemuSaid)));
        this.exitStatus = exitStatus;
        this.qemuSaid = List.copyOf(qemuSaid);
    }

    /** QEMU's exit status. */
    public int exitStatus() {
        return exitStatus;
    }

    /** QEMU's last lines on stderr (and stdout), oldest first; empty when it printed nothing. */
    public List<String> qemuSaid() {
        return qemuSaid;
    }
}
