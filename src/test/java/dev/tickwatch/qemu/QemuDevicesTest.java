package dev.tickwatch.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@code -device help} parsing and the {@code -device vmcoreinfo} the launcher adds. */
class QemuDevicesTest {

    /** Lines as QEMU 7.2's {@code qemu-system-x86_64 -device help} prints them. */
    static final String HELP = """
            Controller/Bridge/Hub devices:
            name "pci-bridge", bus PCI, desc "Standard PCI Bridge"
            name "usb-hub", bus usb-bus

            Misc devices:
            name "pvpanic", bus ISA, desc "QEMU PVPanic device"
            name "vmcoreinfo"
            name "vmgenid"
            name "virtio-balloon-pci", bus PCI, alias "virtio-balloon"
            """;

    @Test
    void deviceNamesAreReadFromEveryNameLine() {
        Set<String> names = QemuDevices.parse(HELP);
        assertEquals(List.of("pci-bridge", "usb-hub", "pvpanic", "vmcoreinfo", "vmgenid", "virtio-balloon-pci"),
                List.copyOf(names));
        assertFalse(QemuDevices.parse("Misc devices:\nname \"vmgenid\"\n").contains(QemuDevices.VMCOREINFO));
    }

    @Test
    void aBinaryThatCannotBeAskedHasNoDevices() {
        assertFalse(QemuDevices.has("/nonexistent/qemu-system-x86_64", QemuDevices.VMCOREINFO));
    }

    @Test
    void theCommandLineCarriesVmcoreinfoOnceAndNotWhenOff() {
        QemuConfig on = QemuConfig.builder().kernel(Path.of("/k")).build();
        assertTrue(on.vmcoreinfo(), "on by default");
        List<String> c = QemuVm.commandLine(on, Accel.TCG, Path.of("/tmp/x"));
        assertEquals(1, Collections.frequency(c, "vmcoreinfo"));
        assertEquals("-device", c.get(c.indexOf("vmcoreinfo") - 1));

        List<String> off = QemuVm.commandLine(on.toBuilder().vmcoreinfo(false).build(), Accel.TCG, Path.of("/tmp/x"));
        assertFalse(off.contains("vmcoreinfo"));

        QemuConfig own = on.toBuilder().extraArgs(List.of("-device", "vmcoreinfo")).build();
        assertEquals(1, Collections.frequency(QemuVm.commandLine(own, Accel.TCG, Path.of("/tmp/x")), "vmcoreinfo"),
                "QEMU refuses a second one: the caller's stands alone");
    }
}
