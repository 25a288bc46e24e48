package dev.tickwatch.verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The judge gives exactly the decisions recorded in {@link JudgeGolden#GOLDEN}, every field of
 * every one (regenerate it with {@code JudgeGolden.main} only for a change meant to change
 * decisions, and say so in the commit).
 */
class JudgeGoldenTest {

    @Test
    void everyDecisionOverTheCorpusIsTheRecordedOne() throws IOException {
        Map<String, List<String>> expected = JudgeGolden.read();
        Map<String, List<String>> actual = JudgeGolden.all();
        assertEquals(expected.keySet().stream().toList(), actual.keySet().stream().toList(), "the same cases");
        for (Map.Entry<String, List<String>> e : expected.entrySet()) {
            List<String> want = e.getValue();
            List<String> got = actual.get(e.getKey());
            for (int i = 0; i < Math.min(want.size(), got.size()); i++) {
                assertEquals(want.get(i), got.get(i), e.getKey() + ", line " + i);
            }
            assertEquals(want.size(), got.size(), e.getKey() + ": decisions");
        }
    }
}
