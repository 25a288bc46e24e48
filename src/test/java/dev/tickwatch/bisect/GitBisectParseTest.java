package dev.tickwatch.bisect;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What git bisect prints (git 2.39), read. */
class GitBisectParseTest {

    @Test
    void nextRevisionWithGitsStepCount() {
        GitBisect.Answer a = GitBisect.parse("Bisecting: 3 revisions left to test after this (roughly 2 steps)\n"
                + "[929abd6c89201797f4071c60afd62ccc99f7573e] c4\n");
        assertEquals(GitBisect.Answer.Kind.NEXT, a.kind());
        assertEquals(3, a.left());
        assertEquals(2, a.stepsLeft());
        GitBisect.Answer one = GitBisect.parse("Bisecting: 0 revisions left to test after this (roughly 1 step)\n[a34a] c3\n");
        assertEquals(1, one.stepsLeft());
    }

    @Test
    void firstBadCommit() {
        GitBisect.Answer a = GitBisect.parse("a34acab8e4349ee8b6a5581f290b3e2e25bfb06e is the first bad commit\n"
                + "commit a34acab8e4349ee8b6a5581f290b3e2e25bfb06e\nAuthor: a <a@b>\n");
        assertEquals(GitBisect.Answer.Kind.FOUND, a.kind());
        assertEquals("a34acab8e4349ee8b6a5581f290b3e2e25bfb06e", a.culprit());
    }

    @Test
    void onlySkippedLeft() {
        GitBisect.Answer a = GitBisect.parse("There are only 'skip'ped commits left to test.\nThe first bad commit could be any of:\n"
                + "a34acab8e4349ee8b6a5581f290b3e2e25bfb06e\n929abd6c89201797f4071c60afd62ccc99f7573e\nWe cannot bisect more!\n");
        assertEquals(GitBisect.Answer.Kind.ONLY_SKIPPED, a.kind());
        assertEquals(List.of("a34acab8e4349ee8b6a5581f290b3e2e25bfb06e", "929abd6c89201797f4071c60afd62ccc99f7573e"), a.candidates());
    }

    @Test
    void waiting() {
        assertEquals(GitBisect.Answer.Kind.WAITING, GitBisect.parse("status: waiting for good commit(s), bad commit known\n").kind());
    }
}
