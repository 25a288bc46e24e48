package dev.tickwatch.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tickwatch.TickwatchException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What boot-loop --kernel accepts before any QEMU starts: a bzImage or an x86-64 ELF kernel. */
class KernelFileTest {

    @TempDir
    Path dir;

    /** The first bytes of a bzImage: "HdrS" at 0x202, nothing else that matters here. */
    static byte[] bzImageHead() {
        byte[] b = new byte[4096];
        b[0x1fe] = 0x55;
        b[0x1ff] = (byte) 0xaa;
        System.arraycopy(new byte[] {'H', 'd', 'r', 'S'}, 0, b, 0x202, 4);
        return b;
    }

    static byte[] elf(int elfClass, int type, int machine) {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', (byte) elfClass, 1, 1});
        b.putShort(16, (short) type).putShort(18, (short) machine);
        return b.array();
    }

    private Path file(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private String refused(Path p) {
        return assertThrows(TickwatchException.class, () -> KernelFile.check(p)).getMessage();
    }

    @Test
    void aBzImageAndAVmlinuxAreKernels() throws IOException {
        KernelFile.check(file("bzImage", bzImageHead()));
        KernelFile.check(file("vmlinux", elf(2, 2, 62)));
    }

    @Test
    void anythingElseIsOneLineNamingTheFile() throws IOException {
        Path text = file("hostname", "vm\n".getBytes());
        assertEquals(text + " is not a Linux kernel: no bzImage header (HdrS at 0x202) and not an ELF file", refused(text));
        Path zeros = file("zeros", new byte[8192]);
        assertEquals(zeros + " is not a Linux kernel: no bzImage header (HdrS at 0x202) and not an ELF file", refused(zeros));
        Path module = file("lab.ko", elf(2, 1, 62));
        assertEquals(module + " is not a Linux kernel: an ELF file of type 1 (a relocatable object, a module?),"
                + " not an executable (ET_EXEC)", refused(module));
        Path program = file("ls", elf(2, 3, 62));
        assertEquals(program + " is not a Linux kernel: an ELF file of type 3 (a shared object or program),"
                + " not an executable (ET_EXEC)", refused(program));
        Path arm = file("Image", elf(2, 2, 183));
        assertEquals(arm + " is not an x86-64 kernel: ELF machine 183 (AArch64), expected 62 (x86-64)", refused(arm));
        Path i386 = file("vmlinux32", elf(1, 2, 3));
        assertEquals(i386 + " is not an x86-64 kernel: a 32-bit or big-endian ELF file", refused(i386));
        Path cut = file("cut", new byte[] {0x7f, 'E', 'L', 'F', 2});
        assertEquals(cut + " is not a Linux kernel: an ELF file cut short", refused(cut));
    }

    @Test
    void missingFoldersAndUnreadableFilesAreSaidSo() throws IOException {
        assertEquals("kernel " + dir.resolve("nope") + " not found", refused(dir.resolve("nope")));
        assertEquals("kernel " + dir + " is a folder, not a kernel image", refused(dir));
        Path locked = file("locked", bzImageHead());
        if (locked.toFile().setReadable(false) && !Files.isReadable(locked)) {
            // (root reads everything: then there is nothing to check)
            assertEquals("kernel " + locked + " is not readable (permission denied)", refused(locked));
        }
    }
}
