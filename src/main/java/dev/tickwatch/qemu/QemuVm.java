package dev.tickwatch.qemu;

import dev.tickwatch.ConnectionException;
import dev.tickwatch.QemuException;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.net.Endpoint;
import dev.tickwatch.probe.Console;
import dev.tickwatch.probe.ConsoleMarkers;
import dev.tickwatch.qmp.QmpClient;
import dev.tickwatch.qmp.QmpOptions;
import dev.tickwatch.util.FileTrees;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One running QEMU, in a private temp folder that holds its QMP socket, its gdbstub socket,
 * its console log and QEMU's own stderr. {@link #start} returns once QMP answers;
 * {@link #close} ends QEMU (QMP {@code quit}, then SIGTERM, then SIGKILL), reaps it and deletes
 * the folder. A JVM shutdown hook does the same for every VM still open, so Ctrl-C or an
 * uncaught exception leaves no QEMU and no socket behind. When QEMU exits before QMP is ready
 * (a kernel it rejects, a bad option), {@link QemuStartException} carries its exit status and
 * last stderr lines, read before the folder goes: the socket it never served is not the news.
 */
public final class QemuVm implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(QemuVm.class.getName());
    private static final Set<QemuVm> LIVE = ConcurrentHashMap.newKeySet();
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration QUIT_GRACE = Duration.ofSeconds(3);
    /** A QEMU that closed its QMP socket is on its way out; this long to learn its status and last words. */
    private static final Duration EXIT_GRACE = Duration.ofSeconds(2);
    /** QEMU's last lines that a start-up failure carries. */
    static final int LAST_LINES = 5;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (QemuVm vm : List.copyOf(LIVE)) {
                vm.close();
            }
        }, "tickwatch-qemu-reaper"));
    }

    private final QemuConfig config;
    private final Path dir;
    private final List<String> command;
    private final Process process;
    private final Console console;
    private final Accel accel;
    private volatile QmpClient qmp;
    private volatile boolean closed;

    private QemuVm(QemuConfig config, Accel accel, Path dir, List<String> command, Process process) {
        this.config = config;
        this.accel = accel;
        this.dir = dir;
        this.command = List.copyOf(command);
        this.process = process;
        this.console = new Console(dir.resolve("console.log"));
    }

    /**
     * Starts QEMU and connects to its QMP socket.
     *
     * @throws QemuStartException when QEMU exits before QMP is ready: its status and last stderr lines
     * @throws QemuException      when QEMU is missing or QMP never answers; the message carries
     *                            QEMU's last stderr lines
     */
    public static QemuVm start(QemuConfig config) {
        return start(config, QmpOptions.defaults());
    }

    public static QemuVm start(QemuConfig config, QmpOptions qmpOptions) {
        if (config.vmcoreinfo() && !QemuDevices.has(config.binary(), QemuDevices.VMCOREINFO)) {
            config = config.toBuilder().vmcoreinfo(false).build();
        }
        Accel accel = Accelerators.resolve(config);
        Path dir;
        try {
            dir = Files.createTempDirectory("tickwatch-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new QemuException("cannot create a temp folder for QEMU: " + e.getMessage(), e);
        }
        List<String> cmd = commandLine(config, accel, dir);
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("qemu.log").toFile()).start();
        } catch (IOException e) {
            deleteTree(dir);
            throw new QemuException("cannot start " + config.binary() + ": " + whyNotStarted(e)
                    + (config.binary().equals(QemuConfig.DEFAULT_BINARY) ? "; " + KernelCache.FIX : ""), e);
        }
        QemuVm vm = new QemuVm(config, accel, dir, cmd, p);
        LIVE.add(vm);
        try {
            vm.awaitSocket(vm.qmpEndpoint().path(), READY_TIMEOUT);
            vm.qmp = vm.connectQmp(qmpOptions);
            return vm;
        } catch (RuntimeException e) {
            RuntimeException failure = vm.startFailure(e);
            // After reading QEMU's words: closing deletes the folder with its log.
            vm.close();
            throw failure;
        }
    }

    /**
     * What to throw when start-up failed with {@code e}: QEMU's own exit status and words when it
     * has exited (a closed QMP socket means it is exiting: it gets a moment), else {@code e}
     * with QEMU's last lines added.
     */
    private RuntimeException startFailure(RuntimeException e) {
        if (e instanceof QemuStartException) {
            return e;
        }
        if (process.isAlive() && e instanceof ConnectionException) {
            waitForExit(EXIT_GRACE);
        }
        if (!process.isAlive()) {
            return exitedEarly();
        }
        List<String> said = lastLines(qemuLog(), LAST_LINES);
        String more = said.isEmpty() ? "" : "; QEMU said: " + String.join(" / ", said);
        if (e instanceof QemuException) {
            return new QemuException(e.getMessage() + more, e);
        }
        return new QemuException("QEMU did not become ready: " + e.getMessage() + more, e);
    }

    private QemuStartException exitedEarly() {
        return new QemuStartException(process.exitValue(), lastLines(qemuLog(), LAST_LINES));
    }

    /** Java's "Cannot run program ...: error=2, No such file or directory" in words. */
    private static String whyNotStarted(IOException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("error=2,")) {
            return "not found";
        }
        if (m.contains("error=13,")) {
            return "permission denied (not executable?)";
        }
        return m.replaceFirst("^Cannot run program \"[^\"]*\"(: )?", "");
    }

    /** The last {@code n} non-blank lines of {@code log}, stripped, oldest first. */
    static List<String> lastLines(String log, int n) {
        List<String> lines = log.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        return lines.subList(Math.max(0, lines.size() - n), lines.size());
    }

    /**
     * Connects to the QMP socket. QEMU creates the socket file (bind, which wakes inotify) a moment
     * before it listens; a connect in between is refused. Seen about once in 30 boots on a loaded
     * host, so a refused connect is retried (5 ms, doubling to 100 ms) while QEMU lives, within
     * the ready timeout: a bounded retry of a known race, not a poll for readiness.
     */
    private QmpClient connectQmp(QmpOptions qmpOptions) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        long backoffMs = 5;
        while (true) {
            try {
                return QmpClient.connect(qmpEndpoint(), qmpOptions);
            } catch (ConnectionException e) {
                if (!process.isAlive() || System.nanoTime() - deadline >= 0) {
                    throw e;
                }
                LOG.log(System.Logger.Level.DEBUG, "QMP connect refused, retrying: {0}", e.getMessage());
            }
            try {
                Thread.sleep(backoffMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new QemuException("interrupted while connecting to QEMU", e);
            }
            backoffMs = Math.min(100, backoffMs * 2);
        }
    }

    /** The full QEMU command line for {@code config}, sockets and logs in {@code dir}. */
    public static List<String> commandLine(QemuConfig config, Accel accel, Path dir) {
        List<String> c = new ArrayList<>();
        c.add(config.binary());
        c.addAll(List.of("-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"));
        c.addAll(List.of("-accel", accel.qemuName()));
        if (config.cpu() != null) {
            c.addAll(List.of("-cpu", config.cpu()));
        }
        c.addAll(List.of("-smp", Integer.toString(config.smp()), "-m", config.memoryMiB() + "M"));
        c.addAll(List.of("-kernel", config.kernel().toString()));
        if (config.initrd() != null) {
            c.addAll(List.of("-initrd", config.initrd().toString()));
        }
        c.addAll(List.of("-append", config.append()));
        c.addAll(List.of("-chardev", "file,id=console0,path=" + dir.resolve("console.log"),
                "-serial", "chardev:console0"));
        c.addAll(List.of("-qmp", "unix:" + dir.resolve("qmp.sock") + ",server=on,wait=off"));
        if (config.userMonitor()) {
            c.addAll(List.of("-qmp", "unix:" + dir.resolve("qmp-user.sock") + ",server=on,wait=off"));
        }
        if (config.gdbstub()) {
            c.addAll(List.of("-chardev", "socket,id=gdb0,path=" + dir.resolve("gdb.sock") + ",server=on,wait=off",
                    "-gdb", "chardev:gdb0"));
        }
        if (config.vmcoreinfo() && config.extraArgs().stream().noneMatch(a -> a.contains(QemuDevices.VMCOREINFO))) {
            // QEMU allows one vmcoreinfo device: the caller's own wins.
            c.addAll(List.of("-device", QemuDevices.VMCOREINFO));
        }
        c.addAll(config.extraArgs());
        return c;
    }

    /** Waits for QEMU to create a socket, with inotify, not by polling; fails early if QEMU exits. */
    private void awaitSocket(Path socket, Duration timeout) {
        try (WatchService ws = FileSystems.getDefault().newWatchService()) {
            dir.register(ws, StandardWatchEventKinds.ENTRY_CREATE);
            // Closing the watch service wakes the wait below when QEMU dies first.
            process.onExit().thenRun(() -> {
                try {
                    ws.close();
                } catch (IOException ignored) {
                    // nothing to do: the wait sees the process gone
                }
            });
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!Files.exists(socket)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new QemuException("QEMU did not create " + socket.getFileName() + " within "
                            + timeout.toSeconds() + " s");
                }
                WatchKey key;
                try {
                    key = ws.poll(left, TimeUnit.NANOSECONDS);
                } catch (ClosedWatchServiceException e) {
                    key = null;
                }
                if (!process.isAlive()) {
                    throw exitedEarly();
                }
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
        } catch (IOException e) {
            throw new QemuException("cannot watch " + dir + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QemuException("interrupted while starting QEMU", e);
        } catch (ClosedWatchServiceException e) {
            waitForExit(EXIT_GRACE);
            if (!process.isAlive()) {
                throw exitedEarly();
            }
            throw new QemuException("QEMU's start-up watch closed while QEMU still runs");
        }
    }

    public QemuConfig config() {
        return config;
    }

    /** The accelerator actually used ({@link Accel#AUTO} resolved). */
    public Accel accel() {
        return accel;
    }

    /** The exact command line QEMU was started with. */
    public List<String> command() {
        return command;
    }

    public Process process() {
        return process;
    }

    public long pid() {
        return process.pid();
    }

    public Path dir() {
        return dir;
    }

    public Endpoint.Unix qmpEndpoint() {
        return new Endpoint.Unix(dir.resolve("qmp.sock"));
    }

    /** The second QMP socket, for other tools; only with {@link QemuConfig#userMonitor()}. */
    public Endpoint.Unix userQmpEndpoint() {
        if (!config.userMonitor()) {
            throw new TickwatchException("this VM was started without a user QMP monitor");
        }
        return new Endpoint.Unix(dir.resolve("qmp-user.sock"));
    }

    /** The gdbstub's socket; connecting to it pauses the VM until the client detaches. */
    public Endpoint.Unix gdbEndpoint() {
        if (!config.gdbstub()) {
            throw new TickwatchException("this VM was started without a gdbstub");
        }
        return new Endpoint.Unix(dir.resolve("gdb.sock"));
    }

    /** The QMP client the launcher connected. QEMU serves one client per monitor at a time. */
    public QmpClient qmp() {
        return qmp;
    }

    public Console console() {
        return console;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** QEMU's own stderr and stdout so far (errors about arguments, warnings). */
    public String qemuLog() {
        try {
            Path log = dir.resolve("qemu.log");
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** Waits for QEMU to exit by itself (e.g. after the guest powered off); true if it did. */
    public boolean waitForExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Ends QEMU if it still runs, reaps it and deletes the folder. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            QmpClient q = qmp;
            if (process.isAlive() && poweredOff()) {
                // After the guest's power-off line QEMU 7.2 may hang on its way out, and a command
                // sent then can be what hangs it (FINDINGS): send nothing, give it a moment to exit
                // by itself, then end it as kill() does. A shutdown hook (Ctrl-C, or scancel's
                // SIGTERM with SIGKILL 5 s later) must not spend 6 s on a quit that gets no reply.
                if (!waitForExit(EXIT_GRACE)) {
                    process.destroyForcibly();
                    waitForExit(Duration.ofSeconds(10));
                }
            }
            if (process.isAlive() && q != null && q.isOpen()) {
                try {
                    q.quit();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.DEBUG, "quit failed: {0}", e.getMessage());
                }
                waitForExit(QUIT_GRACE);
            }
            if (q != null) {
                q.close();
            }
            if (process.isAlive()) {
                process.destroy();
                waitForExit(QUIT_GRACE);
            }
            if (process.isAlive()) {
                process.destroyForcibly();
                waitForExit(Duration.ofSeconds(10));
            }
        } finally {
            deleteTree(dir);
            LIVE.remove(this);
        }
    }

    /**
     * Ends QEMU at once with SIGKILL, reaps it and deletes the folder: for a QEMU that no longer
     * answers (it hung on its way out after the guest powered off), where {@link #close}'s polite
     * QMP {@code quit} would only wait for a reply that never comes. Idempotent.
     */
    public synchronized void kill() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            process.destroyForcibly();
            waitForExit(Duration.ofSeconds(10));
            QmpClient q = qmp;
            if (q != null) {
                q.close();
            }
        } finally {
            deleteTree(dir);
            LIVE.remove(this);
        }
    }

    /** Whether the guest printed the kernel's power-off line: from then on QEMU is sent nothing. */
    private boolean poweredOff() {
        try {
            return console.text().contains(ConsoleMarkers.POWER_DOWN);
        } catch (RuntimeException e) {
            return false;
        }
    }

    static void deleteTree(Path dir) {
        try {
            FileTrees.deleteTree(dir);
        } catch (java.io.UncheckedIOException e) {
            LOG.log(System.Logger.Level.WARNING, e.getMessage());
        }
    }
}
