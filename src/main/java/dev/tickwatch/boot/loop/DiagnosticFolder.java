package dev.tickwatch.boot.loop;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.TickwatchException;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The hang handler used until snapshots (issue 7) land: copies what the host already has into
 * {@code ROOT/boot-NNNNNN-VERDICT/}: the whole console ({@code console.log}), the evidence
 * ({@code evidence.txt}), the outcome as JSON ({@code outcome.json}), QEMU's command line and
 * its own log. Reads nothing from the guest, so it cannot disturb it.
 */
public final class DiagnosticFolder implements HangHandler {

    private final Path root;

    /** @param root the folder under which each hang gets its own folder (created if needed) */
    public DiagnosticFolder(Path root) {
        this.root = root;
    }

    @Override
    public Path onHang(QemuVm vm, BootSpec spec, BootOutcome outcome) {
        Path dir = root.resolve(String.format(Locale.ROOT, "boot-%06d-%s", spec.boot(),
                outcome.verdict() == null ? "unknown" : outcome.verdict().toLowerCase(Locale.ROOT)));
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("console.log"), vm.console().text());
            Files.writeString(dir.resolve("evidence.txt"), outcome.verdict() + (outcome.flavour() == null ? ""
                    : " (" + outcome.flavour() + ")") + "\n" + String.join("\n", outcome.evidence()) + "\n");
            Files.writeString(dir.resolve("qemu-command.txt"), String.join(" ", vm.command()) + "\n");
            Files.writeString(dir.resolve("qemu.log"), vm.qemuLog());
            ObjectNode o = Json.object().put("boot", spec.boot()).put("worker", spec.worker())
                    .put("seed", Json.hex(spec.seed())).put("smp", spec.config().smp())
                    .put("lab_mode", spec.labMode()).put("outcome", outcome.kind().name())
                    .put("verdict", outcome.verdict()).put("flavour", outcome.flavour())
                    .put("detect_s", BootRecord.round3(outcome.detectS())).put("qemu_pid", vm.pid())
                    .put("qemu_alive", vm.isAlive());
            ArrayNode ev = o.putArray("evidence");
            outcome.evidence().forEach(ev::add);
            Files.writeString(dir.resolve("outcome.json"), Json.pretty(o) + "\n");
            return dir;
        } catch (IOException e) {
            throw new TickwatchException("cannot write diagnostics to " + dir + ": " + e.getMessage(), e);
        }
    }
}
