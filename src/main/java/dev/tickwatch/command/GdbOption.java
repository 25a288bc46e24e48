package dev.tickwatch.command;

import dev.tickwatch.net.Endpoint;
import picocli.CommandLine.Option;

/** {@code --gdb ADDR}, declared here only; optional as declared (see {@link QmpOption} for required). */
public final class GdbOption implements ConnectionOption {

    public static final String NAME = "--gdb";

    @Option(names = NAME, converter = EndpointConverter.class, paramLabel = "ADDR",
            description = "gdbstub socket: unix:/path or tcp:host:port")
    Endpoint endpoint;

    /** The address, or null when not given at this level. */
    public Endpoint endpoint() {
        return endpoint;
    }
}
