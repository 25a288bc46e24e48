package dev.tickwatch.snapshot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;
import java.util.function.LongPredicate;

/**
 * The words of a kernel stack that point into kernel text, as the kernel's own oops traces list
 * them when unwinding fails: each marked {@code ?} (unreliable), because a stale return address
 * left by an earlier call looks the same as a live one. The kernel unwinds with ORC tables we do
 * not have, so every entry here is a "?" entry; the innermost real frames are usually among them.
 */
public final class StackScan {

    /** THREAD_SIZE on x86_64 without KASAN: task and IRQ stacks are this big and this aligned. */
    public static final long THREAD_SIZE = 16 * 1024;
    /** How much of the stack above RSP we read: the innermost frames live there. */
    public static final int SCAN_BYTES = 4096;
    static final int MAX_ENTRIES = 48;

    /**
     * @param at      the stack slot's address
     * @param address the value found there, a kernel text address
     * @param symbol  {@code sym+0xoff/0xsize [module]}
     */
    public record Entry(long at, long address, String symbol) {
    }

    private StackScan() {
    }

    /** How many bytes from {@code rsp} stay inside its stack (never past the THREAD_SIZE-aligned top). */
    public static int readableLength(long rsp) {
        long top = (rsp | (THREAD_SIZE - 1)) + 1;
        return (int) Math.min(SCAN_BYTES, top - rsp);
    }

    /**
     * Scans {@code stack}, read from address {@code from}, for words that {@code isText} accepts.
     */
    public static List<Entry> scan(long from, byte[] stack, LongPredicate isText, LongFunction<String> symbolize) {
        ByteBuffer b = ByteBuffer.wrap(stack).order(ByteOrder.LITTLE_ENDIAN);
        List<Entry> out = new ArrayList<>();
        int first = (int) ((8 - (from & 7)) & 7);
        for (int i = first; i + 8 <= stack.length && out.size() < MAX_ENTRIES; i += 8) {
            long w = b.getLong(i);
            if (isText.test(w)) {
                out.add(new Entry(from + i, w, symbolize.apply(w)));
            }
        }
        return out;
    }
}
