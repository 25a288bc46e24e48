package dev.tickwatch.qemu;

import dev.tickwatch.TickwatchException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks that a file given as {@code -kernel} is one QEMU's x86 loader takes, before any QEMU
 * starts: a bzImage (the setup header's "HdrS" at offset 0x202, Documentation/x86/boot.rst) or an
 * ELF kernel (ELF64, ET_EXEC, x86-64: a vmlinux). Otherwise QEMU exits with "qemu: invalid
 * kernel header" at every boot of a loop; said once, up front, with the file's name, it is a
 * typo found instead of a loop of failed starts.
 */
public final class KernelFile {

    static final int SETUP_HEADER_MAGIC_OFFSET = 0x202;
    private static final byte[] HDRS = {'H', 'd', 'r', 'S'};
    private static final byte[] ELF = {0x7f, 'E', 'L', 'F'};
    private static final int ELFCLASS64 = 2;
    private static final int ELFDATA2LSB = 1;
    private static final int ET_EXEC = 2;
    private static final int EM_X86_64 = 62;

    private KernelFile() {
    }

    /**
     * Returns quietly when {@code file} is a readable bzImage or x86-64 ELF kernel.
     *
     * @throws TickwatchException one line naming the file and what is wrong with it
     */
    public static void check(Path file) {
        if (!Files.exists(file)) {
            throw new TickwatchException("kernel " + file + " not found");
        }
        if (Files.isDirectory(file)) {
            throw new TickwatchException("kernel " + file + " is a folder, not a kernel image");
        }
        if (!Files.isReadable(file)) {
            throw new TickwatchException("kernel " + file + " is not readable (permission denied)");
        }
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(SETUP_HEADER_MAGIC_OFFSET + HDRS.length);
        } catch (IOException e) {
            throw new TickwatchException("kernel " + file + " cannot be read: " + e.getMessage(), e);
        }
        if (startsWith(head, ELF, 0)) {
            checkElf(file, head);
            return;
        }
        if (!startsWith(head, HDRS, SETUP_HEADER_MAGIC_OFFSET)) {
            throw new TickwatchException(file + " is not a Linux kernel: no bzImage header (HdrS at 0x202)"
                    + " and not an ELF file");
        }
    }

    private static void checkElf(Path file, byte[] head) {
        if (head.length < 20) {
            throw new TickwatchException(file + " is not a Linux kernel: an ELF file cut short");
        }
        if (head[4] != ELFCLASS64 || head[5] != ELFDATA2LSB) {
            throw new TickwatchException(file + " is not an x86-64 kernel: a 32-bit or big-endian ELF file");
        }
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        int type = Short.toUnsignedInt(b.getShort(16));
        int machine = Short.toUnsignedInt(b.getShort(18));
        if (type != ET_EXEC) {
            throw new TickwatchException(file + " is not a Linux kernel: an ELF file of type " + type
                    + (type == 1 ? " (a relocatable object, a module?)" : type == 3 ? " (a shared object or program)" : "")
                    + ", not an executable (ET_EXEC)");
        }
        if (machine != EM_X86_64) {
            throw new TickwatchException(file + " is not an x86-64 kernel: ELF machine " + machine
                    + (machine == 183 ? " (AArch64)" : "") + ", expected " + EM_X86_64 + " (x86-64)");
        }
    }

    private static boolean startsWith(byte[] data, byte[] magic, int at) {
        if (data.length < at + magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if (data[at + i] != magic[i]) {
                return false;
            }
        }
        return true;
    }
}
