package dev.tickwatch.snapshot;

import dev.tickwatch.TickwatchException;

/** A snapshot could not be taken or written; the message is one line for the user. */
public class SnapshotException extends TickwatchException {

    public SnapshotException(String message) {
        super(message);
    }

    public SnapshotException(String message, Throwable cause) {
        super(message, cause);
    }
}
