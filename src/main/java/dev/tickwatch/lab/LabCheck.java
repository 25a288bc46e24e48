package dev.tickwatch.lab;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.probe.Milestone;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.hmp.CpuRegisters;
import dev.tickwatch.qmp.hmp.Hmp;
import dev.tickwatch.qmp.hmp.LapicState;
import dev.tickwatch.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks from outside, with raw QMP only (HLT and IF from {@code info registers -a}, LAPIC
 * timers from {@code info lapic}, jiffies read with {@code x} at the address the guest printed),
 * that a lab guest reached the state its mode is meant to produce. Deliberately independent of
 * the verdict classifier, so the lab can be used to test it.
 */
public final class LabCheck {

    /** Time apart of the two jiffies reads that decide frozen or advancing (HZ=250: 375 ticks). */
    static final Duration WINDOW = Duration.ofMillis(1500);
    private static final Duration PERIOD = Duration.ofMillis(250);
    private static final Pattern JIFFIES = Pattern.compile(Pattern.quote(Lab.JIFFIES_MARKER) + "([0-9a-f]{16})");

    /** One look at the guest. */
    public record Sample(long nanos, List<CpuRegisters> cpus, List<LapicState> lapics, long jiffies,
            String registersText, List<String> lapicTexts) {
    }

    /**
     * @param reached      whether the intended state was seen
     * @param timeToStateS seconds from the module's insmod line on the console to the confirmed state
     * @param evidence     what was seen, in words
     */
    public record Result(LabMode mode, boolean reached, double timeToStateS, List<String> evidence, Sample last) {
    }

    private LabCheck() {
    }

    /** Samples the guest until its mode's state is confirmed or {@code timeout} passes. */
    public static Result await(QemuVm vm, LabMode mode, Duration timeout) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        if (mode == LabMode.HEALTHY) {
            boolean exited = vm.waitForExit(timeout);
            boolean done = Milestone.last(vm.console().text()) == Milestone.DONE;
            return new Result(mode, exited && done, (System.nanoTime() - start) / 1e9,
                    List.of("console reached '" + Milestone.DONE.marker() + "': " + done, "QEMU exited: " + exited), null);
        }
        if (!vm.console().await(t -> t.contains(Lab.INSMOD_MARKER), timeout)) {
            throw new TickwatchException("the lab guest never loaded its module; console tail:\n" + vm.console().tail(15));
        }
        long insmodAt = System.nanoTime();
        long jiffiesAddr = jiffiesAddress(vm.console().text());
        ArrayDeque<Sample> window = new ArrayDeque<>();
        Sample last = null;
        List<String> evidence = List.of();
        while (System.nanoTime() < deadline) {
            if (mode == LabMode.FLAKY && !vm.isAlive() && Milestone.last(vm.console().text()) == Milestone.DONE) {
                // The draw said no hang this boot: the guest went on to its end, as a flaky guest may.
                return new Result(mode, true, (System.nanoTime() - insmodAt) / 1e9,
                        List.of("no hang drawn: console reached '" + Milestone.DONE.marker() + "' and QEMU exited"), last);
            }
            if (!vm.isAlive()) {
                throw new TickwatchException("QEMU exited during the check; console tail:\n" + vm.console().tail(15));
            }
            last = sample(vm.qmp(), jiffiesAddr);
            window.addLast(last);
            Sample old = null;
            while (window.size() > 1 && last.nanos - window.peekFirst().nanos >= WINDOW.toNanos()) {
                old = window.removeFirst();
            }
            if (old != null) {
                window.addFirst(old);
                evidence = judge(mode, old, last, vm.console().text());
                if (evidence != null) {
                    return new Result(mode, true, (last.nanos - insmodAt) / 1e9, evidence, last);
                }
            }
            Thread.sleep(PERIOD.toMillis());
        }
        return new Result(mode, false, (System.nanoTime() - insmodAt) / 1e9,
                List.of("state not reached; last registers:", last == null ? "none" : summary(last)), last);
    }

    static long jiffiesAddress(String console) {
        Matcher m = JIFFIES.matcher(console);
        if (!m.find()) {
            throw new TickwatchException("the lab guest did not print jiffies_64's address");
        }
        return Long.parseUnsignedLong(m.group(1), 16);
    }

    static Sample sample(QmpClient qmp, long jiffiesAddr) {
        long t = System.nanoTime();
        Hmp hmp = new Hmp(qmp);
        String regs = hmp.registersText();
        List<CpuRegisters> cpus = CpuRegisters.parseAll(regs);
        List<String> lapicTexts = new ArrayList<>();
        List<LapicState> lapics = new ArrayList<>();
        for (CpuRegisters c : cpus) {
            String l = hmp.lapicText(c.cpu());
            lapicTexts.add(l);
            lapics.add(LapicState.parse(l));
        }
        long jiffies = hmp.quadwords(jiffiesAddr, 1)[0];
        return new Sample(t, cpus, lapics, jiffies, regs, lapicTexts);
    }

    /** The evidence that {@code mode}'s state holds between {@code old} and {@code cur}, or null. */
    static List<String> judge(LabMode mode, Sample old, Sample cur, String console) {
        long dj = cur.jiffies - old.jiffies;
        double dt = (cur.nanos - old.nanos) / 1e9;
        String jf = String.format("jiffies %s: %d -> %d over %.1f s", dj == 0 ? "frozen" : "advancing",
                old.jiffies, cur.jiffies, dt);
        List<CpuRegisters> c = cur.cpus;
        boolean allIdle = c.stream().allMatch(r -> r.halted() && r.interruptsEnabled());
        boolean allSpinIrqOff = c.stream().allMatch(r -> !r.halted() && !r.interruptsEnabled())
                && old.cpus.stream().allMatch(r -> !r.halted() && !r.interruptsEnabled());
        List<String> ev = new ArrayList<>();
        ev.add(jf);
        ev.add(summary(cur));
        switch (mode) {
            case TIMER_STALL_LOST, FLAKY -> {
                boolean noneArmed = cur.lapics.stream().noneMatch(LapicState::armed)
                        && old.lapics.stream().noneMatch(LapicState::armed);
                return dj == 0 && allIdle && noneArmed ? ev : null;
            }
            case TIMER_STALL_STORM -> {
                // Interrupts keep coming: some LAPIC timer is armed (re-armed each period) while jiffies stand.
                boolean armed = cur.lapics.stream().anyMatch(LapicState::armed) || old.lapics.stream().anyMatch(LapicState::armed);
                boolean noSpin = c.stream().noneMatch(r -> !r.halted() && !r.interruptsEnabled())
                        || c.stream().anyMatch(CpuRegisters::halted);
                return dj == 0 && armed && noSpin ? ev : null;
            }
            case SPIN_DEADLOCK -> {
                return dj == 0 && allSpinIrqOff ? ev : null;
            }
            case SPIN_ONE -> {
                long spinning = c.stream().filter(r -> !r.halted() && !r.interruptsEnabled()).count();
                boolean sameCpu = spinning == 1 && c.stream().filter(r -> !r.halted() && !r.interruptsEnabled())
                        .allMatch(r -> !old.cpus.get(r.cpu()).halted() && !old.cpus.get(r.cpu()).interruptsEnabled());
                return dj > 0 && sameCpu ? ev : null;
            }
            case SLEEP_DEADLOCK -> {
                boolean stuck = console.contains(Lab.INSMOD_MARKER) && !console.contains(Milestone.DONE.marker());
                boolean idle = c.stream().allMatch(CpuRegisters::halted);
                return dj > 0 && stuck && idle ? ev : null;
            }
            case SOFT_LOCKUP -> {
                boolean busyIrqOn = c.stream().anyMatch(r -> !r.halted() && r.interruptsEnabled() && r.cpl() == 0
                        && !old.cpus.get(r.cpu()).halted());
                return dj > 0 && busyIrqOn ? ev : null;
            }
            case PANIC -> {
                return console.contains("Kernel panic - not syncing") ? List.of("console: Kernel panic - not syncing", summary(cur)) : null;
            }
            default -> {
                return null;
            }
        }
    }

    static String summary(Sample s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.cpus.size(); i++) {
            CpuRegisters r = s.cpus.get(i);
            LapicState l = s.lapics.get(i);
            if (i > 0) {
                sb.append("; ");
            }
            sb.append("CPU").append(r.cpu()).append(" HLT=").append(r.halted() ? 1 : 0).append(" IF=")
              .append(r.interruptsEnabled() ? 1 : 0).append(" RIP=").append(Json.hex(r.rip()))
              .append(" LVTT ").append(l.timerMode()).append(l.masked() ? " masked" : "")
              .append(" count ").append(l.currentCount()).append('/').append(l.initialCount());
        }
        return sb.toString();
    }

    /** Writes the raw HMP outputs of {@code s} to {@code dir} (for protocols/hmp/). */
    public static void record(Sample s, Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("info-registers-a.txt"), s.registersText().replace("\r\n", "\n"));
        for (int i = 0; i < s.lapicTexts().size(); i++) {
            Files.writeString(dir.resolve("info-lapic-" + i + ".txt"), s.lapicTexts().get(i).replace("\r\n", "\n"));
        }
    }
}
