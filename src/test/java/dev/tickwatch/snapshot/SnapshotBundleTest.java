package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bundle appears whole under its name, private, or not at all. */
class SnapshotBundleTest {

    @TempDir
    Path dir;

    private List<String> entries(Path p) throws IOException {
        try (Stream<Path> s = Files.list(p)) {
            return s.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aCommittedBundleHasItsFilesPrivateAndNoTempFolderBeside() throws IOException {
        Path parent = dir.resolve("snaps");
        Path dest;
        try (Bundle b = Bundle.open(parent, "one", Bundle.DEFAULT_SINK)) {
            b.write("snapshot.json", "{}");
            b.write("report.txt", "text");
            assertFalse(Files.exists(b.destination()), "nothing under the real name before the commit");
            dest = b.commit();
        }
        assertEquals(List.of("one"), entries(parent));
        assertEquals(List.of("report.txt", "snapshot.json"), entries(dest));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dest)));
        for (String f : entries(dest)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dest.resolve(f))), f);
        }
    }

    @Test
    void aWriteFailureLikeAFullDiskLeavesNothing() throws IOException {
        AtomicInteger writes = new AtomicInteger();
        Bundle.FileSink fullDisk = (file, content) -> {
            if (writes.incrementAndGet() == 3) {
                Files.write(file, new byte[1]); // part of it made it to disk before the disk filled
                throw new IOException("No space left on device");
            }
            Bundle.DEFAULT_SINK.write(file, content);
        };
        SnapshotException e;
        try (Bundle b = Bundle.open(dir, "snap", fullDisk)) {
            b.write("snapshot.json", "{}");
            b.write("report.txt", "text");
            e = assertThrows(SnapshotException.class, () -> b.write("report.html", "<html>"));
        }
        assertEquals("snapshot not written: writing report.html in " + dir + " failed: No space left on device",
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
        assertEquals(List.of(), entries(dir), "no half-written snapshot, no temp folder");
    }

    @Test
    void anUnwritableParentIsOneLineAndLeavesNothing() throws IOException {
        // A regular file where the parent folder should be: unwritable even for root.
        Path notAFolder = Files.writeString(dir.resolve("plain-file"), "x");
        SnapshotException e = assertThrows(SnapshotException.class,
                () -> Bundle.open(notAFolder.resolve("snaps"), "snap", Bundle.DEFAULT_SINK));
        assertTrue(e.getMessage().startsWith("snapshot not written: cannot create a folder in " + notAFolder.resolve("snaps")),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertEquals(List.of("plain-file"), entries(dir));
    }

    @Test
    void anExistingSnapshotIsNeverReplaced() throws IOException {
        Path old = Files.createDirectories(dir.resolve("snap"));
        Files.writeString(old.resolve("snapshot.json"), "old");
        SnapshotException e = assertThrows(SnapshotException.class, () -> Bundle.open(dir, "snap", Bundle.DEFAULT_SINK));
        assertTrue(e.getMessage().endsWith(" exists"), e.getMessage());
        assertEquals("old", Files.readString(old.resolve("snapshot.json")));
        assertEquals(List.of("snap"), entries(dir));
    }

    @Test
    void aNameThatAppearsDuringTheCaptureFailsTheCommitAndKeepsTheOther() throws IOException {
        try (Bundle b = Bundle.open(dir, "snap", Bundle.DEFAULT_SINK)) {
            b.write("snapshot.json", "new");
            Files.createDirectories(dir.resolve("snap"));
            Files.writeString(dir.resolve("snap").resolve("snapshot.json"), "other");
            assertThrows(SnapshotException.class, b::commit);
        }
        assertEquals(List.of("snap"), entries(dir));
        assertEquals("other", Files.readString(dir.resolve("snap").resolve("snapshot.json")));
    }
}
