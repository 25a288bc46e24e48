package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** "To reproduce" names only files that still exist: the snapshot keeps its boot files or says what became of them. */
class BootFilesTest {

    @TempDir
    Path dir;

    private static SnapshotDoc.Environment env(List<String> argv, String lab, List<SnapshotDoc.BootFile> files) {
        return new SnapshotDoc.Environment("7.2.22", argv, "caller", "tcg", lab, "Linux", "cpu", 2, null, null, List.of(),
                files);
    }

    private static SnapshotDoc.BootFile only(List<SnapshotDoc.BootFile> files, String option) {
        return files.stream().filter(f -> f.option().equals(option)).findFirst().orElseThrow();
    }

    @Test
    void theInitrdAndASmallKernelAreCopiedIntoTheBundlePrivately() throws IOException {
        Path run = Files.createDirectories(dir.resolve("run"));
        Path initrd = Files.write(run.resolve("initrd-timer-stall-lost.gz"), new byte[] {0x1f, (byte) 0x8b, 8, 0});
        Path kernel = Files.write(run.resolve("bzImage"), "a small kernel".getBytes());
        List<String> argv = List.of("qemu-system-x86_64", "-kernel", kernel.toString(), "--initrd", initrd.toString(),
                "-append", "console=ttyS0");
        List<String> notes = new ArrayList<>();
        Path committed;
        List<SnapshotDoc.BootFile> files;
        try (Bundle b = Bundle.open(dir.resolve("out"), "snap", Bundle.DEFAULT_SINK)) {
            files = BootFiles.keep(argv, b, dir.resolve("cache"), notes);
            committed = b.commit();
        }
        assertEquals(List.of(), notes);
        SnapshotDoc.BootFile i = only(files, "-initrd");
        assertEquals("bundle", i.kept());
        assertEquals("initrd-timer-stall-lost.gz", i.file());
        assertEquals(4L, i.bytes());
        assertArrayEquals(Files.readAllBytes(initrd), Files.readAllBytes(committed.resolve(i.file())));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(committed.resolve(i.file()))));
        assertEquals("bundle", only(files, "-kernel").kept());
        assertTrue(Files.isRegularFile(committed.resolve("bzImage")));

        // The run's folder goes away; the report names the copies, and the command runs in the bundle.
        List<String> lines = BootFiles.reproduceLines(env(argv, "timer-stall-lost", files));
        String text = String.join("\n", lines);
        String words = text.replaceAll("\\s+", " ");
        assertTrue(text.contains("  -initrd initrd-timer-stall-lost.gz\n    copied into this folder from"), text);
        assertTrue(words.contains("copied into this folder from " + initrd + ", a temporary file"), text);
        assertTrue(words.contains("with the copied files named as in this folder (run it there):"), text);
        String command = text.substring(text.indexOf("qemu-system-x86_64"));
        assertFalse(command.contains(initrd.toString()), "the command names the copy, not the gone original: " + command);
        assertTrue(lines.stream().anyMatch(l -> l.strip().startsWith("--initrd initrd-timer-stall-lost.gz")), text);
    }

    @Test
    void aCachedKernelIsReferencedABigOneLeftAndAMissingOneSaidToBeGone() throws IOException {
        Path cache = Files.createDirectories(dir.resolve("cache/kernel/6.1.0-57-cloud-amd64"));
        Path cached = Files.write(cache.resolve("vmlinuz"), new byte[100]);
        Path big = dir.resolve("vmlinux");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(BootFiles.KERNEL_COPY_LIMIT + 1); // sparse: no 16 MiB written
        }
        List<String> notes = new ArrayList<>();
        List<SnapshotDoc.BootFile> files;
        try (Bundle b = Bundle.open(dir.resolve("out"), "snap", Bundle.DEFAULT_SINK)) {
            files = BootFiles.keep(List.of("qemu", "-kernel", cached.toString(), "-initrd", dir + "/gone.gz"), b,
                    dir.resolve("cache"), notes);
            List<SnapshotDoc.BootFile> bigOne = BootFiles.keep(List.of("qemu", "-kernel", big.toString()), b,
                    dir.resolve("cache"), notes);
            assertEquals("temporary", bigOne.get(0).kept(), "JUnit's folder is under /tmp");
            assertTrue(bigOne.get(0).note().startsWith("not copied (16.0 MiB, over 16.0 MiB): a temporary file"),
                    bigOne.get(0).note());
            assertFalse(Files.exists(b.pending("vmlinux")));
        }
        assertEquals("cache", only(files, "-kernel").kept());
        assertNull(only(files, "-kernel").file());
        SnapshotDoc.BootFile gone = only(files, "-initrd");
        assertEquals("missing", gone.kept());
        assertNull(gone.bytes());
        String text = String.join("\n", BootFiles.reproduceLines(env(List.of("qemu", "-kernel", cached.toString(),
                "-initrd", dir + "/gone.gz"), "spin-deadlock", files)));
        assertTrue(text.replaceAll("\\s+", " ").contains("-kernel " + cached
                + " not copied: in tickwatch's kernel cache, which persists (bin/setup fetches it again)"), text);
        assertTrue(text.replaceAll("\\s+", " ").contains(
                "gone already when the snapshot was taken; tickwatch lab spin-deadlock builds it again"), text);
    }

    @Test
    void aCopyNeverTakesTheNameOfABundleFile() throws IOException {
        Path odd = Files.write(Files.createDirectories(dir.resolve("x")).resolve("console.log"), new byte[] {1});
        try (Bundle b = Bundle.open(dir.resolve("out"), "snap", Bundle.DEFAULT_SINK)) {
            List<SnapshotDoc.BootFile> files = BootFiles.keep(List.of("qemu", "-initrd", odd.toString()), b, null,
                    new ArrayList<>());
            assertEquals("boot-console.log", files.get(0).file());
        }
    }

    @Test
    void anOlderSnapshotSaysItsTemporaryInitrdIsGoneAndItsCachedKernelPersists() {
        SnapshotDoc s = SnapshotDoc.of(ReportFixtures.real("timer-stall-30s"));
        assertNull(s.environment().bootFiles(), "taken before boot files were kept");
        String r = ReportText.render(s);
        String repro = r.substring(r.indexOf("\nTo reproduce\n"));
        assertTrue(repro.contains("  -initrd /tmp/tickwatch-lab-15813461491493676758/initrd-timer-stall-lost.gz\n"
                + "    a temporary file, not kept (this snapshot is from before tickwatch copied\n"
                + "    boot files): it is gone; tickwatch lab timer-stall-lost builds it again\n"), repro);
        assertTrue(repro.contains("  -kernel /root/.cache/tickwatch/kernel/6.1.0-57-cloud-amd64/vmlinuz\n"
                + "    not copied: in tickwatch's kernel cache, which persists (bin/setup fetches\n    it again)\n"), repro);
        assertTrue(repro.contains("Its sockets and console file were in /tmp/tickwatch-378682814881029161, a"),
                repro);
    }
}
