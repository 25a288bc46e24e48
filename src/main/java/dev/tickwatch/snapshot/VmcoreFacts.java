package dev.tickwatch.snapshot;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.guest.CpuTimers;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.guest.btf.BtfField;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What the running kernel says about itself that a crash-dump reader needs and QEMU's
 * dump-guest-memory does not write without a guest-side driver: the VMCOREINFO text the kernel
 * keeps ready for kdump ({@code vmcoreinfo_data}, {@code vmcoreinfo_size}, kernel/crash_core.c;
 * kernel/vmcore_info.c from 6.9), its utsname ({@code init_uts_ns.name}) and the pid of the task
 * each CPU runs (what crash_save_cpu stores in pr_pid: {@code current->pid}, 0 for an idle
 * task). Read with the VM stopped, just before the dump, so they are the dump's moment.
 *
 * @param vmcoreinfo the text, exactly {@code vmcoreinfo_size} bytes; null when not readable
 * @param utsname    {@code struct new_utsname} as the kernel holds it ({@link #UTSNAME_BYTES}); null when not readable
 * @param cpuPids    pr_pid for each CPU in CPU order; null when not readable
 * @param problems   why any of them is null, in words
 */
public record VmcoreFacts(byte[] vmcoreinfo, byte[] utsname, int[] cpuPids, List<String> problems) {

    /** include/uapi/linux/utsname.h: __NEW_UTS_LEN 64, six fields of 65 bytes. */
    public static final int UTS_FIELD = 65;
    public static final int UTSNAME_BYTES = 6 * UTS_FIELD;
    /** VMCOREINFO_BYTES is PAGE_SIZE (include/linux/crash_core.h): the kernel never holds more. */
    static final int MAX_VMCOREINFO = 4096;
    private static final String FILES_HINT = "give the kernel's System.map or vmlinux (--system-map, --vmlinux)";

    public VmcoreFacts {
        problems = List.copyOf(problems);
    }

    /** Nothing known, for {@code why}. */
    public static VmcoreFacts none(String why) {
        return new VmcoreFacts(null, null, null, List.of(why));
    }

    /** Reads the three from guest memory; each that cannot be read is a problem, not a failure. */
    public static VmcoreFacts read(GuestKernel kernel) {
        List<String> problems = new ArrayList<>();
        byte[] info = null;
        try {
            info = vmcoreinfo(kernel);
        } catch (TickwatchException e) {
            problems.add("no VMCOREINFO: " + e.getMessage());
        }
        byte[] uts = null;
        try {
            uts = utsname(kernel);
        } catch (TickwatchException e) {
            problems.add("no utsname: " + e.getMessage());
        }
        int[] pids = null;
        try {
            pids = cpuPids(kernel);
        } catch (TickwatchException e) {
            problems.add("no pids of the CPUs' tasks: " + e.getMessage());
        }
        return new VmcoreFacts(info, uts, pids, problems);
    }

    static byte[] vmcoreinfo(GuestKernel kernel) {
        if (kernel.symbols().addressOf("vmcoreinfo_data").isEmpty()) {
            throw new SnapshotException(kernel.symbols().hasDataSymbols()
                    ? "no symbol vmcoreinfo_data in " + kernel.symbols().source()
                            + " (a kernel without CONFIG_CRASH_CORE / CONFIG_VMCORE_INFO)"
                    : kernel.symbols().textOnly() + "; " + FILES_HINT);
        }
        long data = kernel.memory().readLong(kernel.dataSymbol("vmcoreinfo_data"));
        long size = kernel.memory().readLong(kernel.dataSymbol("vmcoreinfo_size"));
        if (data == 0) {
            throw new SnapshotException("vmcoreinfo_data is NULL (crash_save_vmcoreinfo_init has not run yet)");
        }
        if (size <= 0 || size > MAX_VMCOREINFO) {
            throw new SnapshotException("vmcoreinfo_size is " + size + " (expected: 1.." + MAX_VMCOREINFO + ")");
        }
        byte[] text = kernel.memory().read(data, (int) size);
        checkVmcoreinfo(text);
        return text;
    }

    /** The kernel's text always names its release first; anything else is not VMCOREINFO. */
    static void checkVmcoreinfo(byte[] text) {
        String s = new String(text, StandardCharsets.US_ASCII);
        if (!s.startsWith("OSRELEASE=") || !s.contains("\nPAGESIZE=")) {
            String head = s.substring(0, Math.min(24, s.length())).replaceAll("\\p{Cntrl}", "?");
            throw new SnapshotException("the text at vmcoreinfo_data does not look like VMCOREINFO ('" + head
                    + "...'; expected: OSRELEASE=..., PAGESIZE=...)");
        }
    }

    static byte[] utsname(GuestKernel kernel) {
        long ns = kernel.dataSymbol("init_uts_ns");
        List<Long> offsets = new ArrayList<>();
        Optional<BtfField> name = kernel.hasBtf() ? kernel.btf().findField("uts_namespace", "name") : Optional.empty();
        if (name.isPresent()) {
            offsets.add((long) name.get().offset());
        } else {
            // Without types: name leads struct uts_namespace since 5.11; a kref led it before.
            offsets.add(0L);
            offsets.add(8L);
        }
        for (long off : offsets) {
            byte[] uts = kernel.memory().read(ns + off, UTSNAME_BYTES);
            if (field(uts, 0).equals("Linux")) {
                return uts;
            }
        }
        throw new SnapshotException("init_uts_ns holds no sysname 'Linux' at offset " + offsets
                + (name.isPresent() ? " (BTF uts_namespace.name)" : " (no BTF: guessed)"));
    }

    static int[] cpuPids(GuestKernel kernel) {
        int[] pids = new int[kernel.cpuCount()];
        List<String> unavailable = new ArrayList<>();
        for (int cpu = 0; cpu < pids.length; cpu++) {
            CpuTimers.TaskRef t = kernel.currentTask(cpu, unavailable);
            if (t == null) {
                throw new SnapshotException(String.join(", ", unavailable));
            }
            pids[cpu] = t.pid();
        }
        return pids;
    }

    /** Field {@code i} of a new_utsname (0 sysname, 1 nodename, 2 release, 3 version, 4 machine). */
    static String field(byte[] uts, int i) {
        int at = i * UTS_FIELD;
        int end = at;
        while (end < at + UTS_FIELD - 1 && uts[end] != 0) {
            end++;
        }
        return new String(uts, at, end - at, StandardCharsets.US_ASCII);
    }

    /** The kernel release: from utsname, else from VMCOREINFO's OSRELEASE line; null when neither. */
    public String release() {
        if (utsname != null) {
            return field(utsname, 2);
        }
        if (vmcoreinfo != null) {
            for (String line : new String(vmcoreinfo, StandardCharsets.US_ASCII).split("\n")) {
                if (line.startsWith("OSRELEASE=")) {
                    return line.substring("OSRELEASE=".length());
                }
            }
        }
        return null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VmcoreFacts f && Arrays.equals(vmcoreinfo, f.vmcoreinfo) && Arrays.equals(utsname, f.utsname)
                && Arrays.equals(cpuPids, f.cpuPids) && problems.equals(f.problems);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(vmcoreinfo) * 31 + Arrays.hashCode(cpuPids);
    }

    @Override
    public String toString() {
        return "VmcoreFacts[vmcoreinfo " + (vmcoreinfo == null ? "none" : vmcoreinfo.length + " bytes") + ", release "
                + release() + ", cpu pids " + Arrays.toString(cpuPids) + ", problems " + problems + "]";
    }
}
