package dev.tickwatch.shell;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.lab.Lab;
import dev.tickwatch.lab.LabCheck;
import dev.tickwatch.lab.LabMode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar ({@code mvn package} builds it before failsafe runs, in the verify phase) in a
 * real terminal: tmux gives it a pty, so JLine takes its system-terminal path (raw mode, signals),
 * which the dumb terminal of {@link ShellIT} never does.
 */
class ShellTmuxIT {

    private static final Duration STEP = Duration.ofSeconds(90);

    @TempDir
    Path work;

    private static Path jar() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            List<Path> jars = files.filter(p -> p.getFileName().toString().matches("tickwatch-.*-all\\.jar")).toList();
            if (jars.isEmpty()) {
                fail("target/tickwatch-*-all.jar is missing: run 'mvn package' (or 'mvn verify', which packages first)");
            }
            return jars.get(0).toAbsolutePath();
        }
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + String.join(" ", command));
        }
        if (p.exitValue() != 0) {
            fail(String.join(" ", command) + " exited " + p.exitValue() + ": " + out);
        }
        return out;
    }

    @Test
    void theRealJarInARealTerminal() throws Exception {
        Path jar = jar();
        try {
            run("tmux", "-V");
        } catch (IOException e) {
            fail("tmux is not installed: run bin/setup (it installs tmux)");
        }
        String server = "tickwatch-shell-it-" + ProcessHandle.current().pid();
        String java = ProcessHandle.current().info().command().orElse("java");
        Path exitCode = work.resolve("exit-code");
        try (QemuVm vm = QemuVm.start(Lab.config(LabMode.TIMER_STALL_LOST, work.resolve("vm"), true, List.of())
                .userMonitor(true).build())) {
            assertTrue(LabCheck.await(vm, LabMode.TIMER_STALL_LOST, Duration.ofSeconds(120)).reached(), "lab state reached");
            String shell = java + " -jar " + jar + " attach --qmp " + vm.userQmpEndpoint() + " --gdb " + vm.gdbEndpoint()
                    + " --history " + work.resolve("history") + "; echo $? > " + exitCode + "; sleep 600";
            List<String> start = new ArrayList<>(List.of("tmux", "-L", server, "new-session", "-d", "-s", "shell",
                    "-x", "200", "-y", "50", shell));
            run(start.toArray(String[]::new));
            try {
                awaitPane(server, t -> t.contains("tickwatch [running]> "));
                run("tmux", "-L", server, "send-keys", "-t", "shell", "cpus", "Enter");
                Pattern idle = Pattern.compile("(?m)^CPU\\d RIP .* IF=1 HLT=1");
                String pane = awaitPane(server, t -> idle.matcher(t).results().count() == 2);
                assertEquals(2, idle.matcher(pane).results().count(), pane);

                run("tmux", "-L", server, "send-keys", "-t", "shell", "verdict", "Enter");
                pane = awaitPane(server, t -> t.contains("TIMER_STALL"));
                assertTrue(pane.contains("TIMER_STALL lost-timer"), pane);

                // The verdict just reached shows in status, with the vCPUs and the memory backend.
                run("tmux", "-L", server, "send-keys", "-t", "shell", "status", "Enter");
                pane = awaitPane(server, t -> t.contains("memory: "));
                assertTrue(pane.contains("verdict: ") && pane.contains("TIMER_STALL") && pane.contains("vCPUs: 2"), pane);

                // A real terminal pages long output by default; q ends it and the prompt comes back.
                run("tmux", "-L", server, "send-keys", "-t", "shell", "symbols --prefix t", "Enter");
                pane = awaitPane(server, t -> t.contains("--More--"));
                run("tmux", "-L", server, "send-keys", "-t", "shell", "q");
                pane = awaitPane(server, t -> t.strip().endsWith("tickwatch [running]>"));
                run("tmux", "-L", server, "send-keys", "-t", "shell", "cpus | grep -c HLT=1", "Enter");
                Pattern two = Pattern.compile("(?m)^2\\s*$");
                pane = awaitPane(server, t -> two.matcher(t).find());
                assertTrue(two.matcher(pane).find(), pane);

                run("tmux", "-L", server, "send-keys", "-t", "shell", "exit", "Enter");
                await().atMost(STEP).pollInterval(Duration.ofMillis(200)).until(() -> Files.exists(exitCode)
                        && !Files.readString(exitCode).isBlank());
                assertEquals("0", Files.readString(exitCode).strip(), pane(server));
                assertTrue(vm.qmp().queryStatus().running(), "the guest runs after exit");
            } finally {
                try {
                    run("tmux", "-L", server, "kill-server");
                } catch (AssertionError e) {
                    // Already gone.
                }
            }
        }
    }

    private static String pane(String server) throws IOException, InterruptedException {
        return run("tmux", "-L", server, "capture-pane", "-p", "-J", "-S", "-500", "-t", "shell");
    }

    private static String awaitPane(String server, java.util.function.Predicate<String> p) {
        String[] last = {""};
        await().atMost(STEP).pollInterval(Duration.ofMillis(250)).until(() -> {
            last[0] = pane(server);
            return p.test(last[0]);
        });
        return last[0];
    }
}
