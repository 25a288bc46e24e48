package dev.tickwatch.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.testing.StartVmAndWait;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ctrl-C (SIGTERM/SIGINT) on a JVM running a guest leaves no QEMU and no temp folder. */
class ShutdownCleanupIT {

    @Test
    void killingTheJvmEndsQemuAndRemovesItsFolder(@TempDir Path work) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                StartVmAndWait.class.getName(), work.toString()).redirectErrorStream(true).start();
        String line;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream()))) {
            line = r.readLine();
            assertTrue(line != null && line.startsWith("/"), "child said: " + line);
            String[] parts = line.split(" ");
            Path dir = Path.of(parts[0]);
            ProcessHandle qemu = ProcessHandle.of(Long.parseLong(parts[1])).orElseThrow();
            assertTrue(qemu.isAlive());
            assertTrue(Files.exists(dir.resolve("qmp.sock")));

            child.destroy(); // SIGTERM, what Ctrl-C's SIGINT also leads to: shutdown hooks run
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "child JVM did not exit");
            assertTrue(qemu.onExit().get(10, TimeUnit.SECONDS) != null);
            assertFalse(qemu.isAlive(), "QEMU survived its JVM");
            assertFalse(Files.exists(dir), "temp folder left behind: " + dir);
            assertEquals(143, child.exitValue());
        } finally {
            child.destroyForcibly();
        }
    }
}
