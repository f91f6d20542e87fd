package io.mezzo.agent.containerizer;

import io.mezzo.common.resources.Resources;
import io.mezzo.common.resources.Scalars;
import io.mezzo.proto.v1.Resource;
import java.util.List;

/**
 * What a container may use, from its task's resources: cpus in thousandths, memory and disk in bytes;
 * 0 means "not given" (no limit).
 *
 * <p>Immutable; any thread. Public only so that the agent's other packages can use it.
 *
 * @param cpusMilli the cpus resource times 1000
 * @param memBytes the mem resource in bytes
 * @param diskBytes the disk resource in bytes
 */
public record Limits(long cpusMilli, long memBytes, long diskBytes) {

    /** No limits at all. */
    public static final Limits NONE = new Limits(0, 0, 0);

    /** The smallest memory limit a container gets, as Mesos: below it the launcher itself may not fit. */
    public static final long MIN_MEMORY_BYTES = 32L * 1024L * 1024L;

    private static final long MB = 1024L * 1024L;

    /** The limits of a task's resources (every reservation counted). */
    public static Limits of(List<Resource> resources) {
        Resources r = Resources.fromProto(resources);
        return new Limits(
                r.scalar(Resources.CPUS),
                r.scalar(Resources.MEM) * MB / Scalars.SCALE,
                r.scalar(Resources.DISK) * MB / Scalars.SCALE);
    }

    /** The memory limit to enforce: the mem resource, at least {@link #MIN_MEMORY_BYTES}; 0 when none. */
    public long enforcedMemBytes() {
        return memBytes <= 0 ? 0 : Math.max(memBytes, MIN_MEMORY_BYTES);
    }

    /** The memory in whole MB, for messages. */
    public long memMb() {
        return memBytes / MB;
    }

    /** The disk in whole MB, for messages. */
    public long diskMb() {
        return diskBytes / MB;
    }
}
