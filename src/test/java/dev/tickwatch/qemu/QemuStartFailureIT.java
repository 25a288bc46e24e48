package dev.tickwatch.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.cli.Main;
import dev.tickwatch.command.ExitCode;
import dev.tickwatch.testing.Guests;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real QEMU refusing a kernel: a file with a bzImage's "HdrS" magic (so tickwatch's own check
 * lets it through) whose setup header claims 255 setup sectors, more than the file holds, which
 * QEMU's x86 loader rejects with "qemu: invalid kernel header" and exit 1. The user must read
 * those words, not "cannot connect to .../qmp.sock", and no folder or QEMU may be left.
 */
class QemuStartFailureIT {

    @TempDir
    Path dir;

    private Path fakeBzImage() throws IOException {
        byte[] b = new byte[8192];
        b[0x1f1] = (byte) 0xff; // setup_sects: (255 + 1) * 512 bytes of setup, more than the file
        b[0x1fe] = 0x55;
        b[0x1ff] = (byte) 0xaa;
        System.arraycopy(new byte[] {'H', 'd', 'r', 'S'}, 0, b, 0x202, 4);
        b[0x206] = 0x0f; // boot protocol 2.15
        b[0x207] = 0x02;
        Path p = Files.write(dir.resolve("bzImage"), b);
        KernelFile.check(p);
        return p;
    }

    @Test
    void qemuRejectingTheKernelIsReportedInItsOwnWords() throws IOException {
        QemuConfig c = QemuConfig.builder().kernel(fakeBzImage()).accel(Accel.TCG).build();
        QemuStartException e = assertThrows(QemuStartException.class, () -> QemuVm.start(c));
        assertTrue(e.getMessage().contains("invalid kernel header"), e.getMessage());
        assertEquals(1, e.exitStatus(), e.getMessage());
        assertFalse(e.getMessage().contains("cannot connect"), e.getMessage());
        assertEquals(List.of(), Guests.qemuProcessesUsing(dir), "no QEMU left for " + dir);
    }

    @Test
    void bootLoopSaysWhatQemuSaidAndCannotTest() throws IOException {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), "boot-loop", "--kernel",
                fakeBzImage().toString(), "--boots", "2", "--parallel", "1");
        assertEquals(ExitCode.CANNOT_TEST, code, out + "\n" + err);
        assertTrue(err.toString().contains("QEMU did not start: QEMU exited with status 1: "), err.toString());
        assertTrue(err.toString().contains("qemu: invalid kernel header"), err.toString());
        assertFalse(err.toString().contains("cannot connect"), err.toString());
        assertTrue(out.toString().strip().endsWith("cannot test"), out.toString());
    }
}
