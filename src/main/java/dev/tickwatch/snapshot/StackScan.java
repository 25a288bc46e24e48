package dev.tickwatch.snapshot;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.Modules;
import java.io.ByteArrayOutputStream;
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

    /** Reads {@code length} bytes of guest memory at {@code address} (e.g. through the gdbstub); null: no backend. */
    @FunctionalInterface
    public interface Reader {
        byte[] read(long address, int length);
    }

    /**
     * What one CPU's stack gave.
     *
     * @param rsp     where the scan started
     * @param bytes   how many bytes were read (0 when the stack was not scanned)
     * @param entries kernel and module text addresses found, innermost first, all unreliable
     * @param note    why the scan stopped early or did not run; null when it read all it wanted
     */
    public record Stack(long rsp, int bytes, List<Entry> entries, String note) {
    }

    private StackScan() {
    }

    /**
     * Reads up to {@link #SCAN_BYTES} above {@code rsp} (page by page, so a guard page costs only
     * itself) and scans it for kernel and module text addresses. {@code kernel} may be null (then
     * nothing is scanned); {@code cpl} other than 0 means user mode, where RSP is no kernel stack.
     */
    public static Stack read(int cpu, long rsp, int cpl, GuestKernel kernel, Reader reader) {
        if (kernel == null) {
            return new Stack(rsp, 0, List.of(), "no kernel symbols: stack not scanned");
        }
        if (cpl != 0) {
            return new Stack(rsp, 0, List.of(), "CPU" + cpu + " runs in user mode (CPL " + cpl + "): no kernel stack at RSP");
        }
        int len = readableLength(rsp);
        String problem = null;
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        long at = rsp;
        while (at < rsp + len) {
            int n = (int) Math.min(rsp + len - at, 4096 - (at & 4095));
            try {
                byte[] b = reader.read(at, n);
                if (b == null) {
                    problem = "no memory backend";
                    break;
                }
                got.writeBytes(b);
            } catch (TickwatchException e) {
                problem = "stopped at 0x" + Long.toHexString(at) + ": " + e.getMessage();
                break;
            }
            at += n;
        }
        byte[] bytes = got.toByteArray();
        List<Modules.Module> modules = List.of();
        try {
            modules = kernel.modules().list();
        } catch (TickwatchException e) {
            // Without the module list, module addresses are not recognised; kernel text still is.
        }
        List<Modules.Module> mods = modules;
        List<Entry> entries = scan(rsp, bytes,
                a -> kernel.symbols().isKernelText(a) || mods.stream().anyMatch(m -> m.contains(a)), kernel::symbolize);
        return new Stack(rsp, bytes.length, entries, problem);
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
