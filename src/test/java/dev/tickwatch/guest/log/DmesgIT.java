package dev.tickwatch.guest.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.guest.GuestKernel;
import dev.tickwatch.qemu.QemuConfig;
import dev.tickwatch.qemu.QemuVm;
import dev.tickwatch.qmp.codec.QmpEvent;
import dev.tickwatch.testing.Guests;
import dev.tickwatch.testing.Kernels;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The log read from guest memory against the guest's own /dev/kmsg, record for record: the
 * appliance boots with {@code quiet}, writes records to /dev/kmsg (one at level info, which quiet
 * keeps off the console, and one of two lines), copies /dev/kmsg byte for byte to a second serial
 * port backed by a host file, then keeps running while the test reads its memory. Every record
 * the guest exported must be in memory with the same sequence number, level, facility, time and
 * text; the quiet record must be in memory and not on the console. On Debian's 6.1 cloud kernel
 * and on 6.12.
 */
class DmesgIT {

    private static final String EXPORTED = "tickwatch-dmesg: exported";
    private static final String QUIET = "tickwatch: quiet record";

    @TempDir
    Path work;

    static Stream<String> kernels() {
        List<String> m = Kernels.matrix();
        String cloud = m.stream().filter(k -> k.startsWith("6.1.0") && k.contains("-cloud-")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no 6.1 cloud kernel in " + m));
        String lts = m.stream().filter(k -> k.startsWith("6.12") && !Kernels.isRt(k)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no 6.12 kernel in " + m));
        return Stream.of(cloud, lts);
    }

    /** One /dev/kmsg record: {@code PRI,seq,usec,flag[,...];text} with its text unescaped. */
    record Kmsg(long seq, int level, int facility, long usec, String text) {
    }

    static List<Kmsg> parse(byte[] bytes) {
        List<Kmsg> out = new ArrayList<>();
        String all = new String(bytes, StandardCharsets.ISO_8859_1);
        for (String line : all.split("\n")) {
            int semi = line.indexOf(';');
            if (line.isEmpty() || line.startsWith(" ") || semi < 0) {
                continue; // a dictionary line (SUBSYSTEM=, DEVICE=), or a record cut by timeout
            }
            String[] head = line.substring(0, semi).split(",");
            int pri = Integer.parseInt(head[0]);
            out.add(new Kmsg(Long.parseLong(head[1]), pri & 7, pri >> 3, Long.parseLong(head[2]),
                    unescape(line.substring(semi + 1))));
        }
        return out;
    }

    private static String unescape(String s) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.charAt(i + 1) == 'x') {
                b.write(Integer.parseInt(s.substring(i + 2, i + 4), 16));
                i += 3;
            } else {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void theLogFromMemoryIsTheGuestsDevKmsgRecordForRecord(String kernelName) throws Exception {
        Path kmsg = work.resolve("kmsg");
        QemuConfig.Builder config = Guests.appliance(work, Kernels.kernel(kernelName),
                "echo '<6>" + QUIET + "' > /dev/kmsg",
                "echo -e '<5>tickwatch: first line\\ntickwatch: second line' > /dev/kmsg",
                "stty -F /dev/ttyS1 raw -echo",
                "timeout 5 cat /dev/kmsg > /dev/ttyS1",
                "echo " + EXPORTED,
                "while true; do sleep 3600; done")
                .append(QemuConfig.DEFAULT_APPEND + " quiet")
                .extraArg("-chardev").extraArg("file,id=kmsg,path=" + kmsg)
                .extraArg("-device").extraArg("isa-serial,chardev=kmsg");
        try (QemuVm vm = QemuVm.start(config.build())) {
            assertTrue(vm.console().await(t -> t.contains(EXPORTED), Duration.ofSeconds(180)),
                    "the guest exported /dev/kmsg; console tail:\n" + vm.console().tail(20));
            List<Kmsg> exported = parse(Files.readAllBytes(kmsg));
            assertTrue(exported.size() > 50, "a boot log: " + exported.size() + " records exported");

            LogRead read;
            try (GuestKernel k = GuestKernel.attach(vm.qmp())) {
                read = KernelLog.of(k).read();
            }
            System.out.printf("%s: %d records from memory, %d exported; passed over: %s%n", kernelName,
                    read.records().size(), exported.size(), read.skipped());
            KernelReports.in(read.records()).forEach(r -> System.out.println("report: " + r));
            Map<Long, LogRecord> bySeq = new LinkedHashMap<>();
            read.records().forEach(r -> bySeq.put(r.seq(), r));
            for (Kmsg e : exported) {
                LogRecord m = bySeq.get(e.seq());
                assertTrue(m != null, "record " + e.seq() + " (" + e.text() + ") is in memory");
                assertEquals(e.level(), m.level().number(), "level of " + e.seq());
                assertEquals(e.facility(), m.facility(), "facility of " + e.seq());
                assertEquals(e.usec(), m.tsNs() / 1000, "time of " + e.seq());
                assertEquals(e.text(), m.text(), "text of " + e.seq());
            }
            // Nothing exported is missing, and memory holds the same run of sequence numbers.
            assertEquals(exported.get(0).seq(), read.records().get(0).seq(), "the same first record");
            assertTrue(read.records().get(0).text().startsWith("Linux version"), read.records().get(0).text());

            LogRecord quiet = read.records().stream().filter(r -> r.text().equals(QUIET)).findFirst()
                    .orElseThrow(() -> new AssertionError("the quiet record is in memory"));
            assertEquals(LogLevel.INFO, quiet.level());
            assertEquals(1, quiet.facility(), "written by user space: LOG_USER");
            assertTrue(quiet.callerPid() > 0, "written by a task: " + quiet.caller());
            assertFalse(vm.console().text().contains(QUIET), "quiet keeps an info record off the console");
            assertTrue(read.records().stream().anyMatch(r -> r.lines().equals(
                    List.of("tickwatch: first line", "tickwatch: second line"))), "the two-line record is one record");
            assertTrue(KernelReports.in(read.records()).stream()
                    .noneMatch(r -> r.kind() == KernelReport.Kind.PANIC || r.kind() == KernelReport.Kind.OOPS),
                    "a healthy boot neither panics nor oopses");

            List<QmpEvent> stops = vm.qmp().recentEvents().stream().filter(e -> e.name().equals("STOP")).toList();
            assertEquals(List.of(), stops, "reading the log must not pause the guest");
        }
    }
}
