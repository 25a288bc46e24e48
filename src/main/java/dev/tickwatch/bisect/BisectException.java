package dev.tickwatch.bisect;

import dev.tickwatch.TickwatchException;

/** The tree, git or the build cannot be used: the bisection exits 125 ("cannot test"). */
public class BisectException extends TickwatchException {

    public BisectException(String message) {
        super(message);
    }

    public BisectException(String message, Throwable cause) {
        super(message, cause);
    }
}
