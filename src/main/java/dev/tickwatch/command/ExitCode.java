package dev.tickwatch.command;

/**
 * Exit codes, chosen so that {@code git bisect run tickwatch ...} and {@code watch --until-hang ||
 * save-evidence} never take anything else for a hang: 0 good, {@link #HANG} only when a hang
 * verdict ({@code Verdict.isHang()}) decided it, {@link #CANNOT_TEST} for everything that kept the
 * command from doing what it was asked (no socket, a refused connection, QEMU's error, a file that
 * is not a kernel; {@code git bisect run} skips the commit), and {@link #USAGE} for a bad command
 * line, which makes {@code git bisect run} stop instead of deciding. There is deliberately no
 * "failed": a command that fails for any reason but a hang verdict exits 125 or 128.
 * {@code ExitCodeTest} checks where {@link #HANG} is used.
 */
public final class ExitCode {
    public static final int OK = 0;
    /** A hang verdict decided it (a boot hung, a watch saw a hang); never a failure of another kind. */
    public static final int HANG = 1;
    /** Could not do what was asked: no connection, QEMU's error, QEMU would not start, a bad kernel file. */
    public static final int CANNOT_TEST = 125;
    /** Bad command line, including values that {@code call()} refuses. */
    public static final int USAGE = 128;

    private ExitCode() {
    }
}
