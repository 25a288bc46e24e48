package dev.tickwatch.snapshot;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.databind.DatabindException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.guest.GuestJson;
import dev.tickwatch.guest.locks.LockJson;
import dev.tickwatch.guest.log.LogJson;
import dev.tickwatch.guest.unwind.TraceJson;
import dev.tickwatch.probe.Sample;
import dev.tickwatch.util.Hex;
import dev.tickwatch.util.Json;
import dev.tickwatch.verdict.Verdict;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * snapshot.json, schema {@code tickwatch-snapshot/1} (protocols/snapshot/), as records: the
 * capture builds them, the reports read them, databind writes and reads them in the schema's
 * key order. Addresses and register values are hex strings ({@link Hex}); times carry their
 * unit in the key. A null component is a JSON null where the schema has the key always, and an
 * absent key where the schema leaves it out (the {@code NON_NULL} ones).
 *
 * @param samples the watch's samples up to the snapshot, oldest first, as {@code watch --record} writes them
 * @param timers  null when guest memory could not be read
 * @param tasks   null when the task list could not be read
 * @param locks   the wait-for graph of blocked tasks ({@code guest locks --json}); absent when it was
 *                not read (no task list, or a file from before it)
 * @param traces  call traces unwound with the kernel's ORC tables: each CPU's, then each blocked
 *                (D state) task's; null when nothing could be unwound (older snapshots have none)
 * @param console null without a console
 * @param vmcore  null when none was asked for
 * @param kernelLog the kernel log's newest records and its detectors' reports; null (absent) when
 *                  it could not be read
 * @param notes   every source that was missing or degraded, in words
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonPropertyOrder({"schema", "taken_at", "tickwatch_version", "status_before", "verdict", "samples", "environment",
    "cpus", "registers_source", "timers", "tasks", "traces", "locks", "console", "kernel_log", "vmcore", "status_after",
    "notes", "timings_ms"})
public record SnapshotDoc(String schema, String takenAt, String tickwatchVersion, String statusBefore,
        Judgement verdict, @JsonSetter(nulls = Nulls.AS_EMPTY) List<Sample> samples, Environment environment,
        @JsonSetter(nulls = Nulls.AS_EMPTY) List<Cpu> cpus, String registersSource, GuestJson.Timers timers,
        List<GuestJson.Task> tasks, @JsonInclude(JsonInclude.Include.NON_NULL) List<TraceJson> traces,
        @JsonInclude(JsonInclude.Include.NON_NULL) LockJson.Graph locks, Console console,
        Vmcore vmcore, String statusAfter, @JsonSetter(nulls = Nulls.AS_EMPTY) List<String> notes, CaptureTimes timingsMs,
        @JsonInclude(JsonInclude.Include.NON_NULL) LogJson.Tail kernelLog) {

    /** A document without traces, lock graph and kernel log (older files, or a kernel where none was readable). */
    public SnapshotDoc(String schema, String takenAt, String tickwatchVersion, String statusBefore, Judgement verdict,
            List<Sample> samples, Environment environment, List<Cpu> cpus, String registersSource,
            GuestJson.Timers timers, List<GuestJson.Task> tasks, Console console, Vmcore vmcore, String statusAfter,
            List<String> notes, CaptureTimes timingsMs) {
        this(schema, takenAt, tickwatchVersion, statusBefore, verdict, samples, environment, cpus, registersSource, timers,
                tasks, null, null, console, vmcore, statusAfter, notes, timingsMs, null);
    }


    /**
     * The verdict the snapshot was taken under and its evidence. Without one, only
     * {@code verdict} (null) and an empty {@code evidence} are meaningful.
     *
     * @param onsetTime wall time of the onset, from the samples (the host clock of onsetNs means nothing in a file)
     * @param onsetHow  how the onset was estimated (the guest's frozen clock, the samples, a lower bound); null in older files
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Judgement(Verdict verdict, String flavour, @JsonInclude(JsonInclude.Include.NON_NULL) Double confidence,
            @JsonSetter(nulls = Nulls.AS_EMPTY) List<String> evidence,
            @JsonInclude(JsonInclude.Include.NON_NULL) Long onsetNs,
            @JsonInclude(JsonInclude.Include.NON_NULL) Long decidedNs, String onsetTime, String decidedTime,
            @JsonInclude(JsonInclude.Include.NON_NULL) String onsetHow) {

        public Judgement(Verdict verdict, String flavour, Double confidence, List<String> evidence, Long onsetNs,
                Long decidedNs, String onsetTime, String decidedTime) {
            this(verdict, flavour, confidence, evidence, onsetNs, decidedNs, onsetTime, decidedTime, null);
        }

        static final Judgement NONE = new Judgement(null, null, null, List.of(), null, null, null, null);
    }

    /**
     * Where the guest ran. {@code qemuCommand} is the exact argv, empty when unknown.
     *
     * @param bootFiles what became of the kernel and initrd the command line names ({@link BootFiles});
     *                  absent in files from before they were kept
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Environment(String qemuVersion, @JsonSetter(nulls = Nulls.AS_EMPTY) List<String> qemuCommand,
            String qemuCommandSource, String accel, String labMode, String hostKernel, String hostCpu, int hostCpus,
            String guestKernel, String memoryBackend,
            @JsonSetter(nulls = Nulls.AS_EMPTY) List<String> memoryBackendsPassedOver,
            @JsonInclude(JsonInclude.Include.NON_NULL) List<BootFile> bootFiles) {

        public Environment(String qemuVersion, List<String> qemuCommand, String qemuCommandSource, String accel,
                String labMode, String hostKernel, String hostCpu, int hostCpus, String guestKernel,
                String memoryBackend, List<String> memoryBackendsPassedOver) {
            this(qemuVersion, qemuCommand, qemuCommandSource, accel, labMode, hostKernel, hostCpu, hostCpus, guestKernel,
                    memoryBackend, memoryBackendsPassedOver, null);
        }
    }

    /**
     * A file QEMU booted ({@code -kernel}, {@code -initrd}) and whether it outlives the run.
     *
     * @param option the QEMU option that names it
     * @param path   as the command line gave it
     * @param bytes  its size at the snapshot; null when it was not there
     * @param kept   {@code bundle} (copied: {@code file} is its name in the snapshot folder),
     *               {@code cache} (in tickwatch's kernel cache, which persists), {@code original}
     *               (too big to copy, left where it was), {@code temporary} (too big to copy and in a
     *               temporary folder: it will be gone) or {@code missing} (gone already)
     * @param note   why it was not copied, in words; absent when it was
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record BootFile(String option, String path, Long bytes, String kept, String file, String note) {
    }

    /**
     * One vCPU at the snapshot's instant.
     *
     * @param source     gdbstub or hmp
     * @param registers  gdbstub register names (rax..r15, rip, eflags, segments, fs_base, gs_base, k_gs_base,
     *                   cr0..cr8, efer) to values; only rip, rsp, eflags, cr3, cr4, gs_base from HMP
     * @param hmp        HMP's view of the same CPU, read in the same pause; null without one
     * @param ripSymbol  {@code sym+0xoff/0xsize [module]}, null outside the kernel
     * @param lapic      null when {@code info lapic} gave nothing
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Cpu(int cpu, String source,
            @JsonSerialize(contentUsing = Hex.Writer.class) @JsonDeserialize(contentUsing = Hex.Reader.class)
            Map<String, Long> registers,
            HmpView hmp, @JsonProperty("if") boolean interruptsEnabled, @JsonProperty("hlt") boolean halted, int cpl,
            String ripSymbol, Lapic lapic, Stack stack) {
    }

    /** HMP {@code info registers -a} for one CPU. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record HmpView(@Hex long rip, @Hex long rsp, @Hex long rflags, @JsonProperty("hlt") boolean halted, int cpl,
            boolean longMode) {
    }

    /** The LAPIC timer: mode from LVTT, counts from TMICT/TMCCT, and whether a count-down runs. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Lapic(@Hex long lvtt, String mode, boolean masked, int vector, int divide, long initialCount,
            long currentCount, boolean armed) {
    }

    /**
     * The scan of a kernel stack from RSP ({@link StackScan}); every entry is unreliable.
     *
     * @param note why the scan stopped early or did not run; absent when it read all it wanted
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"rsp", "entries", "bytes", "note"})
    public record Stack(@Hex long rsp, int bytes, @JsonSetter(nulls = Nulls.AS_EMPTY) List<StackEntry> entries,
            @JsonInclude(JsonInclude.Include.NON_NULL) String note) {
    }

    /** A stack slot ({@code at}) holding a kernel text address. {@code reliable} is always false. */
    public record StackEntry(@Hex long at, @Hex long address, String symbol, boolean reliable) {
    }

    /** The console: its size, the file the whole of it is in, and its last lines. */
    public record Console(long bytes, String file, @JsonSetter(nulls = Nulls.AS_EMPTY) List<String> tail) {
    }

    /**
     * The memory dump. On failure {@code error} says why and {@code file} is null.
     *
     * @param rearrangedFromFlattened kdump only: QEMU wrote the flattened format and it was rearranged
     * @param annotation what tickwatch added for crash and drgn ({@link VmcoreAnnotator}); absent
     *                   when it did not try (no guest kernel view, or a file from before it)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"format", "file", "error", "dump_ms", "rearranged_from_flattened", "rearrange_ms",
        "kdump_header", "bytes", "annotation"})
    public record Vmcore(String format, @JsonInclude(JsonInclude.Include.ALWAYS) String file, String error,
            double dumpMs, Boolean rearrangedFromFlattened, Double rearrangeMs, Kdump kdumpHeader, Long bytes,
            VmcoreAnnotation annotation) {

        public Vmcore(String format, String file, String error, double dumpMs, Boolean rearrangedFromFlattened,
                Double rearrangeMs, Kdump kdumpHeader, Long bytes) {
            this(format, file, error, dumpMs, rearrangedFromFlattened, rearrangeMs, kdumpHeader, bytes, null);
        }
    }

    /**
     * The notes and header fields tickwatch wrote into QEMU's dump from guest memory.
     *
     * @param vmcoreinfo      "tickwatch" (written from the kernel's vmcoreinfo_data), "qemu" (QEMU had
     *                        the guest's through -device vmcoreinfo), or null: the dump has none
     * @param cpuPids         pr_pid of each CPU's NT_PRSTATUS note: the pid it ran (0: idle)
     * @param shiftedBytes    how far the data after the notes moved to make room
     * @param error           why the dump stayed as QEMU wrote it; then the other fields are absent
     * @param problems        what could not be added, in words
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record VmcoreAnnotation(String vmcoreinfo, Integer vmcoreinfoBytes, String release, List<Integer> cpuPids,
            Long shiftedBytes, double annotateMs, String error,
            @JsonSetter(nulls = Nulls.AS_EMPTY) List<String> problems) {
    }

    /** The {@link KdumpHeader} fields a reader checks a kdump vmcore by. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Kdump(String signature, int headerVersion, String sysname, String release, String machine,
            int status, int blockSize, int subHeaderBlocks, int bitmapBlocks, long maxMapnr, int nrCpus,
            boolean notesValid) {

        static Kdump of(KdumpHeader h) {
            return new Kdump(h.signature(), h.headerVersion(), h.sysname(), h.release(), h.machine(), h.status(),
                    h.blockSize(), h.subHeaderSize(), h.bitmapBlocks(), h.maxMapnr(), h.nrCpus(), h.notesLookValid());
        }
    }

    /**
     * Where the capture's time went, in ms.
     *
     * @param steps gdb_registers, cpus, timers, tasks, locks, in the order they ran
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record CaptureTimes(double attach, double pause, double capture, double vmcore, Map<String, Double> steps) {
    }

    /** The document as a JSON tree, in the schema's key order. */
    public ObjectNode toJson() {
        return Json.tree(this);
    }

    /**
     * Reads a snapshot.json tree. Keys it does not know are ignored.
     *
     * @throws SnapshotException when the tree does not have the snapshot's shape
     */
    public static SnapshotDoc of(JsonNode json) {
        try {
            return Json.read(json, SnapshotDoc.class);
        } catch (IOException | RuntimeException e) {
            String why = e instanceof DatabindException d ? d.getOriginalMessage() : e.getMessage();
            throw new SnapshotException("not a " + Snapshot.SCHEMA + " snapshot: " + why, e);
        }
    }
}
