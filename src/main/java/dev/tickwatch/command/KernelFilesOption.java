package dev.tickwatch.command;

import dev.tickwatch.guest.KernelFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * {@code --vmlinux FILE} and {@code --system-map FILE}, declared here only: the developer's own
 * build files, for a kernel whose memory lacks data symbols (KALLSYMS_ALL off) or BTF. Symbols come
 * from the vmlinux's ELF symbol table (else the System.map), types from its .BTF section or its
 * DWARF (through pahole); the KASLR slide from the running kernel. The shell is attached with them
 * already ({@code attach --vmlinux}), so it drops them from the commands it mounts, like the
 * where-is-the-guest options.
 */
public final class KernelFilesOption implements ConnectionOption {

    public static final String VMLINUX = "--vmlinux";
    public static final String SYSTEM_MAP = "--system-map";

    @Option(names = VMLINUX, paramLabel = "FILE",
            description = "the kernel's vmlinux: symbols from its symbol table, types from its .BTF section or"
                    + " from its DWARF through pahole (Debian's dwarves); refused if it is not the running kernel's")
    Path vmlinux;

    @Option(names = SYSTEM_MAP, paramLabel = "FILE",
            description = "the kernel's System.map: symbols for a kernel built without KALLSYMS_ALL")
    Path systemMap;

    public Path vmlinux() {
        return vmlinux;
    }

    public Path systemMap() {
        return systemMap;
    }

    /**
     * The files given to {@code spec} (its own option, else its group's); a file that cannot be
     * read is a usage error, said before anything connects.
     */
    public static KernelFiles of(CommandSpec spec) {
        Path v = Mixins.nearest(spec, KernelFilesOption.class, KernelFilesOption::vmlinux).orElse(null);
        Path m = Mixins.nearest(spec, KernelFilesOption.class, KernelFilesOption::systemMap).orElse(null);
        check(spec, VMLINUX, v);
        check(spec, SYSTEM_MAP, m);
        return KernelFiles.of(v, m);
    }

    private static void check(CommandSpec spec, String option, Path file) {
        if (file != null && !(Files.isRegularFile(file) && Files.isReadable(file))) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + ": " + file
                    + (Files.exists(file) ? " is not a readable file" : " does not exist"));
        }
    }
}
