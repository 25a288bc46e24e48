package dev.tickwatch.probe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** schedstat read in place from a file kept open, as the split-and-parse it replaced read it. */
class SchedStatsTest {

    /** What the probe did before: readString, strip, split on whitespace, parseLong. */
    private static long[] reference(String text) {
        try {
            String[] f = text.strip().split("\\s+");
            return new long[] {Long.parseLong(f[0]), f.length > 1 ? Long.parseLong(f[1]) : -1};
        } catch (NumberFormatException e) {
            return new long[] {-1, -1};
        }
    }

    @Test
    void parsesAsTheSplitDid() {
        for (String t : new String[] {"1234 567 89\n", "1234\n", "", "\n", "  12  34 ", "x 1 2", "1 y 2", "-5 6 7",
            "12345678901234567890 1 1", "9223372036854775807 1 1", "1234567890123456789 22 1", "1\t2\t3"}) {
            byte[] b = t.getBytes(StandardCharsets.ISO_8859_1);
            assertArrayEquals(reference(t), SchedStats.parse(b, b.length), "on '" + t + "'");
        }
    }

    @Test
    void readsThisThreadAgainAndAgainFromOneOpenFile() throws Exception {
        // /proc/thread-self -> PID/task/TID
        String self = Files.readSymbolicLink(Path.of("/proc/thread-self")).toString();
        long tid = Long.parseLong(self.substring(self.lastIndexOf('/') + 1));
        try (SchedStats s = new SchedStats()) {
            long[] first = s.read(tid).clone();
            long spin = 0;
            long until = System.nanoTime() + 20_000_000L;
            while (System.nanoTime() < until) {
                spin += System.nanoTime() & 1;
            }
            long[] second = s.read(tid);
            assertTrue(first[0] > 0 && first[1] >= 0, "ran/waited: " + first[0] + "/" + first[1]);
            assertTrue(second[0] > first[0], "the second read is fresh: " + first[0] + " then " + second[0] + " (" + spin + ")");
            long[] direct = reference(Files.readString(Path.of("/proc", Long.toString(tid), "schedstat")));
            assertTrue(direct[0] >= second[0], "agrees with a fresh open: " + direct[0] + " >= " + second[0]);
        }
    }

    @Test
    void aThreadNotOnThisHostIsMinusOne() {
        try (SchedStats s = new SchedStats()) {
            // Beyond pid_max (at most 2^22): no such thread anywhere.
            assertArrayEquals(new long[] {-1, -1}, s.read(1L << 23));
            assertArrayEquals(new long[] {-1, -1}, s.read(1L << 23));
            assertArrayEquals(new long[] {-1, -1}, s.read(-1));
        }
    }
}
