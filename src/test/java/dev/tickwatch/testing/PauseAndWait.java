package dev.tickwatch.testing;

import dev.tickwatch.gdb.GdbClient;
import dev.tickwatch.gdb.GdbOptions;
import dev.tickwatch.gdb.GdbPause;
import dev.tickwatch.net.Endpoint;
import java.io.IOException;

/**
 * A separate JVM for the shutdown-hook test: attaches to a gdbstub, pauses, prints "paused",
 * then waits on stdin inside the pause. The test ends it with SIGTERM; only the client's shutdown
 * hook can resume the VM then.
 */
public final class PauseAndWait {

    private PauseAndWait() {
    }

    public static void main(String[] args) throws IOException {
        GdbClient gdb = GdbClient.connect(Endpoint.parse(args[0]), GdbOptions.defaults());
        GdbPause paused = gdb.pause();
        System.out.println(paused.ours() ? "paused" : "not ours");
        System.out.flush();
        System.in.read();
    }
}
