package dev.tickwatch.command;

import dev.tickwatch.net.Endpoint;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * {@code --qmp ADDR}, declared here only. Optional as declared: a command that cannot work without
 * it says {@code modelTransformer = QmpOption.Required.class}, so that picocli's synopsis and its
 * "Missing required option" stay as they were; under a group ({@code guest}) the option may be
 * given at either level, and {@link CliContext} asks for it when it connects.
 */
public final class QmpOption implements ConnectionOption {

    public static final String NAME = "--qmp";

    @Option(names = {"-q", NAME}, converter = EndpointConverter.class, paramLabel = "ADDR",
            description = "QMP socket: unix:/path or tcp:host:port")
    Endpoint endpoint;

    // Hidden: for tests (a peer that never greets) and for hosts so loaded that 5 s is not enough.
    @Option(names = "--qmp-connect-timeout", hidden = true, paramLabel = "SECONDS",
            description = "how long to wait for the QMP greeting (default: 5)")
    Double connectTimeoutSeconds;

    /** The address, or null when not given at this level. */
    public Endpoint endpoint() {
        return endpoint;
    }

    /** The greeting timeout in seconds, or null when not given at this level. */
    public Double connectTimeoutSeconds() {
        return connectTimeoutSeconds;
    }

    /** Makes {@code --qmp} required on the command it transforms. */
    public static final class Required implements CommandLine.IModelTransformer {
        @Override
        public CommandSpec transform(CommandSpec spec) {
            return require(spec, NAME);
        }
    }

    /** Replaces the mixed-in option {@code name} by a required copy bound to the same field. */
    static CommandSpec require(CommandSpec spec, String name) {
        OptionSpec o = spec.findOption(name);
        if (o != null && !o.required()) {
            spec.remove(o);
            spec.addOption(o.toBuilder().required(true).build());
        }
        return spec;
    }
}
