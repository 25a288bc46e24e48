package dev.tickwatch.gdb;

/**
 * A thread as the stub names it (GDB manual, "Packets" &gt; thread-id syntax): {@code p<pid>.<tid>}
 * in multiprocess mode, else {@code <tid>}, both hex. In QEMU's system emulation a thread is a vCPU:
 * tid 1 is CPU 0.
 *
 * @param id  the id exactly as the stub wrote it, to send back in {@code Hg}
 * @param pid the process id (1 when the stub is not in multiprocess mode)
 * @param tid the thread id
 */
public record GdbThread(String id, long pid, long tid) {

    static GdbThread parse(String id) {
        String s = id.strip();
        long pid = 1;
        String t = s;
        if (s.startsWith("p")) {
            int dot = s.indexOf('.');
            if (dot < 0) {
                return new GdbThread(s, Long.parseUnsignedLong(s.substring(1), 16), -1);
            }
            pid = Long.parseUnsignedLong(s.substring(1, dot), 16);
            t = s.substring(dot + 1);
        }
        return new GdbThread(s, pid, Long.parseUnsignedLong(t, 16));
    }

    /** QEMU's vCPU index for this thread (tid - 1). */
    public int cpuIndex() {
        return (int) (tid - 1);
    }
}
