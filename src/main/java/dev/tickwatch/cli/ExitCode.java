package dev.tickwatch.cli;

/**
 * Exit codes, chosen so that {@code git bisect run tickwatch ...} never marks a commit bad for
 * the wrong reason: 0 good, 1 bad (a failure or a hang), 125 "cannot test this commit",
 * and usage errors at 128, which makes {@code git bisect run} stop instead of deciding.
 */
public final class ExitCode {
    public static final int OK = 0;
    /** The command failed: QEMU's error, a lost connection, a hang found. */
    public static final int FAILED = 1;
    /** Could not test: QEMU would not start, kernel missing, accelerator broken. */
    public static final int CANNOT_TEST = 125;
    /** Bad command line. */
    public static final int USAGE = 128;

    private ExitCode() {
    }
}
