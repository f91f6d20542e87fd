package io.mezzo.agent.containerizer;

import io.mezzo.proto.v1.StatusReason;

/**
 * Why the agent itself ended a container that outgrew its resources; its task's terminal update
 * reports it (TASK_FAILED with this reason and message).
 *
 * <p>Immutable; any thread. Public only so that the agent's other packages can use it.
 *
 * @param reason CONTAINER_LIMITATION_MEMORY or CONTAINER_LIMITATION_DISK
 * @param message what was exceeded, for the framework
 */
public record Limitation(StatusReason reason, String message) {

    private static final long MB = 1024L * 1024L;

    /** Out of memory: {@code usedBytes} when known (the peak, or the rss seen), else 0. */
    public static Limitation memory(Limits limits, long usedBytes) {
        String used = usedBytes > 0 ? ", used " + (usedBytes / MB) + " MB" : "";
        return new Limitation(StatusReason.REASON_CONTAINER_LIMITATION_MEMORY,
                "Memory limit exceeded: requested " + limits.memMb() + " MB" + used);
    }

    /** The sandbox holds {@code usedBytes}, more than the disk resource. */
    public static Limitation disk(Limits limits, long usedBytes) {
        return new Limitation(StatusReason.REASON_CONTAINER_LIMITATION_DISK, diskUsage(limits, usedBytes));
    }

    /** The sentence saying how far a sandbox is over its disk resource. */
    static String diskUsage(Limits limits, long usedBytes) {
        return "Disk usage " + usedBytes / MB + " MB exceeds the task's disk resource of " + limits.diskMb() + " MB";
    }
}
