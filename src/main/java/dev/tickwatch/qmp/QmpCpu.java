package dev.tickwatch.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One entry of {@code query-cpus-fast}.
 *
 * @param cpuIndex the vCPU index (as {@code cpu-index} arguments use it)
 * @param threadId the host thread id running this vCPU (its CPU time is in /proc)
 * @param qomPath  the vCPU's QOM path
 * @param target   the target architecture, e.g. {@code x86_64}
 */
public record QmpCpu(int cpuIndex, long threadId, String qomPath, String target) {
    static QmpCpu from(JsonNode n) {
        return new QmpCpu(n.path("cpu-index").asInt(), n.path("thread-id").asLong(),
                n.path("qom-path").asText(), n.path("target").asText());
    }
}
