package dev.tickwatch.command;

import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.log.KernelLog;
import dev.tickwatch.guest.log.KernelReport;
import dev.tickwatch.guest.log.KernelReports;
import dev.tickwatch.guest.log.LogJson;
import dev.tickwatch.guest.log.LogLevel;
import dev.tickwatch.guest.log.LogRead;
import dev.tickwatch.guest.log.LogRecord;
import dev.tickwatch.guest.log.PrintkRing;
import dev.tickwatch.util.Json;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dmesg}: the kernel's log read from guest memory (its printk ring buffer), printed as
 * {@code dmesg} prints it; the guest keeps running. {@code --follow} reads again every period and
 * prints what is new by sequence number, until {@code --for} ends, the shell's Ctrl-C, or QEMU
 * goes away. Records a writer still holds are printed once they are finalized; what was passed
 * over (overwritten, lost) is said on stderr.
 */
@Command(mixinStandardHelpOptions = true, name = "dmesg",
        description = {"The kernel log, read from guest memory (the printk ring buffer); like dmesg.",
            "Needs the data symbol 'prb' (KALLSYMS_ALL, or --system-map/--vmlinux) and BTF."})
public final class DmesgCommand extends GuestReadings.Sub {

    @Option(names = {"-l", "--level"}, paramLabel = "L[,L...]",
            description = "only these levels: emerg, alert, crit, err, warn, notice, info, debug")
    String levels;

    @Option(names = {"-w", "--follow"}, description = "keep reading and print new records as they come")
    boolean follow;

    @Option(names = "--for", paramLabel = "SECONDS", description = "with --follow: stop after this long")
    Double forSeconds;

    @Option(names = "--period-ms", paramLabel = "MS", defaultValue = "500", description = "with --follow: ms between reads (default: ${DEFAULT-VALUE})")
    long periodMs;

    @Option(names = "--raw", description = "print records as /dev/kmsg gives them (PRI,seq,usec,flag;text)")
    boolean raw;

    @Option(names = "--reports", description = "only the records in which a kernel detector reported: lockups, stalls, hung tasks, WARN, BUG, Oops, panic")
    boolean reportsOnly;

    @Override
    int run(GuestContext ctx, PrintWriter out) throws Exception {
        Set<LogLevel> wanted;
        try {
            wanted = levels == null ? null : LogLevel.parseList(levels);
        } catch (IllegalArgumentException e) {
            throw Commands.usage(spec, "--level: " + e.getMessage());
        }
        if (forSeconds != null && !(forSeconds > 0)) {
            throw Commands.usage(spec, "--for must be more than 0 seconds, got " + forSeconds);
        }
        if (periodMs < 10) {
            throw Commands.usage(spec, "--period-ms must be at least 10, got " + periodMs);
        }
        GuestKernel k = ctx.kernel();
        PrintkRing ring = KernelLog.of(k);
        boolean json = json();
        LogRead r = ring.read();
        for (LogRecord rec : r.records()) {
            print(out, rec, wanted, json);
        }
        out.flush();
        skipped(r);
        if (!follow) {
            return ExitCode.OK;
        }
        long next = r.nextSeq();
        // Records already printed past the first one still pending: printed once, in any order they finalize.
        TreeSet<Long> printed = new TreeSet<>();
        for (LogRecord x : r.records()) {
            if (Long.compareUnsigned(x.seq(), next) >= 0) {
                printed.add(x.seq());
            }
        }
        long deadline = forSeconds == null ? Long.MAX_VALUE : System.nanoTime() + (long) (forSeconds * 1e9);
        while (true) {
            long waitMs = Math.min(periodMs, Math.max(0, (deadline - System.nanoTime()) / 1_000_000));
            try {
                ctx.stopRequested().get(waitMs, TimeUnit.MILLISECONDS);
                break;
            } catch (TimeoutException e) {
                // Time for the next read.
            } catch (ExecutionException e) {
                break;
            }
            if (System.nanoTime() >= deadline) {
                break;
            }
            LogRead more = ring.read(next);
            if (!more.records().isEmpty() && Long.compareUnsigned(more.records().get(0).seq(), next) > 0
                    && more.pending() == 0 && more.lost() == 0 && more.changed() == 0) {
                spec.commandLine().getErr().println(Commands.who(spec) + ": " + (more.records().get(0).seq() - next)
                        + " records overwritten before they could be read");
            }
            for (LogRecord rec : more.records()) {
                if (printed.add(rec.seq())) {
                    print(out, rec, wanted, json);
                }
            }
            out.flush();
            next = more.nextSeq();
            printed.headSet(next).clear();
        }
        if (ctx.cancelled()) {
            out.println("(dmesg stopped)");
        }
        return ExitCode.OK;
    }

    private void print(PrintWriter out, LogRecord rec, Set<LogLevel> wanted, boolean json) {
        String text = format(rec, wanted, reportsOnly, json, raw);
        if (text != null) {
            out.print(text);
        }
    }

    /**
     * One record as dmesg prints it (its lines behind the timestamp), as /dev/kmsg gives it
     * ({@code raw}), or as one JSON line; null when the filters leave it out.
     */
    static String format(LogRecord rec, Set<LogLevel> wanted, boolean reportsOnly, boolean json, boolean raw) {
        if (wanted != null && !wanted.contains(rec.level())) {
            return null;
        }
        Optional<KernelReport> report = KernelReports.of(rec);
        if (reportsOnly && report.isEmpty()) {
            return null;
        }
        if (json) {
            return Json.compact(Json.tree(LogJson.Entry.of(rec))) + "\n";
        }
        if (raw) {
            return rec.kmsg();
        }
        return String.join("\n", rec.dmesgLines()) + "\n";
    }

    private void skipped(LogRead r) {
        if (!r.skipped().isEmpty()) {
            spec.commandLine().getErr().println(Commands.who(spec) + ": passed over " + String.join("; ", r.skipped()));
        }
    }
}
