package dev.tickwatch.gdb.codec;

/** The lone {@code 0x03} byte (GDB manual, "Interrupts"): stop the running target. */
public record RspInterrupt() implements RspMessage {
    public static final RspInterrupt INSTANCE = new RspInterrupt();
}
