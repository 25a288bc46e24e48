package dev.tickwatch.util;

import dev.tickwatch.TickwatchException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Waiting for the futures the QMP and gdbstub clients return: the value, or the failure as the
 * exception the synchronous calls throw ({@code QmpCommandException}, {@code CommandTimeoutException},
 * {@code ConnectionException}, ...), never a wrapper.
 */
public final class Futures {

    private Futures() {
    }

    /** Waits for {@code f}; an interrupt ends the wait with "interrupted" and keeps the thread's flag. */
    public static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TickwatchException("interrupted", e);
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        }
    }

    /** The failure inside any completion or execution wrappers, as an unchecked exception. */
    public static RuntimeException unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof RuntimeException re ? re : new TickwatchException(t.toString(), t);
    }
}
