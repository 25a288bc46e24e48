package dev.tickwatch.snapshot;

import dev.tickwatch.util.FileTrees;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * One snapshot folder being written: files go into a private temp folder next to the
 * destination (same file system, so the final rename is atomic) and appear under their real name
 * only by {@link #commit()}. Until then, and whenever anything fails, {@link #close()} removes
 * the temp folder: a reader never sees half a snapshot. Files are created mode 0600 and the
 * folder 0700, because a vmcore and even a task list hold guest secrets.
 *
 * <p>File contents go through a {@link FileSink}, the seam tests use to make a write fail the
 * way a full disk does, without filling one.
 */
public final class Bundle implements AutoCloseable {

    static final FileAttribute<Set<PosixFilePermission>> FILE_MODE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    static final FileAttribute<Set<PosixFilePermission>> DIR_MODE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    /** Writes one file's bytes; the file does not exist yet. */
    @FunctionalInterface
    public interface FileSink {
        void write(Path file, byte[] content) throws IOException;
    }

    /** Creates the file 0600 and writes it whole, forcing it to disk so that a full disk shows here. */
    public static final FileSink DEFAULT_SINK = (file, content) -> {
        Files.createFile(file, FILE_MODE);
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.WRITE)) {
            out.write(content);
        }
    };

    private final Path parent;
    private final String name;
    private final Path temp;
    private final FileSink sink;
    private boolean committed;

    private Bundle(Path parent, String name, Path temp, FileSink sink) {
        this.parent = parent;
        this.name = name;
        this.temp = temp;
        this.sink = sink;
    }

    /**
     * Starts a bundle that will be {@code parent/name}; creates {@code parent} if missing.
     *
     * @throws SnapshotException when the parent cannot hold it (not a folder, not writable) or the
     *                           name is taken
     */
    public static Bundle open(Path parent, String name, FileSink sink) {
        if (name.isEmpty() || name.contains("/") || name.startsWith(".")) {
            throw new IllegalArgumentException("bundle name: '" + name + "' (expected: a plain file name)");
        }
        Path dest = parent.resolve(name);
        if (Files.exists(dest)) {
            throw new SnapshotException("snapshot not written: " + dest + " exists");
        }
        try {
            Files.createDirectories(parent);
            Path temp = Files.createTempDirectory(parent, "." + name + ".partial-", DIR_MODE);
            return new Bundle(parent, name, temp, sink);
        } catch (IOException e) {
            throw new SnapshotException("snapshot not written: cannot create a folder in " + parent + ": " + reason(e), e);
        }
    }

    /** Where a file of the bundle lives until the commit (QEMU writes the vmcore there itself). */
    public Path pending(String file) {
        return temp.resolve(file);
    }

    /** The path the bundle will have once committed. */
    public Path destination() {
        return parent.resolve(name);
    }

    public void write(String file, String text) {
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    public void write(String file, byte[] content) {
        try {
            sink.write(temp.resolve(file), content);
        } catch (IOException e) {
            throw new SnapshotException("snapshot not written: writing " + file + " in " + parent + " failed: "
                    + reason(e), e);
        }
    }

    /** Copies a file into the bundle, private to us (mode 0600) like every other file of it. */
    public void copy(Path source, String file) {
        Path dest = temp.resolve(file);
        try {
            Files.createFile(dest, FILE_MODE);
            Files.copy(source, dest, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(dest, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new SnapshotException("copying " + source + " into the snapshot failed: " + reason(e), e);
        }
    }

    /** Makes a file QEMU or another writer created in the temp folder private to us. */
    public void restrict(String file) {
        try {
            Files.setPosixFilePermissions(temp.resolve(file), PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new SnapshotException("snapshot not written: cannot restrict " + file + ": " + reason(e), e);
        }
    }

    /** Renames the temp folder to its real name, atomically; returns that path. */
    public Path commit() {
        Path dest = destination();
        try {
            Files.move(temp, dest, StandardCopyOption.ATOMIC_MOVE);
            committed = true;
            return dest;
        } catch (FileAlreadyExistsException e) {
            throw new SnapshotException("snapshot not written: " + dest + " appeared meanwhile", e);
        } catch (IOException e) {
            throw new SnapshotException("snapshot not written: cannot rename it into " + dest + ": " + reason(e), e);
        }
    }

    /** Removes the temp folder unless committed. */
    @Override
    public void close() {
        if (!committed) {
            try {
                FileTrees.deleteTree(temp);
            } catch (RuntimeException e) {
                // Nothing more to do: the temp name starts with a dot and says "partial".
            }
        }
    }

    static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or folder: " + e.getMessage();
        }
        if (e instanceof FileAlreadyExistsException) {
            return "exists: " + e.getMessage();
        }
        String m = e.getMessage();
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            m = f.getReason();
        }
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
