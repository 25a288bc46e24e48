package dev.tickwatch.qmp.hmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickwatch.testing.QmpTranscript;
import dev.tickwatch.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The hand-written scanners of {@link CpuRegisters} and {@link LapicState} give exactly what the
 * regular-expression parsers they replaced gave ({@link RegexCpuRegisters}, {@link RegexLapicState}):
 * the same records, or the same exception with the same message, on every recorded output under
 * protocols/ and on many seeded mutations of them (cuts, splices, stray characters, over-long
 * numbers), which reach the corners the recordings do not.
 */
class RegexParsersEquivalenceTest {

    private static final int MUTATIONS = 4000;
    private static final String[] KEYS = {"CPU#", "IP=", "FL=", "SP=", "CR3=", "CR4=", "GS =", "IDT=", "CPL=", "HLT=", "] ",
        "LVTT", "Timer", "DCR=", "divide by", "_count = ", "one-shot", "\n"};

    /** Every recorded {@code info registers} and {@code info lapic} text: lab modes and the QMP session. */
    private static List<String> recorded(String kind) throws Exception {
        List<String> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("protocols/hmp"))) {
            for (Path p : files.filter(f -> f.getFileName().toString().startsWith(kind)).sorted().toList()) {
                out.add(Files.readString(p));
            }
        }
        QmpTranscript session = QmpTranscript.load("session-7.2.txt");
        for (var e : session.responses().entrySet()) {
            if (e.getKey().startsWith("human-monitor-command") && e.getKey().contains(kind.replace('-', ' '))) {
                for (String r : e.getValue()) {
                    out.add(Json.MAPPER.readTree(r).path("return").asText());
                }
            }
        }
        return out;
    }

    /** The result, or the exception's class and message: what a caller could tell apart. */
    private static String outcome(Function<String, Object> parser, String text) {
        try {
            return "ok " + parser.apply(text);
        } catch (RuntimeException e) {
            return e.getClass().getName() + ": " + e.getMessage();
        }
    }

    private static void assertSame(Function<String, Object> reference, Function<String, Object> scanner, String text) {
        assertEquals(outcome(reference, text), outcome(scanner, text), () -> "on input:\n" + text);
    }

    @Test
    void registersAsBeforeOnEveryRecordedOutput() throws Exception {
        List<String> texts = recorded("info-registers");
        assertTrue(texts.size() >= 8, "recordings found: " + texts.size());
        for (String t : texts) {
            assertEquals(RegexCpuRegisters.parseAll(t), CpuRegisters.parseAll(t));
        }
    }

    @Test
    void lapicAsBeforeOnEveryRecordedOutput() throws Exception {
        List<String> texts = recorded("info-lapic");
        assertTrue(texts.size() >= 14, "recordings found: " + texts.size());
        for (String t : texts) {
            assertEquals(RegexLapicState.parse(t), LapicState.parse(t));
        }
    }

    @Test
    void registersAsBeforeOnMutations() throws Exception {
        List<String> texts = new ArrayList<>(recorded("info-registers"));
        texts.add("CPU#0\r\nEAX=00000000 EBX=00000000\r\nESI=0 EDI=0 EBP=0 ESP=00006f2c\r\n"
                + "EIP=000fd0b4 EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0\r\nCR0=00000011 CR2=0 CR3=00000000\r\n");
        int[] outcomes = fuzz(texts, "RIP=RFL=EIP=EFL=RSP=ESP=CR3=CR4=GS =IDT= CPL=0 II=0 A20=1 SMM=0 HLT=1 CPU#1 []",
                RegexCpuRegisters::parseAll, CpuRegisters::parseAll);
        // Both kinds of outcome were exercised, not only one.
        assertTrue(outcomes[0] > MUTATIONS / 10 && outcomes[1] > MUTATIONS / 20, "ok/failed: " + outcomes[0] + "/" + outcomes[1]);
    }

    @Test
    void lapicAsBeforeOnMutations() throws Exception {
        int[] outcomes = fuzz(recorded("info-lapic"),
                "LVTT\t 0x one-shot periodic tsc-deadline Timer\t DCR=0x3 (divide by 16) initial_count = current_count = \r\n",
                RegexLapicState::parse, LapicState::parse);
        assertTrue(outcomes[0] > MUTATIONS / 10 && outcomes[1] > MUTATIONS / 20, "ok/failed: " + outcomes[0] + "/" + outcomes[1]);
    }

    /** Seeded mutations of {@code texts}; returns {agreeing successes, agreeing failures}. */
    private static int[] fuzz(List<String> texts, String vocabulary, Function<String, Object> reference,
            Function<String, Object> scanner) {
        Random r = new Random(17);
        String alphabet = "0123456789abcdefx \t\r\n#=[]()RE";
        int[] counts = new int[2];
        for (int n = 0; n < MUTATIONS; n++) {
            StringBuilder s = new StringBuilder(texts.get(r.nextInt(texts.size())));
            int edits = 1 + r.nextInt(4);
            for (int e = 0; e < edits && s.length() > 0; e++) {
                int at = r.nextInt(s.length());
                // Most edits land where the parsers look, not in the XMM registers.
                String key = KEYS[r.nextInt(KEYS.length)];
                int k = s.indexOf(key, r.nextInt(s.length()));
                if (k < 0) {
                    k = s.indexOf(key);
                }
                if (k >= 0 && r.nextInt(4) > 0) {
                    at = Math.max(0, Math.min(s.length() - 1, k - 3 + r.nextInt(key.length() + 24)));
                }
                switch (r.nextInt(7)) {
                    case 0 -> s.delete(at, Math.min(s.length(), at + 1 + r.nextInt(40)));
                    case 1 -> s.setLength(at);
                    case 2 -> s.insert(at, alphabet.charAt(r.nextInt(alphabet.length())));
                    case 3 -> {
                        // A piece of the vocabulary: a field name or a separator where it does not belong.
                        int from = r.nextInt(vocabulary.length());
                        s.insert(at, vocabulary, from, Math.min(vocabulary.length(), from + 1 + r.nextInt(12)));
                    }
                    case 4 -> s.insert(at, "0".repeat(1 + r.nextInt(20)));
                    case 5 -> s.insert(at, "f".repeat(10 + r.nextInt(12)));
                    default -> s.setCharAt(at, alphabet.charAt(r.nextInt(alphabet.length())));
                }
            }
            String t = s.toString();
            assertSame(reference, scanner, t);
            counts[outcome(reference, t).startsWith("ok ") ? 0 : 1]++;
        }
        return counts;
    }
}
