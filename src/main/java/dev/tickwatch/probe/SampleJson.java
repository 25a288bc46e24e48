package dev.tickwatch.probe;

import com.fasterxml.jackson.databind.DatabindException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tickwatch.ProtocolException;
import dev.tickwatch.util.Json;
import java.io.IOException;

/**
 * Samples as JSON lines, both ways: what {@code watch --record} writes, what snapshots embed and
 * what the verdict tests replay. The shape is the sample records' own (their databind
 * annotations); addresses are hex strings, times carry their unit in the key, and a reading an
 * older file lacks (thread and QEMU wait times, the current pid) reads as -1, unknown.
 */
public final class SampleJson {

    private SampleJson() {
    }

    public static ObjectNode toJson(Sample s) {
        return Json.tree(s);
    }

    /** @throws ProtocolException when {@code o} is not a sample (e.g. an address without 0x) */
    public static Sample fromJson(JsonNode o) {
        try {
            return Json.read(o, Sample.class);
        } catch (IOException | RuntimeException e) {
            String why = e instanceof DatabindException d ? d.getOriginalMessage() : e.getMessage();
            throw new ProtocolException("not a tickwatch sample: " + why, e);
        }
    }
}
