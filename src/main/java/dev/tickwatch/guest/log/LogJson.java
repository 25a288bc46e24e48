package dev.tickwatch.guest.log;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernel log as JSON, one shape for {@code dmesg --json} (one {@link Entry} a line) and the
 * snapshot's {@code kernel_log} ({@link Tail}). Times are ns since boot, in keys ending in _ns.
 */
public final class LogJson {

    /** What a snapshot keeps of the log: all of it up to these bounds, else its newest part. */
    public static final int TAIL_RECORDS = 1000;
    public static final int TAIL_TEXT_BYTES = 256 << 10;

    private LogJson() {
    }

    /**
     * One record.
     *
     * @param caller {@code T<pid>} or {@code C<cpu>}
     * @param report the detector that reported in this record ({@link KernelReport.Kind#label()}), absent if none
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"seq", "ts_ns", "level", "facility", "caller", "text", "subsystem", "device", "report"})
    public record Entry(long seq, long tsNs, String level, int facility, String caller, String text,
            @JsonInclude(JsonInclude.Include.NON_EMPTY) String subsystem,
            @JsonInclude(JsonInclude.Include.NON_EMPTY) String device,
            @JsonInclude(JsonInclude.Include.NON_NULL) String report) {

        public static Entry of(LogRecord r) {
            return new Entry(r.seq(), r.tsNs(), r.level().label(), r.facility(), r.caller(), r.text(), r.subsystem(),
                    r.device(), KernelReports.of(r).map(k -> k.kind().label()).orElse(null));
        }
    }

    /** A detector's report: its kind's label, the record, and the line that says it. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Report(String kind, long seq, long tsNs, String line) {

        public static Report of(KernelReport r) {
            return new Report(r.kind().label(), r.seq(), r.tsNs(), r.line());
        }
    }

    /**
     * The log's newest records and every detector's report among all records read.
     *
     * @param omitted records read but left out (older than the kept ones) to stay within the bounds
     * @param skipped what the read passed over, in words ({@link LogRead#skipped()})
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonPropertyOrder({"reports", "records", "omitted", "skipped"})
    public record Tail(@JsonSetter(nulls = Nulls.AS_EMPTY) List<Report> reports,
            @JsonSetter(nulls = Nulls.AS_EMPTY) List<Entry> records, int omitted,
            @JsonSetter(nulls = Nulls.AS_EMPTY) List<String> skipped) {

        /** The newest records of {@code read} within {@link #TAIL_RECORDS} and {@link #TAIL_TEXT_BYTES}. */
        public static Tail of(LogRead read) {
            List<LogRecord> all = read.records();
            int from = all.size();
            long bytes = 0;
            while (from > 0 && all.size() - from < TAIL_RECORDS) {
                long b = all.get(from - 1).text().getBytes(StandardCharsets.UTF_8).length;
                if (bytes + b > TAIL_TEXT_BYTES) {
                    break;
                }
                bytes += b;
                from--;
            }
            List<Entry> records = new ArrayList<>(all.size() - from);
            for (LogRecord r : all.subList(from, all.size())) {
                records.add(Entry.of(r));
            }
            return new Tail(KernelReports.in(all).stream().map(Report::of).toList(), records, from, read.skipped());
        }
    }
}
