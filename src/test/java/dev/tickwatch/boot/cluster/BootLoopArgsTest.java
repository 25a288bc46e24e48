package dev.tickwatch.boot.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The loop's size and workers read from boot-loop arguments as picocli would; the runner's own options refused. */
class BootLoopArgsTest {

    @Test
    void sizeAndWorkersInEverySpelling() {
        assertEquals(100, new BootLoopArgs(List.of()).boots());
        assertEquals(2, new BootLoopArgs(List.of()).parallel());
        assertEquals(40, new BootLoopArgs(List.of("--boots", "40")).boots());
        assertEquals(40, new BootLoopArgs(List.of("--boots=40")).boots());
        assertEquals(40, new BootLoopArgs(List.of("-n", "40")).boots());
        assertEquals(40, new BootLoopArgs(List.of("-n40")).boots());
        assertEquals(7, new BootLoopArgs(List.of("-n", "40", "--boots", "7")).boots(), "the last one counts");
        assertEquals(1, new BootLoopArgs(List.of("-j", "1", "--no-such", "x")).parallel());
        assertEquals(3, new BootLoopArgs(List.of("--parallel=3")).parallel());
        // An option's value that looks like a short option is not read as one.
        assertEquals(100, new BootLoopArgs(List.of("--append", "-n3", "--qemu-arg", "-n")).boots());
    }

    @Test
    void theRunnersOptionsAndBadValuesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new BootLoopArgs(List.of("--shard", "0/2")));
        assertThrows(IllegalArgumentException.class, () -> new BootLoopArgs(List.of("--results=x.jsonl")));
        assertThrows(IllegalArgumentException.class, () -> new BootLoopArgs(List.of("--append", "a\nb")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new BootLoopArgs(List.of("--boots", "many")).boots());
        assertEquals("boot-loop arguments: --boots 'many' (expected: a number)", e.getMessage());
    }
}
