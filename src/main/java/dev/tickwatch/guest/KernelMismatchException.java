package dev.tickwatch.guest;

/**
 * The vmlinux or System.map given is of another build than the running kernel: its symbols would
 * read wrong memory, so nothing is read with them. Not retried: the files do not change under a
 * running guest.
 */
public final class KernelMismatchException extends GuestLayoutException {

    public KernelMismatchException(String message) {
        super(message);
    }
}
