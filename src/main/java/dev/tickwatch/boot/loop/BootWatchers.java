package dev.tickwatch.boot.loop;

/**
 * The one factory that picks the {@link BootWatcher}: the console and process watcher with the
 * verdict engine alongside (success marker, console-silence bound and timeout from
 * {@link WatchOptions}; verdict thresholds at their defaults).
 */
public final class BootWatchers {

    private BootWatchers() {
    }

    public static BootWatcher create(WatchOptions options) {
        return new ConsoleWatcher(options, dev.tickwatch.verdict.Thresholds.defaults());
    }
}
