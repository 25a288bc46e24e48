package dev.tickwatch.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.TickwatchException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Missing or mismatched parts give an error naming what was expected, what was found, and the fix. */
class KernelCacheTest {

    @TempDir
    Path root;

    @Test
    void emptyCacheNamesTheFix() {
        TickwatchException e = assertThrows(TickwatchException.class, () -> new KernelCache(root).current());
        assertTrue(e.getMessage().contains("no guest kernel in " + root.resolve("kernel")), e.getMessage());
        assertTrue(e.getMessage().endsWith(KernelCache.FIX), e.getMessage());
    }

    @Test
    void missingImageNamesTheAbiAndPath() throws Exception {
        Files.createDirectories(root.resolve("kernel"));
        Files.writeString(root.resolve("kernel/current"), "6.1.0-99-cloud-amd64\n");
        TickwatchException e = assertThrows(TickwatchException.class, () -> new KernelCache(root).current());
        assertTrue(e.getMessage().startsWith("guest kernel 6.1.0-99-cloud-amd64 is missing (expected "
                + root.resolve("kernel/6.1.0-99-cloud-amd64/vmlinuz")), e.getMessage());
    }

    @Test
    void mismatchedHeadersNameExpectedAndFound() {
        KernelCache.Kernel k = new KernelCache.Kernel("0.0.0-none-cloud-amd64", root.resolve("vmlinuz"), root.resolve("config"));
        TickwatchException e = assertThrows(TickwatchException.class, k::requireHeaders);
        assertTrue(e.getMessage().startsWith("kernel headers for 0.0.0-none-cloud-amd64 are missing (expected "
                + "/lib/modules/0.0.0-none-cloud-amd64/build; found headers for: "), e.getMessage());
        assertTrue(e.getMessage().endsWith(KernelCache.FIX));
    }

    @Test
    void cpioEntriesAreNewcAndPadded() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Cpio c = new Cpio(bytes)) {
            c.file("bin/x", 0755, "abc".getBytes(StandardCharsets.US_ASCII));
        }
        byte[] b = bytes.toByteArray();
        String s = new String(b, StandardCharsets.ISO_8859_1);
        assertEquals(0, b.length % 4);
        // Parent directory first, then the file, then the trailer; every header starts "070701".
        assertEquals(3, s.split("070701", -1).length - 1);
        int file = s.indexOf("bin/x\0");
        assertEquals("000081ed", s.substring(file - 110 + 14, file - 110 + 22)); // mode: regular 0755
        assertEquals("00000003", s.substring(file - 110 + 54, file - 110 + 62)); // filesize
        assertTrue(s.contains("TRAILER!!!\0"));
        assertTrue(s.indexOf("bin\0") < file);
    }
}
