package dev.tickwatch;

/** QEMU could not be started, or exited when it should not have. */
public class QemuException extends TickwatchException {

    public QemuException(String message) {
        super(message);
    }

    public QemuException(String message, Throwable cause) {
        super(message, cause);
    }
}
