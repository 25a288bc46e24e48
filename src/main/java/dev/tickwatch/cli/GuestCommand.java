package dev.tickwatch.cli;

import dev.tickwatch.command.BackendOption;
import dev.tickwatch.command.BtCommand;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.DmesgCommand;
import dev.tickwatch.command.GuestReadings;
import dev.tickwatch.command.JsonOption;
import dev.tickwatch.command.PrintCommand;
import dev.tickwatch.command.KernelFilesOption;
import dev.tickwatch.command.LocksCommand;
import dev.tickwatch.command.QmpOption;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code tickwatch guest}: the CLI's namespace for the readings of the guest kernel's own state
 * ({@link GuestReadings}). Its options may come before the reading ({@code guest --qmp ADDR
 * timers}) or after it; each reading looks at its own first, then here.
 */
@CliOnly("a namespace: the shell mounts its readings at its top level, on the attached guest")
@Command(name = "guest", mixinStandardHelpOptions = true,
        description = {"Reads a running guest kernel's state from its memory, without debug files.",
            "Example: tickwatch guest --qmp unix:/run/vm/qmp.sock timers"},
        footer = {"", "The guest's own numbers are read while it runs: no vmlinux, no System.map, KASLR on or off."},
        subcommands = {GuestReadings.Info.class, GuestReadings.Symbols.class, GuestReadings.Sym.class,
            GuestReadings.Addr.class, GuestReadings.Timers.class, GuestReadings.Tasks.class, GuestReadings.BtfStruct.class,
            GuestReadings.Cpus.class, GuestReadings.Jiffies.class, GuestReadings.Read.class, DmesgCommand.class,
            LocksCommand.class, BtCommand.class, PrintCommand.class})
final class GuestCommand {

    @Mixin
    QmpOption qmp;

    @Mixin
    BackendOption backend;

    @Mixin
    KernelFilesOption kernelFiles;

    @Mixin
    JsonOption json;
}
