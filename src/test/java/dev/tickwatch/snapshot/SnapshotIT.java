package dev.tickwatch.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.cli.Main;
import dev.tickwatch.lab.Lab;
import dev.tickwatch.lab.LabMode;
import dev.tickwatch.watch.Watch;
import dev.tickwatch.probe.Probe;
import dev.tickwatch.probe.ProbeOptions;
import dev.tickwatch.util.FileTrees;
import dev.tickwatch.util.Json;
import dev.tickwatch.verdict.Decision;
import dev.tickwatch.verdict.Verdict;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Snapshots of real hung lab guests (KASLR on): the JSON validates against the published schema,
 * the gdbstub's registers equal HMP's from the same pause, a spinning CPU's stack names the lock
 * slow path, the guest runs afterwards, and a vmcore's kdump header parses. With
 * {@code -Dtickwatch.snapshot.samples=DIR} the vmcore-less bundles are copied there.
 */
class SnapshotIT {

    @TempDir
    Path work;

    @ParameterizedTest(name = "{0}")
    @CsvSource({"TIMER_STALL_LOST, TIMER_STALL, true", "SPIN_DEADLOCK, SPIN_LOCKUP, false"})
    void snapshotOfAHungLabGuest(LabMode mode, Verdict expected, boolean vmcore) throws Exception {
        Path out = work.resolve("snapshots");
        try (QemuVm vm = QemuVm.start(Lab.config(mode, work, true, List.of()).userMonitor(true).build());
                Watch watch = new Watch(new Probe(vm.qmp(), vm.console(), ProbeOptions.defaults()), Watch.Options.defaults())) {
            CompletableFuture<Decision> hang = new CompletableFuture<>();
            watch.onChange(d -> {
                // The judge is not under test here (VerdictIT is): wait for the state the lab induces,
                // and tell about any other hang verdict on the way (seen once: SPIN_LOCKUP during a loaded boot).
                if (d.verdict() == expected) {
                    hang.complete(d);
                } else if (d.verdict().isHang()) {
                    System.out.println(mode + ": passing verdict " + d.verdict() + " " + d.evidence());
                }
            }).start();
            assertTrue(vm.console().await(t -> t.contains(Lab.INSMOD_MARKER), Duration.ofSeconds(60)), "lab module loaded");
            Decision d = hang.get(60, TimeUnit.SECONDS);
            assertEquals(expected, d.verdict());

            SnapshotRequest.Environment env = new SnapshotRequest.Environment(vm.command(), vm.accel().qemuName(), mode.label());
            Snapshot.Result r = Snapshot.capture(SnapshotRequest.builder(vm.qmp(), out).gdb(vm.gdbEndpoint())
                    .console(vm.console()).kernel(watch.probe().kernel()).watched(watch.history(), d)
                    .environment(env).name(mode.label()).build());
            System.out.printf(Locale.ROOT, "%s snapshot: %s %s%n", mode, r.timings(), r.snapshot().timingsMs());
            assertTrue(vm.qmp().queryStatus().running(), "the guest runs after the snapshot");

            JsonNode s = Json.MAPPER.readTree(Files.readString(r.bundle().resolve("snapshot.json")));
            JsonNode schema = Json.MAPPER.readTree(Files.readString(Path.of("protocols/snapshot/snapshot.schema.json")));
            assertEquals(List.of(), new SchemaSubset(schema).validate(s));
            assertEquals(Snapshot.SCHEMA, s.path("schema").asText());
            assertEquals(expected.name(), s.path("verdict").path("verdict").asText());
            assertEquals("gdbstub", s.path("registers_source").asText(), s.path("notes").toString());
            assertEquals(2, s.path("cpus").size());
            for (JsonNode c : s.path("cpus")) {
                JsonNode g = c.path("registers");
                JsonNode h = c.path("hmp");
                assertEquals(h.path("rip").asText(), g.path("rip").asText(), "RIP of CPU" + c.path("cpu"));
                assertEquals(h.path("rsp").asText(), g.path("rsp").asText(), "RSP of CPU" + c.path("cpu"));
                assertEquals(h.path("rflags").asText(), g.path("eflags").asText(), "RFLAGS of CPU" + c.path("cpu"));
                assertTrue(c.path("lapic").isObject(), "LAPIC of CPU" + c.path("cpu"));
            }
            if (mode == LabMode.SPIN_DEADLOCK) {
                for (JsonNode c : s.path("cpus")) {
                    StringBuilder where = new StringBuilder(c.path("rip_symbol").asText());
                    where.append(' ').append(stackNames(s, c));
                    assertTrue(where.toString().contains("spin_lock"), "CPU" + c.path("cpu") + " spins in a lock: " + where);
                    assertTrue(stackNames(s, c).contains("_raw_spin_lock+") && stackNames(s, c).contains("[tickwatch_lab]"),
                            "the call trace shows the lock taken by the lab module: " + stackNames(s, c));
                    assertFalse(c.path("if").asBoolean(), "spinning with interrupts off");
                }
            } else {
                for (JsonNode c : s.path("cpus")) {
                    assertTrue(c.path("hlt").asBoolean() && c.path("if").asBoolean(), "idle in HLT with IF=1: " + c);
                    assertTrue(stackNames(s, c).contains("do_idle+"), "the idle loop on the stack: " + stackNames(s, c));
                }
            }
            int unwound = 0;
            for (JsonNode t : s.path("traces")) {
                if (!t.path("cpu").isNull()) {
                    unwound++;
                    assertEquals("orc", t.path("method").asText(), t.toString());
                    assertTrue(t.path("complete").asBoolean(), "unwound to the end of the stack: " + t);
                }
            }
            assertEquals(2, unwound, "a call trace per CPU: " + s.path("traces"));
            assertTrue(s.path("timers").path("cpus").size() == 2, "timer view");
            assertTrue(s.path("tasks").size() > 10, "task list");
            assertTrue(s.path("samples").size() > 4, "the series leading up to it");
            assertTrue(s.path("environment").path("qemu_command").size() > 5);
            String report = Files.readString(r.bundle().resolve("report.txt"));
            // Prose within 80 columns; console and log lines and call-trace frames are quoted whole.
            List<String> wide = report.lines().filter(l -> l.length() > 80 && !l.startsWith("  [")
                    && !l.matches("\\s+(\\? )?\\S+\\+0x[0-9a-f]+/0x[0-9a-f]+.*")).toList();
            assertEquals(List.of(), wide, "80 columns");
            assertTrue(report.contains("tickwatch lab " + mode.label()), "reproduce section");
            // The lab's initrd lives in a temporary folder gone after the run: the bundle keeps a copy and
            // the command names it; the kernel (from tickwatch's cache) is named by its path.
            int initrds = 0;
            for (JsonNode f : s.path("environment").path("boot_files")) {
                if (f.path("option").asText().equals("-initrd")) {
                    assertEquals("bundle", f.path("kept").asText(), f.toString());
                    assertTrue(Files.isRegularFile(r.bundle().resolve(f.path("file").asText())), f.toString());
                    assertFalse(report.contains(" -initrd " + f.path("path").asText()), "the command names the copy");
                    initrds++;
                }
            }
            assertEquals(1, initrds, s.path("environment").toString());
            try (Stream<Path> files = Files.list(r.bundle())) {
                for (Path f : files.toList()) {
                    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
                }
            }
            String samples = System.getProperty("tickwatch.snapshot.samples");
            if (samples != null) {
                Path dest = Path.of(samples).resolve(mode.label());
                if (Files.exists(dest)) {
                    FileTrees.deleteTree(dest);
                }
                Files.createDirectories(dest);
                try (Stream<Path> files = Files.list(r.bundle())) {
                    for (Path f : files.toList()) {
                        Files.copy(f, dest.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
                    }
                }
            }

            if (!vmcore) {
                cliSnapshotAndReport(vm, mode);
            }

            if (vmcore) {
                Snapshot.Result rv = Snapshot.capture(SnapshotRequest.builder(vm.qmp(), out).gdb(vm.gdbEndpoint())
                        .console(vm.console()).kernel(watch.probe().kernel()).watched(watch.history(), d)
                        .environment(env).name(mode.label() + "-vmcore").vmcore(true).build());
                System.out.printf(Locale.ROOT, "%s snapshot with vmcore (%d MiB guest): %s %s%n", mode,
                        vm.config().memoryMiB(), rv.timings(), rv.snapshot().vmcore());
                assertTrue(vm.qmp().queryStatus().running(), "the guest runs after the dump");
                KdumpHeader h = KdumpHeader.read(rv.bundle().resolve("vmcore"));
                assertEquals(KdumpHeader.SIGNATURE, h.signature());
                assertEquals(4096, h.blockSize());
                assertEquals(2, h.nrCpus());
                assertEquals("x86_64", h.machine());
                assertTrue(h.notesLookValid(), "ELF notes where the sub-header says: " + h);
                // max_mapnr is the highest guest page frame + 1: the BIOS image mapped below 4 GiB counts.
                assertTrue(h.maxMapnr() >= vm.config().memoryMiB() * 256L, "covers every 4 KiB page of RAM: " + h);
                JsonNode sv = Json.MAPPER.readTree(Files.readString(rv.bundle().resolve("snapshot.json")));
                assertEquals(List.of(), new SchemaSubset(schema).validate(sv));
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(rv.bundle().resolve("vmcore"))));
                try (Stream<Path> files = Files.list(out)) {
                    assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith(".")), "no temp folder left");
                }
            }
        }
    }

    /** The same through the command line, on the second QMP monitor: a path printed, a report rebuilt. */
    private void cliSnapshotAndReport(QemuVm vm, LabMode mode) throws Exception {
        Path cliOut = work.resolve("cli");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), "snapshot", "--qmp", vm.userQmpEndpoint().toString(),
                "--gdb", vm.gdbEndpoint().toString(), "--console", vm.console().file().toString(),
                "--lab-mode", mode.label(), "--out", cliOut.toString());
        System.out.println("tickwatch snapshot: " + out + err);
        assertEquals(0, code, err.toString());
        Path bundle = Path.of(out.toString().strip());
        assertEquals(cliOut, bundle.getParent());
        assertTrue(Files.isRegularFile(bundle.resolve("snapshot.json")), out.toString());
        assertTrue(vm.qmp().queryStatus().running(), "the guest runs after the CLI snapshot");

        StringWriter report = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(report), new PrintWriter(err), "report", bundle.toString()));
        assertEquals(Files.readString(bundle.resolve("report.txt")), report.toString());
        StringWriter html = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(html), new PrintWriter(err), "report", bundle.toString(), "--format", "html"));
        assertTrue(html.toString().contains("<svg "));
    }

    /** The CPU's unwound frames (sym+off/size [module]) from traces, or its scan's '?' entries where none. */
    private static String stackNames(JsonNode s, JsonNode cpu) {
        StringBuilder b = new StringBuilder();
        for (JsonNode t : s.path("traces")) {
            if (t.path("cpu").asInt(-1) == cpu.path("cpu").asInt()) {
                t.path("frames").forEach(f -> b.append(f.path("symbol").asText()).append("+0x")
                        .append(Long.toHexString(f.path("offset").asLong())).append(f.has("module")
                                ? " [" + f.path("module").asText() + "]" : "").append(' '));
            }
        }
        cpu.path("stack").path("entries").forEach(e -> b.append("? ").append(e.path("symbol").asText()).append(' '));
        return b.toString();
    }
}
