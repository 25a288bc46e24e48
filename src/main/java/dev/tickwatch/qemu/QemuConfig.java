package dev.tickwatch.qemu;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What to boot and how. Immutable; build with {@link #builder()}.
 *
 * @param binary    the QEMU binary
 * @param kernel    the kernel image ({@code -kernel})
 * @param initrd    the initramfs, or null
 * @param append    the kernel command line
 * @param smp       vCPUs
 * @param memoryMiB guest memory in MiB
 * @param accel     accelerator; {@link Accel#AUTO} is resolved by the launcher
 * @param cpu       {@code -cpu} model, or null for QEMU's default
 * @param gdbstub   whether to open a gdbstub socket (it does not pause the guest until a client connects)
 * @param userMonitor whether to open a second QMP socket, {@code qmp-user.sock}, for other tools
 *                  (QEMU serves one client per monitor; the launcher keeps the first)
 * @param extraArgs passed through to QEMU as they are, last
 * @param vmcoreinfo whether to add {@code -device vmcoreinfo} (the launcher drops it when the QEMU
 *                  binary has no such device): a guest whose fw_cfg driver is loaded then hands QEMU
 *                  its VMCOREINFO for dump-guest-memory; harmless without the driver
 */
public record QemuConfig(String binary, Path kernel, Path initrd, String append, int smp, int memoryMiB,
        Accel accel, String cpu, boolean gdbstub, boolean userMonitor, List<String> extraArgs, boolean vmcoreinfo) {

    public static final String DEFAULT_BINARY = "qemu-system-x86_64";
    public static final int DEFAULT_SMP = 2;
    public static final int DEFAULT_MEMORY_MIB = 256;
    /** Serial console, no reboot loops, and no waiting for a keypress on panic. */
    public static final String DEFAULT_APPEND = "console=ttyS0 panic=-1";

    public QemuConfig {
        Objects.requireNonNull(binary, "binary");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(append, "append");
        Objects.requireNonNull(accel, "accel");
        if (smp < 1 || smp > 255) {
            throw new IllegalArgumentException("smp: " + smp + " (expected: 1-255)");
        }
        if (memoryMiB < 32) {
            throw new IllegalArgumentException("memory: " + memoryMiB + " MiB (expected: >= 32)");
        }
        extraArgs = List.copyOf(extraArgs);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.binary = binary;
        b.kernel = kernel;
        b.initrd = initrd;
        b.append = append;
        b.smp = smp;
        b.memoryMiB = memoryMiB;
        b.accel = accel;
        b.cpu = cpu;
        b.gdbstub = gdbstub;
        b.userMonitor = userMonitor;
        b.extraArgs = new ArrayList<>(extraArgs);
        b.vmcoreinfo = vmcoreinfo;
        return b;
    }

    public static final class Builder {
        private String binary = DEFAULT_BINARY;
        private Path kernel;
        private Path initrd;
        private String append = DEFAULT_APPEND;
        private int smp = DEFAULT_SMP;
        private int memoryMiB = DEFAULT_MEMORY_MIB;
        private Accel accel = Accel.TCG;
        private String cpu;
        private boolean gdbstub = true;
        private boolean userMonitor;
        private List<String> extraArgs = new ArrayList<>();
        private boolean vmcoreinfo = true;

        private Builder() {
        }

        public Builder binary(String b) {
            this.binary = b;
            return this;
        }

        public Builder kernel(Path k) {
            this.kernel = k;
            return this;
        }

        public Builder initrd(Path i) {
            this.initrd = i;
            return this;
        }

        public Builder append(String a) {
            this.append = a;
            return this;
        }

        public Builder smp(int n) {
            this.smp = n;
            return this;
        }

        public Builder memoryMiB(int m) {
            this.memoryMiB = m;
            return this;
        }

        public Builder accel(Accel a) {
            this.accel = a;
            return this;
        }

        public Builder cpu(String c) {
            this.cpu = c;
            return this;
        }

        public Builder gdbstub(boolean g) {
            this.gdbstub = g;
            return this;
        }

        public Builder userMonitor(boolean u) {
            this.userMonitor = u;
            return this;
        }

        public Builder extraArg(String a) {
            this.extraArgs.add(a);
            return this;
        }

        public Builder extraArgs(List<String> a) {
            this.extraArgs = new ArrayList<>(a);
            return this;
        }

        public Builder vmcoreinfo(boolean v) {
            this.vmcoreinfo = v;
            return this;
        }

        public QemuConfig build() {
            return new QemuConfig(binary, kernel, initrd, append, smp, memoryMiB, accel, cpu, gdbstub, userMonitor, extraArgs,
                    vmcoreinfo);
        }
    }
}
