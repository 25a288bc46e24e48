package dev.tickwatch.cli;

import dev.tickwatch.command.ExitCode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Usage errors exit 128 (so 'git bisect run' stops instead of deciding), before any QEMU starts. */
class BootLoopCommandTest {

    private static void usage(String expected, String... args) {
        QmpCommandTest.Result r = QmpCommandTest.run(args);
        assertEquals(ExitCode.USAGE, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertEquals("", r.out());
    }

    @Test
    void badOptionsAreUsageErrors() {
        usage("shard: 2/2 (expected: 0 <= I < N)", "boot-loop", "--shard", "2/2");
        usage("unknown lab mode 'nope'", "boot-loop", "--lab-mode", "nope", "--lab-at", "1");
        usage("--lab-mode and --lab-at go together", "boot-loop", "--lab-mode", "panic");
        usage("--lab-at: 9 (expected: 0 <= K < boots)", "boot-loop", "--boots", "4", "--lab-mode", "panic", "--lab-at", "9");
        usage("parallel: 0 (expected: 1-256)", "boot-loop", "--parallel", "0");
        usage("boots: 0 (expected: >= 1)", "boot-loop", "--boots", "0");
        usage("timeout: 5 s (expected: >= console silence, 60 s)", "boot-loop", "--timeout", "5");
        usage("Unclosed group", "boot-loop", "--success", "(x");
        usage("--initrd needs --kernel", "boot-loop", "--initrd", "/x");
        usage("--target-rate: 2.0", "boot-loop", "--target-rate", "2");
        usage("Unknown option: '--nope'", "boot-loop", "--nope");
        usage("Missing required subcommand", "bench");
    }

    @Test
    void helpNamesTheExitCodes() {
        QmpCommandTest.Result r = QmpCommandTest.run("boot-loop", "--help");
        assertEquals(0, r.code());
        String help = r.out().replaceAll("\\s+", " ");
        assertTrue(help.contains("0 test ok; 1 a boot hung; 125 could not test"), r.out());
        assertTrue(help.contains("-n, --boots=N") && help.contains("-j, --parallel=T"), r.out());
        assertTrue(help.contains("--console-silence=S") && !help.contains("--stall"), r.out());
        assertTrue(!r.out().contains("--lab-mode"), "the lab options are hidden");
        QmpCommandTest.Result d = QmpCommandTest.run("demo", "--help");
        assertTrue(d.out().replaceAll("\\s+", " ").contains("Exit code as boot-loop: 1 when the injected hang is found"), d.out());
    }

    @Test
    void theOldStallNameStillWorksWithANotice() {
        // --stall meant console silence here but the TIMER_STALL threshold in watch: the old name is an alias now.
        QmpCommandTest.Result r = QmpCommandTest.run("boot-loop", "--stall", "30", "--timeout", "5");
        assertEquals(ExitCode.USAGE, r.code(), r.err());
        assertTrue(r.err().contains("--stall is deprecated here: it is --console-silence"), r.err());
        assertTrue(r.err().contains("timeout: 5 s (expected: >= console silence, 30 s)"), r.err());
        QmpCommandTest.Result n = QmpCommandTest.run("boot-loop", "--console-silence", "30", "--timeout", "5");
        assertTrue(n.err().contains("(expected: >= console silence, 30 s)") && !n.err().contains("deprecated"), n.err());
    }

    @Test
    void shortOptionsForBootsAndParallel() {
        usage("boots: 0 (expected: >= 1)", "boot-loop", "-n", "0");
        usage("parallel: 0 (expected: 1-256)", "boot-loop", "-j", "0");
    }
}
