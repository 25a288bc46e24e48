package dev.tickwatch.boot.loop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.qemu.QemuConfig;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/** The loop's pure parts: shards, seeds and jitter, records, JUnit XML, host load. */
class LoopPartsTest {

    private static final QemuConfig CONFIG = QemuConfig.builder().kernel(Path.of("/vmlinuz")).smp(4).build();

    @Test
    void shardsPartitionTheLoop() {
        for (int n = 1; n <= 5; n++) {
            Set<Integer> seen = new TreeSet<>();
            for (int i = 0; i < n; i++) {
                Shard s = new Shard(i, n);
                for (int b : s.boots(23)) {
                    assertTrue(seen.add(b), "boot " + b + " in two shards of " + n);
                    assertTrue(s.owns(b));
                }
            }
            assertEquals(23, seen.size());
        }
        assertEquals(List.of(1, 3, 5, 7), Shard.parse("1/2").boots(8));
        assertEquals(new Shard(3, 4), Shard.parse(" 3 / 4 "));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("2/2"));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("x"));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("1/0"));
    }

    @Test
    void specsAreAPureFunctionOfSeedAndBoot() {
        LoopOptions o = LoopOptions.builder().config(CONFIG).boots(100).jitter(true).seed(42).build();
        BootLoop a = new BootLoop(o, null, null, r -> { });
        BootLoop b = new BootLoop(o, null, null, r -> { });
        Set<Integer> smps = new HashSet<>();
        Set<Long> delays = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            BootSpec x = a.spec(i, 0);
            BootSpec y = b.spec(i, 1);
            assertEquals(x.seed(), y.seed());
            assertEquals(x.config().smp(), y.config().smp());
            assertEquals(x.startDelay(), y.startDelay());
            assertTrue(x.config().smp() >= 1 && x.config().smp() <= 4, "smp " + x.config().smp());
            assertTrue(x.startDelay().toMillis() <= LoopOptions.MAX_START_DELAY_MS);
            smps.add(x.config().smp());
            delays.add(x.startDelay().toMillis());
        }
        assertEquals(Set.of(1, 2, 3, 4), smps, "every vCPU count is used");
        assertTrue(delays.size() > 50, "start times vary: " + delays.size());
        assertNotEquals(BootLoop.seedOf(42, 0), BootLoop.seedOf(43, 0));
        BootLoop plain = new BootLoop(LoopOptions.builder().config(CONFIG).boots(3).build(), null, null, r -> { });
        assertEquals(4, plain.spec(2, 0).config().smp());
        assertEquals(Duration.ZERO, plain.spec(2, 0).startDelay());
    }

    @Test
    void labBootIsTheOneAskedFor() {
        QemuConfig lab = CONFIG.toBuilder().append("lab").build();
        BootLoop l = new BootLoop(LoopOptions.builder().config(CONFIG).boots(8).lab("timer-stall-lost", lab, 3).build(),
                null, null, r -> { });
        assertEquals("timer-stall-lost", l.spec(3, 1).labMode());
        assertEquals("lab", l.spec(3, 1).config().append());
        assertNull(l.spec(2, 1).labMode());
        assertThrows(IllegalArgumentException.class,
                () -> LoopOptions.builder().config(CONFIG).boots(3).lab("x", lab, 3).build());
        assertThrows(IllegalArgumentException.class, () -> LoopOptions.builder().config(CONFIG).parallel(0).build());
    }

    @Test
    void recordsRoundTripThroughJsonLines() {
        BootRecord ok = Records.ok(new Shard(1, 2), 8, 5, 4.25);
        BootRecord hung = Records.hung(Shard.WHOLE, 8, 3, "TIMER_STALL", "lost");
        for (BootRecord r : List.of(ok, hung)) {
            BootRecord back = BootRecord.parse(r.toJsonLine());
            assertEquals(r.toJsonLine(), back.toJsonLine());
            assertEquals(r.seed(), back.seed());
        }
        assertEquals(4.25, BootRecord.parse(ok.toJsonLine()).outcome().bootS());
        assertTrue(Double.isNaN(BootRecord.parse(hung.toJsonLine()).outcome().bootS()));
        assertEquals(List.of("jiffies frozen", "console: <&> \"x\""), BootRecord.parse(hung.toJsonLine()).outcome().evidence());
        assertThrows(dev.tickwatch.TickwatchException.class, () -> BootRecord.parse("{\"boot\":1}"));
        assertThrows(dev.tickwatch.TickwatchException.class, () -> BootRecord.parse("not json"));
    }

    @Test
    void junitReportHasOneTestcasePerBootAndFailuresForHangs() throws Exception {
        List<BootRecord> rs = List.of(Records.ok(Shard.WHOLE, 3, 0, 4.0), Records.hung(Shard.WHOLE, 3, 1, "TIMER_STALL", "lost"),
                Records.ok(Shard.WHOLE, 3, 2, 4.5));
        String xml = JUnitReport.render("tickwatch.boot-loop", rs);
        Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        Element suite = d.getDocumentElement();
        assertEquals("3", suite.getAttribute("tests"));
        assertEquals("1", suite.getAttribute("failures"));
        assertEquals(3, d.getElementsByTagName("testcase").getLength());
        Element f = (Element) d.getElementsByTagName("failure").item(0);
        assertEquals("TIMER_STALL (lost)", f.getAttribute("message"));
        assertTrue(f.getTextContent().contains("console: <&> \"x\""), f.getTextContent());
        assertEquals("boot-000001", ((Element) f.getParentNode()).getAttribute("name"));
    }

    @Test
    void hostLoadStopsOnClose() {
        HostLoad load = HostLoad.start(2);
        assertEquals(2, load.size());
        await().atMost(Duration.ofSeconds(5)).until(() -> load.alive() == 2);
        load.close();
        await().atMost(Duration.ofSeconds(5)).until(() -> load.alive() == 0);
        load.close();
        assertEquals(0, HostLoad.start(0).alive());
        assertThrows(IllegalArgumentException.class, () -> HostLoad.start(-1));
    }
}
