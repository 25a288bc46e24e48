package dev.tickwatch.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.cli.Main;
import dev.tickwatch.command.CliOnly;
import dev.tickwatch.command.ConsoleOption;
import dev.tickwatch.command.GdbOption;
import dev.tickwatch.command.GuestReadings;
import dev.tickwatch.command.JsonOption;
import dev.tickwatch.command.QmpCommand;
import dev.tickwatch.command.QmpOption;
import dev.tickwatch.command.ReportCommand;
import dev.tickwatch.command.ShellOnly;
import dev.tickwatch.command.SnapshotCommand;
import dev.tickwatch.command.WatchCommand;
import java.io.PrintWriter;
import java.io.Writer;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The CLI and the shell are one command tree: every command class of one is in the other, except
 * those marked {@link CliOnly} or {@link ShellOnly}; and the options that say where the guest is
 * and how to print are declared once, in their mixin.
 */
class CommandTreeTest {

    private static CommandLine cli() {
        return Main.commandLine();
    }

    private static CommandLine shell() {
        // The tree only: no command runs, so no session is needed.
        return ShellCommands.commandLine(null, new PrintWriter(Writer.nullWriter()), new PrintWriter(Writer.nullWriter()));
    }

    private static List<CommandSpec> specs(CommandLine root) {
        List<CommandSpec> all = new ArrayList<>();
        for (CommandLine sub : root.getSubcommands().values()) {
            all.add(sub.getCommandSpec());
            all.addAll(specs(sub));
        }
        return all;
    }

    private static Set<Class<?>> classes(CommandLine root) {
        return specs(root).stream().map(s -> s.userObject().getClass()).collect(Collectors.toCollection(LinkedHashSet::new));
    }

    @Test
    void theShellMountsTheCliCommandClassesExceptTheMarkedOnes() {
        Set<Class<?>> cli = classes(cli());
        Set<Class<?>> shell = classes(shell());
        // picocli's own 'help' serves the CLI; the shell lists its commands itself (ShellCommands.Help, marked).
        cli.remove(CommandLine.HelpCommand.class);

        Set<Class<?>> shared = new LinkedHashSet<>(cli);
        shared.retainAll(shell);
        assertTrue(shared.containsAll(List.of(WatchCommand.class, SnapshotCommand.class, ReportCommand.class,
                QmpCommand.class, GuestReadings.Cpus.class, GuestReadings.Timers.class, GuestReadings.Tasks.class,
                GuestReadings.Sym.class, GuestReadings.Addr.class, GuestReadings.Read.class, GuestReadings.Jiffies.class)),
                "shared: " + shared);
        for (Class<?> c : shared) {
            assertFalse(c.isAnnotationPresent(CliOnly.class) || c.isAnnotationPresent(ShellOnly.class),
                    c.getName() + " is in both trees but marked as one tree's only");
        }

        Set<Class<?>> cliOnly = new LinkedHashSet<>(cli);
        cliOnly.removeAll(shell);
        for (Class<?> c : cliOnly) {
            CliOnly mark = c.getAnnotation(CliOnly.class);
            assertTrue(mark != null && !mark.value().isBlank(), c.getName() + " is in the CLI only but not marked @CliOnly");
        }
        Set<Class<?>> shellOnly = new LinkedHashSet<>(shell);
        shellOnly.removeAll(cli);
        for (Class<?> c : shellOnly) {
            ShellOnly mark = c.getAnnotation(ShellOnly.class);
            assertTrue(mark != null && !mark.value().isBlank(), c.getName() + " is in the shell only but not marked @ShellOnly");
        }
        assertEquals(Set.of("pause", "resume", "exit", "help", "status", "verdict", "poke", "regs", "hmp", "set"),
                shellOnly.stream().map(c -> c.getAnnotation(CommandLine.Command.class).name()).collect(Collectors.toSet()));
    }

    @Test
    void whereTheGuestIsAndJsonAreDeclaredOnceInTheirMixins() {
        Map<String, Class<?>> declaredIn = Map.of(QmpOption.NAME, QmpOption.class, GdbOption.NAME, GdbOption.class,
                ConsoleOption.NAME, ConsoleOption.class, JsonOption.NAME, JsonOption.class);
        int seen = 0;
        List<CommandSpec> all = new ArrayList<>(specs(cli()));
        all.addAll(specs(shell()));
        for (CommandSpec spec : all) {
            for (OptionSpec o : spec.options()) {
                for (String name : o.names()) {
                    Class<?> mixin = declaredIn.get(name);
                    if (mixin != null) {
                        seen++;
                        assertTrue(o.userObject() instanceof Field f && f.getDeclaringClass() == mixin,
                                name + " of '" + spec.qualifiedName() + "' is declared by " + o.userObject() + ", not by " + mixin);
                    }
                }
            }
        }
        assertTrue(seen > 40, "the trees use these options " + seen + " times");
    }

    @Test
    void theShellHasNoOptionSayingWhereTheGuestIs() {
        for (CommandSpec spec : specs(shell())) {
            for (String name : List.of(QmpOption.NAME, GdbOption.NAME, ConsoleOption.NAME, "--backend")) {
                assertEquals(null, spec.findOption(name), spec.name() + " in the shell offers " + name);
            }
        }
        CommandSpec watch = cli().getSubcommands().get("watch").getCommandSpec();
        assertTrue(watch.findOption(QmpOption.NAME).required(), "the CLI's watch still requires --qmp");
    }
}
