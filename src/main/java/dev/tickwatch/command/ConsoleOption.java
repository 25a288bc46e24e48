package dev.tickwatch.command;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --console FILE}: the guest's serial console log, declared here only. */
public final class ConsoleOption implements ConnectionOption {

    public static final String NAME = "--console";

    @Option(names = NAME, paramLabel = "FILE", description = "the guest's serial console log, for progress and panics")
    Path file;

    /** The log file, or null when not given at this level. */
    public Path file() {
        return file;
    }
}
