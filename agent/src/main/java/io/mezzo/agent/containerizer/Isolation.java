package io.mezzo.agent.containerizer;

import java.nio.file.Path;
import java.util.List;

/**
 * How one container is isolated: the cgroup directories it lives in (one per mounted hierarchy for
 * cgroups v1, one for v2), or none for posix. {@code name} is the cgroup's path under each hierarchy,
 * as checkpointed (e.g. {@code mezzo/<container>}); empty for posix.
 *
 * <p>Immutable; any thread. Public only so that the agent's other packages can use it.
 *
 * @param isolator the isolator's name: "cgroups-v2", "cgroups-v1" or "posix"
 * @param name the cgroup path relative to each hierarchy's mount point; empty for posix
 * @param dirs the cgroup directories, distinct; empty for posix
 */
public record Isolation(String isolator, String name, List<Path> dirs) {

    /** Freezes the list. */
    public Isolation {
        dirs = List.copyOf(dirs);
    }

    /** Posix: process sessions only. */
    public static Isolation posix() {
        return new Isolation(PosixIsolator.NAME, "", List.of());
    }
}
