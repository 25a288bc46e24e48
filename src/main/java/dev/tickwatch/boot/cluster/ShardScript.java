package dev.tickwatch.boot.cluster;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The bash that one shard runs, on a Slurm node (a batch script) or in a pod ({@code bash -c}):
 * the boot-loop with {@code --shard $INDEX/N --results DIR/shard-$INDEX.jsonl}, then the exit code
 * into {@code shard-$INDEX.rc}. A hang (1) or "cannot test" (125) is data for the merge, so the
 * shard exits 0 for them; only a usage error (>= 128) fails the task or pod, as in
 * samples/shards/.
 */
public final class ShardScript {

    private ShardScript() {
    }

    /**
     * @param tickwatch how the nodes run tickwatch (e.g. {@code java -jar /path/tickwatch-all.jar})
     * @param args      the boot-loop arguments, without --shard and --results
     * @param shards    N
     * @param indexVar  the environment variable holding the 0-based shard index
     * @param dir       the shared work folder (absolute)
     * @param header    comment lines for the top (without {@code #})
     * @param logToFile also copy the shard's output to {@code shard-$INDEX.log} (Slurm's --output does it there)
     */
    public static String render(List<String> tickwatch, BootLoopArgs args, int shards, String indexVar, Path dir,
            List<String> header, boolean logToFile) {
        List<String> cmd = new ArrayList<>(tickwatch);
        cmd.add("boot-loop");
        cmd.addAll(args.args());
        StringBuilder sb = new StringBuilder("#!/bin/bash\n");
        for (String h : header) {
            sb.append("# ").append(h).append('\n');
        }
        sb.append("set -u\n");
        sb.append("i=${").append(indexVar).append(":?is not set: not run as shard of ").append(shards).append("}\n");
        sb.append("dir=").append(quote(dir.toAbsolutePath().toString())).append('\n');
        if (logToFile) {
            sb.append("exec > >(tee -a \"$dir/shard-$i.log\") 2>&1\n");
        }
        for (String c : cmd) {
            sb.append(quote(c)).append(' ');
        }
        sb.append("--shard \"$i/").append(shards).append("\" --results \"$dir/shard-$i.jsonl\"\n");
        sb.append("rc=$?\n");
        sb.append("# Last: a shard killed on the way leaves no exit code.\n");
        sb.append("echo \"$rc\" > \"$dir/shard-$i.rc.tmp\" && mv -f \"$dir/shard-$i.rc.tmp\" \"$dir/shard-$i.rc\"\n");
        sb.append("# A hang (1) or \"cannot test\" (125) is a result for the merge; only usage errors fail the shard.\n");
        sb.append("[ \"$rc\" -ge 128 ] && exit \"$rc\"\n");
        sb.append("exit 0\n");
        return sb.toString();
    }

    /** {@code s} as one bash word: in single quotes, a single quote as {@code '\''}; plain words as they are. */
    public static String quote(String s) {
        if (!s.isEmpty() && s.matches("[A-Za-z0-9_./=:,+@%-]+")) {
            return s;
        }
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
