package dev.tickwatch.bisect;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Real {@code git bisect} in the developer's tree, through the {@code git} program: start,
 * good, bad, skip, log, reset, and what git answers (the next revision, "roughly N steps", the
 * first bad commit, only skipped commits left). Everything else tickwatch does to the tree
 * happens inside the bisect session (checkouts that {@code git bisect reset} undoes) or in a
 * temporary worktree ({@link #addWorktree}). Calls are serialized; after {@link #close()} (Ctrl-C:
 * the tree was reset) no further git command runs.
 */
public final class GitBisect {

    private static final Pattern BISECTING = Pattern.compile("Bisecting: (\\d+) revisions? left to test after this \\(roughly (\\d+) steps?\\)");
    private static final Pattern FIRST_BAD = Pattern.compile("^([0-9a-f]{40}) is the first bad commit", Pattern.MULTILINE);
    private static final Pattern SHA = Pattern.compile("^([0-9a-f]{40})$", Pattern.MULTILINE);
    private static final long TIMEOUT_S = 600;

    private final Path tree;
    private final Path gitDir;
    private volatile boolean closed;

    /** What git said after a mark. */
    public record Answer(Kind kind, String next, int left, int stepsLeft, String culprit, List<String> candidates, String text) {
        public enum Kind { NEXT, FOUND, ONLY_SKIPPED, WAITING }
    }

    /** One git run: exit status, stdout and stderr together. */
    record Run(int status, String out) {
    }

    private GitBisect(Path tree, Path gitDir) {
        this.tree = tree;
        this.gitDir = gitDir;
    }

    /** The git tree at {@code dir} (its top level). */
    public static GitBisect open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new BisectException("--repo " + dir + ": no such folder");
        }
        Run top = exec(dir, List.of("rev-parse", "--show-toplevel"));
        if (top.status != 0) {
            throw new BisectException("--repo " + dir + " is not a git tree: " + firstLine(top.out));
        }
        Path t = Path.of(top.out.strip());
        Run gd = exec(t, List.of("rev-parse", "--absolute-git-dir"));
        if (gd.status != 0) {
            throw new BisectException("cannot find the git folder of " + t + ": " + firstLine(gd.out));
        }
        return new GitBisect(t, Path.of(gd.out.strip()));
    }

    public Path tree() {
        return tree;
    }

    public Path gitDir() {
        return gitDir;
    }

    /** The full sha of {@code rev} (a commit). */
    public String resolve(String rev) {
        Run r = git("rev-parse", "--verify", "--quiet", rev + "^{commit}");
        if (r.status != 0) {
            throw new BisectException("'" + rev + "' is not a commit in " + tree);
        }
        return r.out.strip();
    }

    /** {@code git rev-list --count good..bad}: the revisions a bisection chooses among. */
    public long count(String good, String bad) {
        return Long.parseLong(ok("rev-list", "--count", good + ".." + bad).strip());
    }

    public boolean isAncestor(String a, String b) {
        return git("merge-base", "--is-ancestor", a, b).status == 0;
    }

    /** Whether tracked files have local changes (untracked build outputs are fine). */
    public boolean hasLocalChanges() {
        return !ok("status", "--porcelain", "--untracked-files=no").isBlank();
    }

    /** Whether a bisection is under way in the tree. */
    public boolean bisecting() {
        return Files.exists(gitDir.resolve("BISECT_START"));
    }

    public String head() {
        return ok("rev-parse", "HEAD").strip();
    }

    public String subject(String sha) {
        return ok("log", "-1", "--format=%s", sha).strip();
    }

    /** The first parent, or null for a root commit. */
    public String parent(String sha) {
        Run r = git("rev-parse", "--verify", "--quiet", sha + "^");
        return r.status == 0 ? r.out.strip() : null;
    }

    /** {@code git bisect start} with no revisions: records where the tree was, for the reset. */
    public void start() {
        ok("bisect", "start");
    }

    /** A checkout inside the bisect session ({@code git bisect reset} returns to where the tree was). */
    public void checkout(String sha) {
        ok("checkout", "-q", "--detach", sha);
    }

    /** {@code git bisect good|bad|skip SHA}, and what git answered. */
    public Answer mark(String verb, String sha) {
        if (!List.of("good", "bad", "skip").contains(verb)) {
            throw new IllegalArgumentException("verb: " + verb);
        }
        Run r = git("bisect", verb, sha);
        Answer a = parse(r.out);
        if (a.kind() == Answer.Kind.WAITING && r.status != 0) {
            throw new BisectException("git bisect " + verb + " " + sha + " failed: " + firstLine(r.out));
        }
        if (a.kind() == Answer.Kind.NEXT) {
            return new Answer(a.kind(), head(), a.left(), a.stepsLeft(), null, List.of(), a.text());
        }
        return a;
    }

    /** What git printed after a mark, read (pure; {@link Answer#next} is left to the caller). */
    static Answer parse(String out) {
        Matcher f = FIRST_BAD.matcher(out);
        if (f.find()) {
            return new Answer(Answer.Kind.FOUND, null, 0, 0, f.group(1), List.of(f.group(1)), out);
        }
        if (out.contains("only 'skip'ped commits left")) {
            List<String> c = new ArrayList<>();
            Matcher m = SHA.matcher(out);
            while (m.find()) {
                c.add(m.group(1));
            }
            return new Answer(Answer.Kind.ONLY_SKIPPED, null, 0, 0, null, c, out);
        }
        Matcher b = BISECTING.matcher(out);
        if (b.find()) {
            return new Answer(Answer.Kind.NEXT, null, Integer.parseInt(b.group(1)), Integer.parseInt(b.group(2)), null,
                    List.of(), out);
        }
        return new Answer(Answer.Kind.WAITING, null, 0, 0, null, List.of(), out);
    }

    /** {@code git bisect log}, or "" when no bisection is under way. */
    public String log() {
        Run r = git("bisect", "log");
        return r.status == 0 ? r.out : "";
    }

    /** {@code git bisect reset}, when a bisection is under way: the tree back where it was. */
    public synchronized void reset() {
        if (bisecting()) {
            Run r = exec(tree, List.of("bisect", "reset"));
            if (r.status != 0) {
                throw new BisectException("git bisect reset failed: " + firstLine(r.out));
            }
        }
    }

    /** Ctrl-C: resets the tree, and no git command runs after this one. */
    public synchronized void resetAndClose() {
        closed = true;
        if (bisecting()) {
            exec(tree, List.of("bisect", "reset"));
        }
    }

    /** A detached temporary worktree at {@code rev}; the developer's checkout is not touched. */
    public void addWorktree(Path dir, String rev) {
        ok("worktree", "add", "--detach", "--quiet", dir.toString(), rev);
    }

    /** Reverts {@code sha} in worktree {@code dir} without committing; false when it does not apply cleanly. */
    public boolean revertIn(Path dir, String sha) {
        Run r = execChecked(dir, List.of("revert", "--no-commit", sha));
        if (r.status != 0) {
            execChecked(dir, List.of("revert", "--abort"));
            return false;
        }
        return true;
    }

    public void removeWorktree(Path dir) {
        git("worktree", "remove", "--force", dir.toString());
        git("worktree", "prune");
    }

    private String ok(String... args) {
        Run r = git(args);
        if (r.status != 0) {
            throw new BisectException("git " + String.join(" ", args) + " failed: " + firstLine(r.out));
        }
        return r.out;
    }

    private Run git(String... args) {
        return execChecked(tree, List.of(args));
    }

    private synchronized Run execChecked(Path dir, List<String> args) {
        if (closed) {
            throw new BisectException("interrupted: the tree was reset");
        }
        return exec(dir, args);
    }

    static Run exec(Path dir, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("git");
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        // Plain, parseable words: no pager, no translation, no editor.
        pb.environment().put("LC_ALL", "C");
        pb.environment().put("GIT_PAGER", "cat");
        pb.environment().put("GIT_EDITOR", "true");
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new BisectException("git " + String.join(" ", args) + " did not finish in " + TIMEOUT_S + " s");
            }
            return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new BisectException("cannot run git (is it installed?): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BisectException("interrupted while running git " + String.join(" ", args), e);
        }
    }

    static String firstLine(String s) {
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }
}
