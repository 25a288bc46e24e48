package dev.tickwatch.qmp.hmp;

import dev.tickwatch.qmp.QmpClient;
import java.util.List;

/**
 * The HMP commands tickwatch sends, typed: each call spells its command line, sends it through
 * QMP {@code human-monitor-command} and parses the text with the parser beside it. No call pauses
 * the guest, and each is one monitor round trip (they take QEMU's big lock, so the probe's 4
 * samples a second count them). The command-line text is the replay key of recorded sessions
 * ({@code protocols/qmp}, {@code protocols/hmp}), so it must not change shape: {@code info lapic N}
 * names its CPU in the text, {@code x} and {@code xp} name theirs with {@code cpu-index}.
 * Thread-safe as {@link QmpClient} is.
 */
public final class Hmp {

    /** Every vCPU's registers, each after a {@code CPU#N} line. */
    public static final String INFO_REGISTERS = "info registers -a";
    /** The LAPIC of the command's CPU (the {@code cpu-index}, else CPU 0), or of CPU N with a number after it. */
    public static final String INFO_LAPIC = "info lapic";
    /** Where QEMU's process maps a guest physical address. */
    public static final String GPA2HVA = "gpa2hva";

    /** One HMP command line as sent, with the vCPU it runs on (-1: QEMU's default, CPU 0). */
    public record Line(String commandLine, int cpuIndex) {
    }

    /**
     * What {@code tickwatch record-qmp} asks, in order: the replies in
     * {@code protocols/qmp/session-7.2.txt} answer exactly these lines (the tests look them up by
     * them), among them an {@code x} of guest address 0, which is not mapped.
     */
    public static final List<Line> RECORDED_SESSION = List.of(
            new Line(INFO_REGISTERS, -1),
            new Line(INFO_LAPIC, 0),
            new Line(examineCommand(0xffffffff81000000L, 4), -1),
            new Line("x /2gx 0", -1));

    private final QmpClient qmp;

    public Hmp(QmpClient qmp) {
        this.qmp = qmp;
    }

    /** Every vCPU's registers, in CPU order. */
    public List<CpuRegisters> registers() {
        return CpuRegisters.parseAll(registersText());
    }

    /** The raw {@code info registers -a} text, for recorders that keep it. */
    public String registersText() {
        return qmp.hmp(INFO_REGISTERS);
    }

    /**
     * CPU {@code cpu}'s LAPIC timer.
     *
     * @throws dev.tickwatch.ProtocolException when there is no APIC state to parse yet (firmware)
     */
    public LapicState lapic(int cpu) {
        return LapicState.parse(lapicText(cpu));
    }

    /** {@code info lapic N} sent now, its text later: see {@link QmpClient#hmpAsync}. */
    public java.util.concurrent.CompletableFuture<String> lapicTextAsync(int cpu) {
        return qmp.hmpAsync(lapicCommand(cpu), -1);
    }

    /** {@code info registers -a} sent now, its text later. */
    public java.util.concurrent.CompletableFuture<String> registersTextAsync() {
        return qmp.hmpAsync(INFO_REGISTERS, -1);
    }

    /** The raw {@code info lapic N} text, for recorders that keep it. */
    public String lapicText(int cpu) {
        return qmp.hmp(lapicCommand(cpu));
    }

    /**
     * Where QEMU's process maps guest physical {@code gpa}.
     *
     * @throws HmpRefusedException when there is no RAM at {@code gpa}
     */
    public long gpa2hva(long gpa) {
        return HmpMemory.hostAddress(gpa, qmp.hmp(GPA2HVA + " 0x" + Long.toHexString(gpa)));
    }

    /** {@code n} quadwords of guest virtual memory at {@code address}, through CPU 0's page tables. */
    public long[] quadwords(long address, int n) {
        return quadwords(address, n, -1);
    }

    /**
     * {@code n} quadwords of guest virtual memory at {@code address}, through vCPU {@code cpu}'s
     * page tables (-1: QEMU's default).
     *
     * @throws HmpRefusedException when QEMU cannot access the memory
     */
    public long[] quadwords(long address, int n, int cpu) {
        return HmpMemory.quadwords(qmp.hmp(examineCommand(address, n), cpu));
    }

    /** Like {@link #quadwords(long, int, int)} for guest physical memory ({@code xp}). */
    public long[] physicalQuadwords(long address, int n, int cpu) {
        return HmpMemory.quadwords(qmp.hmp("xp /" + n + "gx 0x" + Long.toHexString(address), cpu));
    }

    /** The command line {@code info lapic N}: the key recorded lab outputs answer by. */
    public static String lapicCommand(int cpu) {
        return INFO_LAPIC + " " + cpu;
    }

    static String examineCommand(long address, int n) {
        return "x /" + n + "gx 0x" + Long.toHexString(address);
    }
}
