package dev.tickwatch.guest.mem;

import dev.tickwatch.TickwatchException;

/** A guest memory read failed: the page is not mapped, or the backend could not reach it. */
public class GuestMemoryException extends TickwatchException {

    private final long address;

    public GuestMemoryException(long address, String message) {
        super(message);
        this.address = address;
    }

    public GuestMemoryException(long address, String message, Throwable cause) {
        super(message, cause);
        this.address = address;
    }

    /** The first guest address that could not be read. */
    public long address() {
        return address;
    }
}
