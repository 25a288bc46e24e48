package dev.tickwatch.guest;

import dev.tickwatch.TickwatchException;

/**
 * The guest kernel is not laid out the way a reading expects: a symbol, a BTF type or field, or a
 * kallsyms table was not found. The message names what is missing, so the user can tell what still
 * works (for example: registers and LAPIC state need no symbols) from what does not. Never answer
 * with a guessed number instead.
 */
public class GuestLayoutException extends TickwatchException {

    public GuestLayoutException(String message) {
        super(message);
    }

    public GuestLayoutException(String message, Throwable cause) {
        super(message, cause);
    }
}
