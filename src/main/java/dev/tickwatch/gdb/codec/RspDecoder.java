package dev.tickwatch.gdb.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Decodes the GDB Remote Serial Protocol byte stream (GDB manual, "Remote Protocol" &gt;
 * "Overview": packets {@code $data#cs}, acks, the {@code }} escape, run-length encoding with
 * {@code *}; "Notification Packets": {@code %data#cs}; "Interrupts": the {@code 0x03} byte;
 * "Stop Reply Packets": {@code O} console output).
 *
 * <p>Like Netty's {@code RedisDecoder}: an explicit {@link State}, one byte at a time, so a packet
 * split anywhere decodes the same, and the cumulation buffer never holds more than one read. The
 * decoded payload is bounded by {@code maxPacketLength} (run-length expansion included); a longer
 * frame is skipped to its checksum and reported. Like {@code MqttDecoder}, a bad frame (checksum,
 * escape, size) becomes an {@link RspInvalid} and decoding goes on with the next frame. Bytes
 * outside frames other than acks and {@code 0x03} are ignored, as GDB and QEMU do.
 */
public final class RspDecoder extends ByteToMessageDecoder {

    /** Large enough for QEMU's 4096-byte packets and a 2048-byte {@code m} reply with room to spare. */
    public static final int DEFAULT_MAX_PACKET_LENGTH = 64 * 1024;
    private static final int EXCERPT = 80;

    private enum State { IDLE, PAYLOAD, ESCAPE, REPEAT, CHECKSUM_HIGH, CHECKSUM_LOW }

    private final int maxPacketLength;
    private final Consumer<String> frameTap;

    private State state = State.IDLE;
    private boolean notification;
    private byte[] payload = new byte[256];
    private int length;
    private int sum;
    private int checksumHigh;
    /** First problem found in the current frame; the frame is still read to its end. */
    private String error;
    /** Raw bytes of the current frame, kept only when tapping, bounded like the payload. */
    private byte[] raw;
    private int rawLength;

    public RspDecoder() {
        this(DEFAULT_MAX_PACKET_LENGTH, null);
    }

    /**
     * @param maxPacketLength largest decoded payload accepted, in bytes
     * @param frameTap        receives every frame as it crossed the wire (see {@link Rsp#wire}), or null
     */
    public RspDecoder(int maxPacketLength, Consumer<String> frameTap) {
        if (maxPacketLength < 64 || maxPacketLength > 16 * 1024 * 1024) {
            throw new IllegalArgumentException("maxPacketLength: " + maxPacketLength + " (expected: 64-16777216)");
        }
        this.maxPacketLength = maxPacketLength;
        this.frameTap = frameTap;
        if (frameTap != null) {
            raw = new byte[256];
        }
    }

    /** Bytes held for the frame being decoded: never more than {@code maxPacketLength}. */
    public int bufferedBytes() {
        return length + actualReadableBytes();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            int b = in.readByte() & 0xff;
            if (state != State.IDLE) {
                tapByte(b);
            }
            switch (state) {
                case IDLE -> idle(b, out);
                case PAYLOAD -> {
                    if (b == '#') {
                        state = State.CHECKSUM_HIGH;
                    } else if (b == '$') {
                        // A new packet starts inside this one: the sender gave up on it (GDB's read_frame
                        // does the same). '%' is not escaped by senders, so it is data here.
                        fail("frame restarted before its checksum");
                        out.add(invalid());
                        start(b);
                    } else {
                        sum += b;
                        if (b == '}') {
                            state = State.ESCAPE;
                        } else if (b == '*') {
                            if (length == 0) {
                                fail("run-length '*' with no byte before it");
                            }
                            state = State.REPEAT;
                        } else {
                            append(b, 1);
                        }
                    }
                }
                case ESCAPE -> {
                    if (b == '#') {
                        fail("escape '}' right before '#'");
                        state = State.CHECKSUM_HIGH;
                    } else {
                        sum += b;
                        append(b ^ 0x20, 1);
                        state = State.PAYLOAD;
                    }
                }
                case REPEAT -> {
                    if (b == '#') {
                        fail("run-length '*' without a count");
                        state = State.CHECKSUM_HIGH;
                    } else {
                        sum += b;
                        // GDB manual: the count is the character's value minus 29 ("0* " is "0000").
                        int extra = b - 29;
                        if (b < 0x20 || b > 0x7e) {
                            fail("run-length count byte 0x" + Integer.toHexString(b) + " (expected: printable)");
                        } else if (length > 0) {
                            append(payload[length - 1] & 0xff, extra);
                        }
                        state = State.PAYLOAD;
                    }
                }
                case CHECKSUM_HIGH -> {
                    checksumHigh = Rsp.hexValue(b);
                    state = State.CHECKSUM_LOW;
                }
                case CHECKSUM_LOW -> {
                    int low = Rsp.hexValue(b);
                    if (checksumHigh < 0 || low < 0) {
                        fail("checksum is not two hex digits");
                    } else if ((checksumHigh << 4 | low) != (sum & 0xff)) {
                        fail("checksum: 0x" + Integer.toHexString(checksumHigh << 4 | low)
                                + " (expected: 0x" + Integer.toHexString(sum & 0xff) + ")");
                    }
                    out.add(finish());
                    state = State.IDLE;
                }
                default -> throw new IllegalStateException(state.name());
            }
        }
    }

    private void idle(int b, List<Object> out) {
        switch (b) {
            case '$', '%' -> {
                start(b);
                tapByte(b);
            }
            case '+' -> {
                tap("+");
                out.add(RspAck.ACK);
            }
            case '-' -> {
                tap("-");
                out.add(RspAck.NAK);
            }
            case 0x03 -> {
                tap("\\x03");
                out.add(RspInterrupt.INSTANCE);
            }
            default -> {
                // Line noise between frames: ignored, as the GDB manual's receivers do.
            }
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        decode(ctx, in, out);
        if (state != State.IDLE) {
            fail("truncated frame at end of stream: " + length + " bytes decoded");
            out.add(invalid());
            state = State.IDLE;
        }
    }

    private void start(int b) {
        state = State.PAYLOAD;
        notification = b == '%';
        length = 0;
        sum = 0;
        error = null;
        rawLength = 0;
        if (payload.length > 4096) {
            // Do not keep a large buffer around after one large packet.
            payload = new byte[256];
        }
    }

    private void append(int b, int count) {
        if (length + (long) count > maxPacketLength) {
            fail("packet length: > " + maxPacketLength + " (expected: <= " + maxPacketLength + ")");
            return;
        }
        if (length + count > payload.length) {
            payload = Arrays.copyOf(payload, Math.min(maxPacketLength, Math.max(payload.length * 2, length + count)));
        }
        Arrays.fill(payload, length, length + count, (byte) b);
        length += count;
    }

    private void fail(String why) {
        if (error == null) {
            error = why;
        }
    }

    private RspMessage finish() {
        tapFrame();
        if (error != null) {
            return invalid();
        }
        byte[] data = Arrays.copyOf(payload, length);
        length = 0;
        if (notification) {
            return new RspNotification(data);
        }
        // "O" followed by hex is console output; "OK" is not hex, so it stays a reply.
        if (data.length > 1 && data[0] == 'O' && Rsp.isHex(data, 1, data.length)) {
            return new RspConsole(Rsp.unhex(data, 1, data.length));
        }
        return new RspPacket(data);
    }

    private RspInvalid invalid() {
        RspInvalid r = new RspInvalid(error, Rsp.printable(payload, 0, Math.min(length, EXCERPT)), !notification);
        length = 0;
        error = null;
        return r;
    }

    private void tapByte(int b) {
        if (raw != null && rawLength < maxPacketLength + 4) {
            if (rawLength == raw.length) {
                raw = Arrays.copyOf(raw, Math.min(raw.length * 2, maxPacketLength + 4));
            }
            raw[rawLength++] = (byte) b;
        }
    }

    private void tapFrame() {
        if (frameTap != null) {
            frameTap.accept(Rsp.wire(raw, 0, rawLength));
            rawLength = 0;
        }
    }

    private void tap(String s) {
        if (frameTap != null) {
            frameTap.accept(s);
        }
    }
}
