package dev.tickwatch.guest.log;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One record of the kernel log: {@code struct printk_info} and its text. {@code callerId} is
 * the kernel's {@code printk_caller_id()}: a task's pid, or {@code 0x80000000 + cpu} when the
 * record was written outside task context; the kernel stores it whether or not
 * CONFIG_PRINTK_CALLER prints it.
 *
 * @param seq       the record's sequence number (0 is the first record since boot)
 * @param tsNs      local_clock() when the record was stored, ns since boot
 * @param facility  0 for the kernel, 1 (LOG_USER) for what user space wrote to /dev/kmsg
 * @param flags     printk_info.flags (LOG_NEWLINE 2, LOG_CONT 8; kernel/printk/internal.h)
 * @param text      the text without its final newline; lines of a multi-line record joined by '\n'
 * @param subsystem dev_printk_info.subsystem, "" when none
 * @param device    dev_printk_info.device, "" when none
 */
public record LogRecord(long seq, long tsNs, LogLevel level, int facility, int flags, int callerId, String text,
        String subsystem, String device) {

    /** printk_info.flags bit for a continuation fragment (kernel/printk/internal.h). */
    static final int LOG_CONT = 8;
    private static final int CALLER_CPU = 0x80000000;

    /** {@code T123} for a task, {@code C1} for a CPU, as CONFIG_PRINTK_CALLER prints it. */
    public String caller() {
        return ((callerId & CALLER_CPU) != 0 ? "C" : "T") + Integer.toUnsignedString(callerId & ~CALLER_CPU);
    }

    /** The CPU that wrote the record outside task context, or -1 when a task wrote it. */
    public int callerCpu() {
        return (callerId & CALLER_CPU) != 0 ? callerId & ~CALLER_CPU : -1;
    }

    /** The pid of the task that wrote the record, or -1 when it was written outside task context. */
    public int callerPid() {
        return (callerId & CALLER_CPU) == 0 ? callerId : -1;
    }

    /** The text's lines (one, for most records). */
    public List<String> lines() {
        return List.of(text.split("\n", -1));
    }

    /** {@code [    1.234567]}, the kernel's print_time(). */
    public String timestamp() {
        return String.format(Locale.ROOT, "[%5d.%06d]", Long.divideUnsigned(tsNs, 1_000_000_000L),
                Long.remainderUnsigned(tsNs, 1_000_000_000L) / 1000);
    }

    /**
     * The record as {@code dmesg} prints it (the kernel's record_print_text() with a time
     * prefix): every line of the text behind the timestamp.
     */
    public List<String> dmesgLines() {
        List<String> out = new ArrayList<>();
        String prefix = timestamp() + " ";
        for (String line : lines()) {
            out.add(prefix + line);
        }
        return out;
    }

    /**
     * The record as one read of {@code /dev/kmsg} gives it (kernel/printk/printk.c,
     * info_print_ext_header() and msg_print_ext_body()): {@code PRI,seq,usec,flag;text} with
     * control characters, bytes over 126 and backslashes as {@code \xNN}, then one
     * {@code " KEY=value"} line for each dev_printk field that is set. Without the
     * {@code ,caller=} field CONFIG_PRINTK_CALLER adds; ends with a newline.
     */
    public String kmsg() {
        StringBuilder b = new StringBuilder();
        b.append((facility << 3) | level.number()).append(',').append(Long.toUnsignedString(seq)).append(',')
                .append(Long.divideUnsigned(tsNs, 1000)).append(',').append((flags & LOG_CONT) != 0 ? 'c' : '-')
                .append(';');
        escape(b, text).append('\n');
        if (!subsystem.isEmpty()) {
            escape(b.append(" SUBSYSTEM="), subsystem).append('\n');
        }
        if (!device.isEmpty()) {
            escape(b.append(" DEVICE="), device).append('\n');
        }
        return b.toString();
    }

    private static StringBuilder escape(StringBuilder b, String s) {
        for (byte c : s.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            int u = c & 0xff;
            if (u < ' ' || u >= 127 || u == '\\') {
                b.append(String.format(Locale.ROOT, "\\x%02x", u));
            } else {
                b.append((char) u);
            }
        }
        return b;
    }
}
