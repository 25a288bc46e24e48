package dev.tickwatch.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.QemuException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU's own words when it exits at start, without a QEMU: the launcher's process-start path runs
 * a shell script in QEMU's place ({@link QemuConfig#binary()}) that says what QEMU says about a
 * kernel it rejects and exits. The script writes down the private folder it was given, so the test
 * can see that the folder is gone afterwards. The real QEMU's message is checked by
 * {@code QemuStartFailureIT}.
 */
class QemuStartFailureTest {

    @TempDir
    Path dir;

    /**
     * A fake QEMU: finds its private folder from {@code -qmp unix:DIR/qmp.sock,...}, notes it in
     * {@code where}, runs {@code body} there, and exits with {@code status}.
     */
    private QemuConfig fake(String body, int status) throws IOException {
        Path where = dir.resolve("where");
        Path script = dir.resolve("fake-qemu");
        Files.writeString(script, "#!/bin/sh\n"
                + "while [ $# -gt 0 ]; do\n"
                + "  if [ \"$1\" = -qmp ]; then sock=${2#unix:}; sock=${sock%%,*}; break; fi\n"
                + "  shift\n"
                + "done\n"
                + "echo \"$(dirname \"$sock\")\" > '" + where + "'\n"
                + body + "\n"
                + "exit " + status + "\n");
        assertTrue(script.toFile().setExecutable(true));
        return QemuConfig.builder().binary(script.toString()).kernel(dir.resolve("bzImage")).accel(Accel.TCG).build();
    }

    private Path folderItWasGiven() throws IOException {
        return Path.of(Files.readString(dir.resolve("where")).strip());
    }

    @Test
    void qemuExitingBeforeItsSocketCarriesItsStatusAndWords() throws IOException {
        QemuConfig c = fake("echo 'qemu: invalid kernel header' >&2", 1);
        QemuStartException e = assertThrows(QemuStartException.class, () -> QemuVm.start(c));
        assertEquals(1, e.exitStatus());
        assertEquals(List.of("qemu: invalid kernel header"), e.qemuSaid());
        assertEquals("QEMU exited with status 1 before it was ready: qemu: invalid kernel header", e.getMessage());
        Path folder = folderItWasGiven();
        assertTrue(folder.getFileName().toString().startsWith("tickwatch-"), folder.toString());
        assertFalse(Files.exists(folder), "the private folder is removed after its log was read");
    }

    @Test
    void qemuExitingAfterItsSocketAppearedStillSaysWhatQemuSaid() throws IOException {
        // The real order: QEMU creates its QMP socket, then loads the kernel and exits. A plain file
        // stands in for the socket: the connects fail while the fake lingers (as QEMU does while it
        // reads the kernel), and QEMU's exit is what gets reported.
        QemuConfig c = fake(": > \"$sock\"\nsleep 0.3\n"
                + "echo 'qemu-system-x86_64: warning: host does not support x2apic' >&2\n"
                + "echo 'qemu: invalid kernel header' >&2", 3);
        QemuStartException e = assertThrows(QemuStartException.class, () -> QemuVm.start(c));
        assertEquals(3, e.exitStatus());
        assertEquals("QEMU exited with status 3 before it was ready: qemu-system-x86_64: warning: host does not"
                + " support x2apic / qemu: invalid kernel header", e.getMessage());
        assertFalse(e.getMessage().contains("cannot connect"), "the socket it never served is not the news");
        assertFalse(Files.exists(folderItWasGiven()));
    }

    @Test
    void onlyTheLastLinesAreKept() throws IOException {
        QemuConfig c = fake("for i in 1 2 3 4 5 6 7; do echo \"line $i\" >&2; done", 1);
        QemuStartException e = assertThrows(QemuStartException.class, () -> QemuVm.start(c));
        assertEquals(List.of("line 3", "line 4", "line 5", "line 6", "line 7"), e.qemuSaid());
    }

    @Test
    void aSilentExitSaysSo() throws IOException {
        QemuStartException e = assertThrows(QemuStartException.class, () -> QemuVm.start(fake("", 2)));
        assertEquals("QEMU exited with status 2 before it was ready and printed nothing", e.getMessage());
    }

    @Test
    void aMissingBinaryIsSaidInWords() {
        QemuConfig c = QemuConfig.builder().binary(dir.resolve("no-qemu").toString()).kernel(dir.resolve("k"))
                .accel(Accel.TCG).build();
        QemuException e = assertThrows(QemuException.class, () -> QemuVm.start(c));
        assertEquals("cannot start " + dir.resolve("no-qemu") + ": not found", e.getMessage());
    }
}
