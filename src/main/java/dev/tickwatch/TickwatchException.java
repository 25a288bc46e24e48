package dev.tickwatch;

/**
 * Root of every exception tickwatch throws on purpose. Unchecked, like Lettuce's
 * {@code RedisException}: callers catch the subclass whose meaning they can act on.
 */
public class TickwatchException extends RuntimeException {

    public TickwatchException(String message) {
        super(message);
    }

    public TickwatchException(String message, Throwable cause) {
        super(message, cause);
    }
}
