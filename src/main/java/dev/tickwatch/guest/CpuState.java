package dev.tickwatch.guest;

import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import dev.tickwatch.qmp.hmp.Hmp;
import dev.tickwatch.qmp.hmp.LapicState;
import java.util.ArrayList;
import java.util.List;

/**
 * One vCPU as the verdicts look at it: where it is (RIP and its symbol), whether it sleeps in HLT,
 * whether it takes interrupts (RFLAGS.IF), its privilege level and its LAPIC timer. Read through
 * HMP {@code info registers -a} and {@code info lapic N}, which do not pause the guest.
 *
 * @param lapic null when {@code info lapic} could not be read (no APIC yet, early boot)
 */
public record CpuState(CpuRegisters registers, String ripSymbol, LapicState lapic) {

    public int cpu() {
        return registers.cpu();
    }

    /** Reads every vCPU; {@code kernel} (may be null) names the RIPs. */
    public static List<CpuState> read(QmpClient qmp, GuestKernel kernel) {
        List<CpuState> out = new ArrayList<>();
        Hmp hmp = new Hmp(qmp);
        for (CpuRegisters r : hmp.registers()) {
            LapicState lapic = null;
            try {
                lapic = hmp.lapic(r.cpu());
            } catch (dev.tickwatch.ProtocolException e) {
                // Before the APIC is set up there is nothing to parse; null says so.
            }
            String symbol = kernel == null || r.cpl() != 0 ? null : kernel.symbolize(r.rip());
            out.add(new CpuState(r, symbol, lapic));
        }
        return out;
    }
}
