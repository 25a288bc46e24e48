package dev.tickwatch;

import java.time.Duration;

/** A request got no reply in time. The message names the request and the duration. */
public class CommandTimeoutException extends TickwatchException {

    private final String command;
    private final Duration timeout;

    public CommandTimeoutException(String protocol, String command, Duration timeout) {
        super(protocol + " command '" + command + "' timed out after " + timeout.toMillis() + " ms");
        this.command = command;
        this.timeout = timeout;
    }

    /** With a message of its own, for waits that are not a plain command (a greeting, an event). */
    public CommandTimeoutException(String command, Duration timeout, String message) {
        super(message);
        this.command = command;
        this.timeout = timeout;
    }

    public String command() {
        return command;
    }

    public Duration timeout() {
        return timeout;
    }
}
