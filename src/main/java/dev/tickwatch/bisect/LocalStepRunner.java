package dev.tickwatch.bisect;

import dev.tickwatch.TickwatchException;
import dev.tickwatch.boot.loop.BootListener;
import dev.tickwatch.boot.loop.BootLoop;
import dev.tickwatch.boot.loop.BootOutcome;
import dev.tickwatch.boot.loop.BootRecord;
import dev.tickwatch.boot.loop.BootWatchers;
import dev.tickwatch.boot.loop.LoopOptions;
import dev.tickwatch.boot.loop.LoopResult;
import dev.tickwatch.boot.loop.ResultsFile;
import dev.tickwatch.boot.loop.Shard;
import dev.tickwatch.boot.loop.SnapshotOnHang;
import dev.tickwatch.boot.loop.WatchOptions;
import dev.tickwatch.qemu.Accel;
import dev.tickwatch.qemu.QemuConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A batch on this machine: the boot-loop engine ({@link BootLoop}) with the default watcher and
 * a full snapshot of a hang into the revision's diagnostics folder; every boot also goes to
 * {@code boots.jsonl} there (the boot loop's results format, which {@code tickwatch merge} reads).
 */
public final class LocalStepRunner implements StepRunner {

    /** The results file in each revision's folder. */
    public static final String RESULTS = "boots.jsonl";

    private final BootSettings settings;
    private final BootListener listener;

    /** @param listener hears every boot (progress), or null */
    public LocalStepRunner(BootSettings settings, BootListener listener) {
        this.settings = settings;
        this.listener = listener;
    }

    @Override
    public String name() {
        return "local";
    }

    @Override
    public LoopResult run(BootPlan plan) throws InterruptedException {
        QemuConfig.Builder b = QemuConfig.builder().kernel(plan.kernel()).initrd(plan.initrd());
        if (settings.append() != null) {
            b.append(settings.append());
        }
        QemuConfig config = b.smp(settings.smp()).memoryMiB(settings.memoryMiB()).accel(Accel.TCG)
                .extraArgs(settings.qemuArgs()).build();
        LoopOptions options = LoopOptions.builder().config(config).boots(plan.boots()).parallel(settings.parallel())
                .shard(Shard.WHOLE).jitter(settings.jitter()).seed(plan.seed()).keepGoing(plan.keepGoing())
                .load(settings.load()).build();
        WatchOptions watch = WatchOptions.builder()
                .success(settings.success() == null ? WatchOptions.DEFAULT_SUCCESS
                        : Pattern.compile(settings.success(), Pattern.MULTILINE))
                .stall(Duration.ofMillis((long) (settings.consoleSilenceS() * 1000)))
                .timeout(Duration.ofMillis((long) (settings.timeoutS() * 1000)))
                .kernelFiles(plan.kernelFiles()).build();
        try {
            Files.createDirectories(plan.diagnostics());
        } catch (IOException e) {
            throw new BisectException("cannot create " + plan.diagnostics() + ": " + e.getMessage(), e);
        }
        try (ResultsFile rf = ResultsFile.open(plan.diagnostics().resolve(RESULTS))) {
            BootListener l = listener == null ? rf : BootListener.all(rf, listener);
            BootLoop loop = new BootLoop(options, BootWatchers.create(watch),
                    new SnapshotOnHang(plan.hangs(), settings.vmcore(), plan.kernelFiles()), l);
            return loop.run();
        } catch (TickwatchException e) {
            // The engine could not start a boot at all: a cannot-test batch, not a crash of the bisection.
            BootOutcome o = BootOutcome.cannotTest("BOOT_LOOP", e.getMessage());
            long now = System.currentTimeMillis();
            return LoopResult.of(List.of(new BootRecord(Shard.WHOLE, plan.boots(), 0, 0, plan.seed(), settings.smp(), null,
                    o, now, now, null)), plan.boots());
        }
    }

    static Path results(Path diagnostics) {
        return diagnostics.resolve(RESULTS);
    }
}
