package dev.tickwatch.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.probe.Milestone;
import dev.tickwatch.qemu.QemuConfig;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.testing.Guests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every lab mode, once, on a real kernel: the guest reaches the intended state, checked from
 * outside with raw QMP (registers, LAPIC, jiffies at the address the guest printed), KASLR on.
 */
class LabIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path work;

    private LabCheck.Result run(LabMode mode, int smp) throws Exception {
        QemuConfig config = Lab.config(mode, work, true, List.of()).smp(smp).build();
        Path dir;
        LabCheck.Result r;
        try (QemuVm vm = QemuVm.start(config)) {
            dir = vm.dir();
            r = LabCheck.await(vm, mode, TIMEOUT);
            if (!mode.mayPass() && mode != LabMode.SLEEP_DEADLOCK) {
                assertFalse(vm.console().text().contains(Milestone.DONE.marker()), "a hung guest finished its boot");
            }
        }
        assertFalse(Files.exists(dir), "temp folder left behind");
        assertEquals(List.of(), Guests.qemuProcessesUsing(dir));
        return r;
    }

    @ParameterizedTest
    @EnumSource(LabMode.class)
    void eachModeReachesItsState(LabMode mode) throws Exception {
        LabCheck.Result r = run(mode, 2);
        assertTrue(r.reached(), mode + ": " + r.evidence());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4})
    void timerStallLostWithOneAndFourCpus(int smp) throws Exception {
        LabCheck.Result r = run(LabMode.TIMER_STALL_LOST, smp);
        assertTrue(r.reached(), r.evidence().toString());
        assertEquals(smp, r.last().cpus().size());
        assertTrue(r.last().cpus().stream().allMatch(c -> c.halted() && c.interruptsEnabled()));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4})
    void applianceBootsAndPowersOffWithOneAndFourCpus(int smp) throws Exception {
        assertTrue(run(LabMode.HEALTHY, smp).reached());
    }

    @Test
    void jiffiesAddressComesFromTheGuestsKallsyms() {
        assertEquals(0xffffffffa2a05000L, LabCheck.jiffiesAddress("x\n" + Lab.JIFFIES_MARKER + "ffffffffa2a05000\n"));
    }
}
