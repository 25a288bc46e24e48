package dev.tickwatch.verdict;

import java.time.Duration;

/**
 * How long a state must hold before it becomes a verdict. Defaults decide TIMER_STALL and
 * SPIN_LOCKUP within 3 s of onset at the default sampling rate, SLEEP_DEADLOCK at 30 s of D state.
 *
 * @param stall         jiffies frozen with every vCPU idle this long: TIMER_STALL
 * @param spin          a vCPU in the kernel, not halted, interrupts off, this long: SPIN_LOCKUP
 * @param softLockup    a vCPU busy in the kernel on one task, interrupts on, this long: SOFT_LOCKUP
 * @param sleepDeadlock tasks in D state this long with no boot progress: SLEEP_DEADLOCK
 * @param firmware      no kernel RIP and no kernel banner this long: FIRMWARE_STUCK
 * @param overdueMargin a timer counts as overdue when its expiry is this far in the past
 */
public record Thresholds(Duration stall, Duration spin, Duration softLockup, Duration sleepDeadlock,
        Duration firmware, Duration overdueMargin) {

    public static final Duration DEFAULT_STALL = Duration.ofMillis(2000);
    public static final Duration DEFAULT_SPIN = Duration.ofMillis(2000);
    public static final Duration DEFAULT_SOFT_LOCKUP = Duration.ofSeconds(8);
    public static final Duration DEFAULT_SLEEP_DEADLOCK = Duration.ofSeconds(30);
    public static final Duration DEFAULT_FIRMWARE = Duration.ofSeconds(30);
    public static final Duration DEFAULT_OVERDUE_MARGIN = Duration.ofMillis(500);

    public Thresholds {
        for (Duration d : new Duration[] {stall, spin, softLockup, sleepDeadlock, firmware, overdueMargin}) {
            if (d == null || d.isNegative()) {
                throw new IllegalArgumentException("thresholds must be non-negative durations");
            }
        }
    }

    public static Thresholds defaults() {
        return new Thresholds(DEFAULT_STALL, DEFAULT_SPIN, DEFAULT_SOFT_LOCKUP, DEFAULT_SLEEP_DEADLOCK, DEFAULT_FIRMWARE,
                DEFAULT_OVERDUE_MARGIN);
    }

    public Thresholds withStall(Duration d) {
        return new Thresholds(d, spin, softLockup, sleepDeadlock, firmware, overdueMargin);
    }

    public Thresholds withSpin(Duration d) {
        return new Thresholds(stall, d, softLockup, sleepDeadlock, firmware, overdueMargin);
    }

    public Thresholds withSoftLockup(Duration d) {
        return new Thresholds(stall, spin, d, sleepDeadlock, firmware, overdueMargin);
    }

    public Thresholds withSleepDeadlock(Duration d) {
        return new Thresholds(stall, spin, softLockup, d, firmware, overdueMargin);
    }

    public Thresholds withFirmware(Duration d) {
        return new Thresholds(stall, spin, softLockup, sleepDeadlock, d, overdueMargin);
    }
}
