package dev.tickwatch.watch;

import dev.tickwatch.probe.Console;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import dev.tickwatch.qmp.hmp.Hmp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The optional active probe: knock on the guest and see whether anyone answers. An NMI (QMP
 * {@code inject-nmi}, every vCPU) reaches even a CPU spinning with interrupts off; Linux answers an
 * NMI it did not expect with "Uhhuh. NMI received for unknown reason" on the console. A key press
 * (QMP {@code send-key}) is an ordinary interrupt: it can only wake a CPU that takes interrupts.
 * Either way the vCPUs' registers before and after, and the console, are the evidence. This does
 * touch the guest (it is off by default), but never pauses it.
 */
public final class Poke {

    /** What to knock with. */
    public enum Kind {
        NMI, KEY;

        public static Kind parse(String s) {
            return valueOf(s.toUpperCase(Locale.ROOT));
        }
    }

    /** Whether the guest showed any reaction, and what was seen. */
    public record Result(Kind kind, boolean responded, List<String> evidence) {
    }

    private Poke() {
    }

    /**
     * Pokes once and watches for {@code observe}. {@code console} may be null (then only
     * registers tell).
     */
    public static Result poke(QmpClient qmp, Console console, Kind kind, Duration observe) throws InterruptedException {
        Hmp hmp = new Hmp(qmp);
        List<CpuRegisters> before = hmp.registers();
        int mark = console == null ? 0 : console.text().length();
        if (kind == Kind.NMI) {
            qmp.injectNmi();
        } else {
            qmp.sendKey("shift");
        }
        boolean printed = console != null && console.await(t -> t.length() > mark, observe);
        if (console == null) {
            // Nothing to wait on but time: the registers are read after the observation period.
            Thread.sleep(observe.toMillis());
        }
        List<CpuRegisters> after = hmp.registers();
        List<String> ev = new ArrayList<>();
        String what = kind == Kind.NMI ? "an NMI to every vCPU (QMP inject-nmi)" : "a key press (QMP send-key shift)";
        if (printed) {
            String fresh = console.text().substring(mark).strip();
            String line = fresh.lines().findFirst().orElse("");
            ev.add("after " + what + " the console printed: \"" + (line.length() > 120 ? line.substring(0, 120) + "..." : line) + "\"");
        } else if (console != null) {
            ev.add(String.format(Locale.ROOT, "after %s the console stayed silent for %.1f s", what, observe.toMillis() / 1e3));
        }
        int moved = 0;
        for (int i = 0; i < Math.min(before.size(), after.size()); i++) {
            CpuRegisters a = before.get(i);
            CpuRegisters b = after.get(i);
            if (a.rip() != b.rip() || a.halted() != b.halted()) {
                moved++;
            }
        }
        ev.add(moved + " of " + after.size() + " vCPUs changed RIP or HLT state");
        return new Result(kind, printed, ev);
    }
}
