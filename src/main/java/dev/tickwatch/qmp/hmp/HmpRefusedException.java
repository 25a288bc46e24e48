package dev.tickwatch.qmp.hmp;

import dev.tickwatch.ProtocolException;

/**
 * QEMU answered an HMP command with its own complaint instead of the values asked for: {@code x}
 * printed {@code Cannot access memory}, {@code gpa2hva} found no RAM at the address. The caller
 * knows what the address meant and turns this into its own error; {@link #reply} is QEMU's text.
 * A {@link ProtocolException} because the reply is not the shape the command promises.
 */
public class HmpRefusedException extends ProtocolException {

    private final String reply;

    public HmpRefusedException(String message, String reply) {
        super(message);
        this.reply = reply;
    }

    /** QEMU's reply, stripped of surrounding whitespace. */
    public String reply() {
        return reply;
    }
}
