package dev.tickwatch.testing;

import dev.tickwatch.qemu.QemuVm;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@code ShutdownCleanupIT}: starts a guest, prints its folder and PID,
 * then blocks until killed, so the test can check what a SIGTERM leaves behind.
 */
public final class StartVmAndWait {
    public static void main(String[] args) throws Exception {
        QemuVm vm = QemuVm.start(Guests.appliance(Path.of(args[0]), "sleep 600").smp(1).build());
        System.out.println(vm.dir() + " " + vm.pid());
        System.out.flush();
        Thread.currentThread().join();
    }
}
