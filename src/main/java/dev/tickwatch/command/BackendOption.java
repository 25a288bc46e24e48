package dev.tickwatch.command;

import dev.tickwatch.guest.mem.GuestMemory;
import picocli.CommandLine.Option;

/** {@code --backend NAME}: how the CLI reads guest memory; the shell's session picks its own. */
public final class BackendOption implements ConnectionOption {

    @Option(names = "--backend", paramLabel = "NAME",
            description = "memory backend: proc-mem, qmp-memsave, hmp-x, or auto, the default: the fastest"
                    + " that works without pausing")
    String backend;

    /** The name given at this level, or null. */
    public String name() {
        return backend;
    }

    /** The backend named, or null for auto. */
    static GuestMemory.Backend parse(String backend) {
        if (backend == null || backend.equals("auto")) {
            return null;
        }
        for (GuestMemory.Backend b : GuestMemory.Backend.values()) {
            if (b.label().equals(backend) && !b.pauses()) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown --backend '" + backend + "' (want auto, proc-mem, qmp-memsave or hmp-x)");
    }
}
