package dev.tickwatch.gdb;

import dev.tickwatch.TickwatchException;

/**
 * The stub answered {@code E NN} (GDB manual, "Standard Replies"). {@link #code()} is NN read as
 * hex, as the manual defines it; QEMU 7.2 puts errno in decimal digits there, so its "E14"
 * (EFAULT, unreadable memory) has code 0x14 and "E22" (EINVAL) code 0x22.
 */
public class GdbErrorException extends TickwatchException {

    private final String command;
    private final int code;

    public GdbErrorException(String command, int code) {
        super("gdbstub error E" + String.format("%02x", code) + " for '" + command + "'" + meaning(code));
        this.command = command;
        this.code = code;
    }

    private static String meaning(int code) {
        // QEMU writes errno values in decimal digits ("E14" is EFAULT 14, "E22" EINVAL 22),
        // though the manual says hex: the code read as hex is 0x14 or 0x22.
        return switch (code) {
            case 0x14 -> " (QEMU: EFAULT, memory not readable)";
            case 0x22 -> " (QEMU: EINVAL, request rejected)";
            default -> "";
        };
    }

    public String command() {
        return command;
    }

    /** The {@code NN} of {@code E NN}. */
    public int code() {
        return code;
    }
}
