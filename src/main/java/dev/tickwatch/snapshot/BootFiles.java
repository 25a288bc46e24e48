package dev.tickwatch.snapshot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The kernel and initrd a snapshot's QEMU booted, kept so that "To reproduce" names only files
 * that still exist: the lab and the tests build an initrd in a temporary folder that is gone once
 * the run ends, so the snapshot copies it into its folder; a kernel is copied when small, and one
 * in tickwatch's kernel cache is named by its path (the cache persists, and {@code bin/setup}
 * fills it again). Whatever is not copied is said plainly: left where it was, temporary, or gone.
 */
final class BootFiles {

    /** A kernel up to this size is copied (Debian's are about 8 MiB; a vmlinux with debug info is not). */
    static final long KERNEL_COPY_LIMIT = 16L << 20;
    /** An initrd up to this size is copied: tickwatch's are kilobytes, a distribution's some tens of MiB. */
    static final long INITRD_COPY_LIMIT = 256L << 20;
    /** Names the bundle already uses: a copied file never takes one. */
    private static final Set<String> TAKEN = Set.of("snapshot.json", "report.txt", "report.html", "console.log",
            "vmcore", "report.png");
    private static final List<String> TEMP_FOLDERS = List.of("/tmp/", "/var/tmp/", "/dev/shm/");

    private BootFiles() {
    }

    /**
     * Copies or accounts for each {@code -kernel} and {@code -initrd} of {@code argv}.
     *
     * @param cacheRoot tickwatch's cache folder ({@code ~/.cache/tickwatch}); files under it are referenced
     * @param notes     gets a sentence for every file that could not be copied for a reason other than size
     */
    static List<SnapshotDoc.BootFile> keep(List<String> argv, Bundle bundle, Path cacheRoot, List<String> notes) {
        List<SnapshotDoc.BootFile> out = new ArrayList<>();
        Set<String> used = new HashSet<>(TAKEN);
        for (int i = 0; i + 1 < argv.size(); i++) {
            String option = option(argv.get(i));
            if (option == null) {
                continue;
            }
            String given = argv.get(++i);
            Path p = Path.of(given).toAbsolutePath().normalize();
            if (!Files.isRegularFile(p)) {
                out.add(new SnapshotDoc.BootFile(option, given, null, "missing", null,
                        "not there at the snapshot: the run that made it has removed it"));
                continue;
            }
            long bytes;
            try {
                bytes = Files.size(p);
            } catch (IOException e) {
                bytes = -1;
            }
            if (cacheRoot != null && p.startsWith(cacheRoot.toAbsolutePath().normalize())) {
                out.add(new SnapshotDoc.BootFile(option, given, bytes, "cache", null,
                        "in tickwatch's kernel cache (" + cacheRoot + "), which persists; bin/setup fetches it again"));
                continue;
            }
            long limit = option.equals("-kernel") ? KERNEL_COPY_LIMIT : INITRD_COPY_LIMIT;
            if (bytes < 0 || bytes > limit) {
                boolean temp = temporary(p.toString());
                out.add(new SnapshotDoc.BootFile(option, given, bytes < 0 ? null : bytes, temp ? "temporary" : "original",
                        null, "not copied (" + mib(bytes) + ", over " + mib(limit) + ")"
                                + (temp ? ": a temporary file, it will be gone" : ": left where it was")));
                continue;
            }
            String name = p.getFileName().toString();
            while (used.contains(name)) {
                name = "boot-" + name;
            }
            try {
                bundle.copy(p, name);
                used.add(name);
                out.add(new SnapshotDoc.BootFile(option, given, bytes, "bundle", name, null));
            } catch (SnapshotException e) {
                notes.add(option + " " + given + " not kept: " + e.getMessage());
                out.add(new SnapshotDoc.BootFile(option, given, bytes, temporary(p.toString()) ? "temporary" : "original",
                        null, "not copied: " + e.getMessage()));
            }
        }
        return out;
    }

    /** The environment with its boot files kept ({@link #keep}); unchanged without a command line. */
    static SnapshotDoc.Environment kept(SnapshotDoc.Environment e, Bundle bundle, Path cacheRoot, List<String> notes) {
        if (e.qemuCommand().isEmpty()) {
            return e;
        }
        return new SnapshotDoc.Environment(e.qemuVersion(), e.qemuCommand(), e.qemuCommandSource(), e.accel(),
                e.labMode(), e.hostKernel(), e.hostCpu(), e.hostCpus(), e.guestKernel(), e.memoryBackend(),
                e.memoryBackendsPassedOver(), keep(e.qemuCommand(), bundle, cacheRoot, notes));
    }

    /** {@code -kernel} or {@code -initrd} for the spellings QEMU accepts, else null. */
    private static String option(String arg) {
        String a = arg.startsWith("--") ? arg.substring(1) : arg;
        return a.equals("-kernel") || a.equals("-initrd") ? a : null;
    }

    static boolean temporary(String path) {
        String tmp = System.getProperty("java.io.tmpdir", "/tmp");
        tmp = tmp.endsWith("/") ? tmp : tmp + "/";
        if (path.startsWith(tmp)) {
            return true;
        }
        for (String t : TEMP_FOLDERS) {
            if (path.startsWith(t)) {
                return true;
            }
        }
        return false;
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "size unknown" : String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    /**
     * The report's account of the boot files and the command line to run: copied files by their
     * name in the snapshot folder, the rest as they were, each with what became of it.
     */
    static List<String> reproduceLines(SnapshotDoc.Environment e) {
        List<String> out = new ArrayList<>();
        List<String> argv = new ArrayList<>(e.qemuCommand());
        List<SnapshotDoc.BootFile> files = e.bootFiles() != null ? e.bootFiles() : guessed(argv);
        boolean copied = false;
        if (!files.isEmpty()) {
            out.add("Files it booted:");
            for (SnapshotDoc.BootFile f : files) {
                String shown = f.kept().equals("bundle") ? f.file() : f.path();
                out.addAll(Text.wrap(f.option() + " " + shown, Text.WIDTH, "  ", "    "));
                out.addAll(Text.wrap(account(f, e), Text.WIDTH, "    ", "    "));
                if (f.kept().equals("bundle")) {
                    copied = true;
                    for (int i = 0; i + 1 < argv.size(); i++) {
                        if (option(argv.get(i)) != null && argv.get(i + 1).equals(f.path())) {
                            argv.set(i + 1, f.file());
                        }
                    }
                }
            }
            out.add("");
        }
        out.addAll(Text.wrap("QEMU command line" + (e.labMode() != null ? " it ran" : "")
                + (copied ? ", with the copied files named as in this folder (run it there):" : ":"), Text.WIDTH, "", ""));
        out.add("");
        out.addAll(Text.shellCommand(argv, Text.WIDTH, "  "));
        String runFolder = runFolder(argv, files);
        if (runFolder != null) {
            out.add("");
            out.addAll(Text.wrap("Its sockets and console file were in " + runFolder + ", a temporary folder of that"
                    + " run: QEMU creates them, but the folder must exist, so point them at one that does.",
                    Text.WIDTH, "", ""));
        }
        return out;
    }

    private static String account(SnapshotDoc.BootFile f, SnapshotDoc.Environment e) {
        String rebuild = e.labMode() != null && f.option().equals("-initrd")
                ? "; tickwatch lab " + e.labMode() + " builds it again" : "";
        return switch (f.kept()) {
            case "bundle" -> "copied into this folder from " + f.path() + (temporary(f.path()) ? ", a temporary file" : "");
            case "cache" -> "not copied: in tickwatch's kernel cache, which persists (bin/setup fetches it again)";
            case "guessed-temporary" -> "a temporary file, not kept (this snapshot is from before tickwatch copied"
                    + " boot files): it is gone" + rebuild;
            case "guessed" -> "not kept (this snapshot is from before tickwatch copied boot files): it may have moved";
            case "missing" -> "gone already when the snapshot was taken" + rebuild;
            default -> f.note() + rebuild;
        };
    }

    /** For files from before boot files were kept: what their paths say. */
    private static List<SnapshotDoc.BootFile> guessed(List<String> argv) {
        List<SnapshotDoc.BootFile> out = new ArrayList<>();
        for (int i = 0; i + 1 < argv.size(); i++) {
            String option = option(argv.get(i));
            if (option != null) {
                String p = argv.get(++i);
                String kept = p.contains("/.cache/tickwatch/") ? "cache" : temporary(p) ? "guessed-temporary" : "guessed";
                out.add(new SnapshotDoc.BootFile(option, p, null, kept, null, null));
            }
        }
        return out;
    }

    /**
     * The temporary folder the run's sockets and console file were in (e.g. {@code unix:/tmp/x/qmp.sock},
     * {@code path=/tmp/x/console.log}), or null when there is none.
     */
    private static String runFolder(List<String> argv, List<SnapshotDoc.BootFile> files) {
        Set<String> boot = new HashSet<>();
        files.forEach(f -> boot.add(f.path()));
        for (String a : argv) {
            if (boot.contains(a)) {
                continue;
            }
            for (String part : a.split(",")) {
                String v = part.startsWith("unix:") ? part.substring(5)
                        : part.startsWith("path=") ? part.substring(5) : null;
                if (v != null && temporary(v) && v.lastIndexOf('/') > 0) {
                    return v.substring(0, v.lastIndexOf('/'));
                }
            }
        }
        return null;
    }
}
