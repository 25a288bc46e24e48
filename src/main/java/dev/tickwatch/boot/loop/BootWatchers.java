package dev.tickwatch.boot.loop;

/**
 * The one factory that picks the {@link BootWatcher}. Today: {@link ConsoleWatcher}. When the
 * verdict engine (issue 6) lands, this returns it (keeping the same {@link WatchOptions}:
 * success marker, stall bound, timeout), and every command follows.
 */
public final class BootWatchers {

    private BootWatchers() {
    }

    public static BootWatcher create(WatchOptions options) {
        return new ConsoleWatcher(options);
    }
}
