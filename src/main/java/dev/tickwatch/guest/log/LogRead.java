package dev.tickwatch.guest.log;

import java.util.ArrayList;
import java.util.List;

/**
 * One read of the kernel log: the finalized records in sequence order, and what was passed over.
 *
 * @param records  finalized records with their text, oldest first
 * @param nextSeq  where the next read should start to miss nothing: the first record still
 *                 pending, else the one after the newest record read
 * @param pending  records a writer still holds (reserved, or committed with a line open for
 *                 continuation); the kernel's readers do not show them yet either
 * @param reusable descriptors already recycled: their records were overwritten
 * @param lost     finalized records without text (it could not be stored, or was overwritten)
 * @param changed  descriptors the kernel reused while this read ran
 * @param walked   descriptors walked
 */
public record LogRead(List<LogRecord> records, long nextSeq, int pending, int reusable, int lost, int changed,
        int walked) {

    public LogRead {
        records = List.copyOf(records);
    }

    /** What was passed over, in words; empty when nothing was. */
    public List<String> skipped() {
        List<String> out = new ArrayList<>();
        if (pending > 0) {
            out.add(pending + " record" + (pending == 1 ? "" : "s") + " not finalized yet (a writer holds "
                    + (pending == 1 ? "it" : "them") + ", or a line is open for continuation)");
        }
        if (reusable > 0) {
            out.add(reusable + " descriptor" + (reusable == 1 ? "" : "s") + " already recycled (overwritten records)");
        }
        if (lost > 0) {
            out.add(lost + " record" + (lost == 1 ? "" : "s") + " without text (not stored, or overwritten)");
        }
        if (changed > 0) {
            out.add(changed + " record" + (changed == 1 ? "" : "s") + " overwritten while being read");
        }
        return out;
    }
}
