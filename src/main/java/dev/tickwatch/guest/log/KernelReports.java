package dev.tickwatch.guest.log;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Finds the kernel's own detectors' reports among log records, by the lines their printk format
 * strings print (Linux 6.1 and 6.12): the soft-lockup watchdog (kernel/watchdog.c), the hard-lockup
 * one (watchdog_hld.c in 6.1, watchdog.c in 6.12), RCU's stall warnings (rcu/tree_stall.h,
 * tree_exp.h), the hung-task detector (hung_task.c), lockdep (locking/lockdep.c), rt-mutex deadlock
 * detection (locking/rtmutex.c), {@code WARN()} (panic.c __warn()), {@code BUG()} (lib/bug.c) and the
 * "BUG:" lines of the scheduler, the page-fault handler and others, an Oops (x86 dumpstack.c
 * __die_header()), and a panic (panic.c). Only the kernel's records count (facility 0): user
 * space can write anything to /dev/kmsg. Pure functions.
 */
public final class KernelReports {

    private record Rule(KernelReport.Kind kind, Pattern pattern) {
    }

    /** pr_fmt prefixes ("watchdog: ", "rcu: ", "NMI watchdog: ") are why the first few are not anchored. */
    private static final List<Rule> RULES = List.of(
            rule(KernelReport.Kind.SOFT_LOCKUP, "BUG: soft lockup - CPU#\\d+ stuck for"),
            rule(KernelReport.Kind.HARD_LOCKUP, "Watchdog detected hard LOCKUP on cpu"),
            rule(KernelReport.Kind.RCU_STALL, "INFO: \\S+ (?:detected stalls on CPUs/tasks|self-detected stall on CPU"
                    + "|detected expedited stalls on CPUs/tasks)"),
            rule(KernelReport.Kind.HUNG_TASK, "^INFO: task .+:\\d+ blocked for more than \\d+ seconds\\."),
            rule(KernelReport.Kind.LOCKDEP, "^(?:WARNING: (?:possible circular locking dependency detected"
                    + "|possible recursive locking detected|inconsistent lock state"
                    + "|possible irq lock inversion dependency detected|\\S+-safe -> \\S+-unsafe lock order detected"
                    + "|bad unlock balance detected!|held lock freed!|suspicious RCU usage)"
                    + "|\\[ BUG: Invalid wait context \\])"),
            rule(KernelReport.Kind.RT_MUTEX_DEADLOCK, "^rtmutex deadlock detected"),
            rule(KernelReport.Kind.PANIC, "^Kernel panic - not syncing"),
            rule(KernelReport.Kind.OOPS, "^(?:Oops: |.+: [0-9a-f]{4} \\[#\\d+\\])"),
            rule(KernelReport.Kind.BUG, "^(?:BUG: |kernel BUG at )"),
            rule(KernelReport.Kind.WARN, "^WARNING: CPU: \\d+ PID: \\d+ at "));

    private KernelReports() {
    }

    private static Rule rule(KernelReport.Kind kind, String regex) {
        return new Rule(kind, Pattern.compile(regex));
    }

    /** The report {@code r} makes, if it is one: its first line that a detector prints. */
    public static java.util.Optional<KernelReport> of(LogRecord r) {
        if (r.facility() != 0) {
            return java.util.Optional.empty();
        }
        for (String line : r.lines()) {
            KernelReport.Kind k = classify(line);
            if (k != null) {
                return java.util.Optional.of(new KernelReport(k, r.seq(), r.tsNs(), line));
            }
        }
        return java.util.Optional.empty();
    }

    /** The detector that prints {@code line}, or null. */
    public static KernelReport.Kind classify(String line) {
        for (Rule rule : RULES) {
            if (rule.pattern().matcher(line).find()) {
                return rule.kind();
            }
        }
        return null;
    }

    /** The reports among {@code records}, in their order. */
    public static List<KernelReport> in(List<LogRecord> records) {
        List<KernelReport> out = new ArrayList<>();
        for (LogRecord r : records) {
            of(r).ifPresent(out::add);
        }
        return out;
    }

    /** The reports in records after sequence number {@code afterSeq} (what is new since a sample). */
    public static List<KernelReport> since(List<LogRecord> records, long afterSeq) {
        List<KernelReport> out = new ArrayList<>();
        for (LogRecord r : records) {
            if (Long.compareUnsigned(r.seq(), afterSeq) > 0) {
                of(r).ifPresent(out::add);
            }
        }
        return out;
    }
}
