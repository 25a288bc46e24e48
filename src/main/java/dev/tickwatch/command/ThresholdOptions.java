package dev.tickwatch.command;

import dev.tickwatch.verdict.Thresholds;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The judge's thresholds as options ({@code --stall}, {@code --spin}, ...), declared here only. */
public final class ThresholdOptions {

    @Option(names = "--stall", defaultValue = "2", paramLabel = "S", description = "TIMER_STALL after S s (default: ${DEFAULT-VALUE})")
    double stallS;

    @Option(names = "--spin", defaultValue = "2", paramLabel = "S", description = "SPIN_LOCKUP after S s (default: ${DEFAULT-VALUE})")
    double spinS;

    @Option(names = "--soft-lockup", defaultValue = "8", paramLabel = "S",
            description = "SOFT_LOCKUP after S s (default: ${DEFAULT-VALUE})")
    double softS;

    @Option(names = "--sleep-deadlock", defaultValue = "30", paramLabel = "S",
            description = "SLEEP_DEADLOCK after S s in D state (default: ${DEFAULT-VALUE})")
    double sleepS;

    @Option(names = "--firmware", defaultValue = "30", paramLabel = "S",
            description = "FIRMWARE_STUCK after S s without a kernel (default: ${DEFAULT-VALUE})")
    double firmwareS;

    public Thresholds thresholds() {
        return new Thresholds(seconds(stallS), seconds(spinS), seconds(softS), seconds(sleepS), seconds(firmwareS),
                Thresholds.DEFAULT_OVERDUE_MARGIN);
    }

    private static Duration seconds(double s) {
        return Duration.ofMillis(Math.round(s * 1000));
    }
}
