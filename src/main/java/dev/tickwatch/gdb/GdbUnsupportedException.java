package dev.tickwatch.gdb;

import dev.tickwatch.TickwatchException;

/** The stub answered with an empty packet: it does not know the request (GDB manual, "Standard Replies"). */
public class GdbUnsupportedException extends TickwatchException {

    private final String command;

    public GdbUnsupportedException(String command) {
        super("the gdbstub does not support '" + command + "' (empty reply)");
        this.command = command;
    }

    public String command() {
        return command;
    }
}
