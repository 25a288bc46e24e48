package dev.tickwatch.snapshot;

import dev.tickwatch.probe.Console;
import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.verdict.Decision;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What {@link Snapshot#capture} needs: the VM's clients, what the watch saw, facts about the
 * environment only the caller knows, and where to write. Build with {@link #builder(QmpClient, Path)}.
 *
 * @param qmp          the VM's QMP client (required); it stays open
 * @param gdb          the VM's gdbstub, or null: registers then come from HMP and are not from one pause
 * @param console      the guest's serial console, or null
 * @param kernel       an attached guest kernel view to reuse (e.g. the watch's probe's), or null to attach
 * @param history      samples leading up to the moment, oldest first (a {@code Watch}'s history); may be empty
 * @param decision     the verdict those samples gave, or null
 * @param environment  the QEMU command line, accelerator and lab mode when the caller knows them
 * @param vmcore       also dump guest memory
 * @param vmcoreFormat {@code kdump-zlib} (default) or {@code elf}
 * @param outputParent the folder the bundle folder is created in
 * @param name         the bundle folder's name, or null for {@code snapshot-<time>-<verdict>}
 * @param dumpTimeout  how long to wait for {@code dump-guest-memory}
 * @param sink         how bundle files are written (tests inject failures here)
 */
public record SnapshotRequest(QmpClient qmp, Endpoint gdb, Console console, GuestKernel kernel, List<Sample> history,
        Decision decision, Environment environment, boolean vmcore, String vmcoreFormat, Path outputParent,
        String name, Duration dumpTimeout, Bundle.FileSink sink) {

    public static final String DEFAULT_VMCORE_FORMAT = "kdump-zlib";
    public static final Duration DEFAULT_DUMP_TIMEOUT = Duration.ofMinutes(5);

    public SnapshotRequest {
        Objects.requireNonNull(qmp, "qmp");
        Objects.requireNonNull(outputParent, "outputParent");
        history = history == null ? List.of() : List.copyOf(history);
        environment = environment == null ? Environment.UNKNOWN : environment;
        vmcoreFormat = vmcoreFormat == null ? DEFAULT_VMCORE_FORMAT : vmcoreFormat;
        if (!vmcoreFormat.equals("kdump-zlib") && !vmcoreFormat.equals("elf")) {
            throw new IllegalArgumentException("vmcore format: '" + vmcoreFormat + "' (expected: kdump-zlib or elf)");
        }
        dumpTimeout = dumpTimeout == null ? DEFAULT_DUMP_TIMEOUT : dumpTimeout;
        sink = sink == null ? Bundle.DEFAULT_SINK : sink;
    }

    /**
     * Facts about how the VM was started that QMP does not tell.
     *
     * @param qemuCommand the exact QEMU command line, or null (then read from /proc when QEMU is local)
     * @param accel       the accelerator (tcg, kvm), or null (then asked through {@code query-kvm})
     * @param labMode     the hang-lab mode of a lab guest ({@code spin-deadlock}), or null
     */
    public record Environment(List<String> qemuCommand, String accel, String labMode) {
        public static final Environment UNKNOWN = new Environment(null, null, null);

        public Environment {
            qemuCommand = qemuCommand == null ? null : List.copyOf(qemuCommand);
        }
    }

    public static Builder builder(QmpClient qmp, Path outputParent) {
        return new Builder(qmp, outputParent);
    }

    public static final class Builder {
        private final QmpClient qmp;
        private final Path outputParent;
        private Endpoint gdb;
        private Console console;
        private GuestKernel kernel;
        private List<Sample> history = List.of();
        private Decision decision;
        private Environment environment = Environment.UNKNOWN;
        private boolean vmcore;
        private String vmcoreFormat = DEFAULT_VMCORE_FORMAT;
        private String name;
        private Duration dumpTimeout = DEFAULT_DUMP_TIMEOUT;
        private Bundle.FileSink sink = Bundle.DEFAULT_SINK;

        private Builder(QmpClient qmp, Path outputParent) {
            this.qmp = qmp;
            this.outputParent = outputParent;
        }

        public Builder gdb(Endpoint e) {
            this.gdb = e;
            return this;
        }

        public Builder console(Console c) {
            this.console = c;
            return this;
        }

        public Builder kernel(GuestKernel k) {
            this.kernel = k;
            return this;
        }

        /** The samples and decision a watch holds: {@code watch.history()}, {@code watch.current()}. */
        public Builder watched(List<Sample> samples, Decision d) {
            this.history = samples;
            this.decision = d;
            return this;
        }

        public Builder environment(Environment e) {
            this.environment = e;
            return this;
        }

        public Builder vmcore(boolean v) {
            this.vmcore = v;
            return this;
        }

        public Builder vmcoreFormat(String f) {
            this.vmcoreFormat = f;
            return this;
        }

        public Builder name(String n) {
            this.name = n;
            return this;
        }

        public Builder dumpTimeout(Duration d) {
            this.dumpTimeout = d;
            return this;
        }

        public Builder sink(Bundle.FileSink s) {
            this.sink = s;
            return this;
        }

        public SnapshotRequest build() {
            return new SnapshotRequest(qmp, gdb, console, kernel, history, decision, environment, vmcore, vmcoreFormat,
                    outputParent, name, dumpTimeout, sink);
        }
    }
}
