package dev.tickwatch.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU accounting from /proc (proc(5)) for the benchmarks: a process's CPU time, the whole host's
 * busy share between two readings (to report how noisy the shared machine was), the load average.
 */
final class HostLoad {

    /** USER_HZ: the unit of /proc/PID/stat times; 100 on every Linux this runs on (getconf CLK_TCK). */
    private static final long TICK_NS = 10_000_000L;

    /** Jiffies counters of the first line of /proc/stat: busy and total. */
    record Snapshot(long busy, long total) {
        /** Share of all cores busy since {@code earlier}, 0..1. */
        double busySince(Snapshot earlier) {
            long t = total - earlier.total;
            return t <= 0 ? 0 : (busy - earlier.busy) / (double) t;
        }
    }

    private HostLoad() {
    }

    /** utime + stime of process {@code pid} in ns (10 ms resolution); -1 when it is gone. */
    static long processCpuNs(long pid) {
        try {
            String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // Field 2 (comm) may hold spaces: count fields after its closing parenthesis.
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * TICK_NS;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * cutime + cstime of this process in ns: the CPU time of every child it has waited for, and of
     * theirs (bash waits for xargs, xargs for each QEMU), so the delta over a run is its QEMUs' CPU.
     */
    static long reapedChildrenCpuNs() {
        try {
            String s = Files.readString(Path.of("/proc/self/stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[13]) + Long.parseLong(f[14])) * TICK_NS;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static Snapshot snapshot() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            // user nice system idle iowait irq softirq steal (guest times are inside user).
            for (int i = 1; i <= 8 && i < f.length; i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            return new Snapshot(total - idle, total);
        } catch (IOException | RuntimeException e) {
            return new Snapshot(0, 0);
        }
    }

    /** The 1-minute load average, or -1. */
    static double loadAverage1m() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static double round(double x, int decimals) {
        double m = Math.pow(10, decimals);
        return Math.round(x * m) / m;
    }
}
