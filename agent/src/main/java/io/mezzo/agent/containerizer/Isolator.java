package io.mezzo.agent.containerizer;

import io.mezzo.common.id.ContainerId;
import java.io.IOException;
import java.util.List;

/**
 * Keeps a container inside its resources and finds all of its processes. Two kinds: {@link
 * PosixIsolator} (process sessions and {@code /proc}; limits enforced by the agent's sampling) and
 * {@code CgroupsIsolator} (a cgroup per container; limits enforced by the kernel).
 *
 * <p>Thread: {@link #prepare}, {@link #isolate}, {@link #killAll} and {@link #cleanup} on the agent's
 * loop; {@link #members} and {@link #sample} on any thread (the agent samples on a worker). Owner: the
 * {@link Containerizer}. Public only so that the agent's other packages can use it.
 */
public interface Isolator {

    /** "cgroups-v2", "cgroups-v1" or "posix", as reported in {@code ContainerStatus.isolation}. */
    String name();

    /** True when the kernel enforces the memory limit (and reports OOM kills). */
    boolean enforcesMemory();

    /** True when CPU time is capped by a hard limit ({@code --cgroups_enable_cfs}). */
    boolean capsCpu();

    /**
     * Creates the container's isolation with {@code limits} applied, before its launcher runs.
     *
     * @throws IOException if the cgroup cannot be created or configured
     */
    Isolation prepare(ContainerId id, Limits limits) throws IOException;

    /**
     * Moves the launcher process {@code pid} into the container, before it starts the command.
     *
     * @throws IOException if the process cannot be moved
     */
    void isolate(Isolation isolation, long pid) throws IOException;

    /** The isolation a container was given by an earlier agent, from its checkpointed name. */
    Isolation recover(ContainerId id, String name);

    /**
     * Every running process of the container, zombies excluded. {@code leader} is the launcher's pid
     * (its session), {@code marker} the {@code MEZZO_CONTAINER_ID=...} environment entry its processes
     * inherit (posix uses it to find daemons that left the session).
     */
    List<Long> members(Isolation isolation, long leader, String marker);

    /** Sends SIGKILL to every process of the container at once, as far as the isolator can. */
    void killAll(Isolation isolation, long leader, String marker);

    /**
     * Removes what {@link #prepare} created, once the container has no process left.
     *
     * @throws IOException if it cannot be removed yet (processes left) or at all
     */
    void cleanup(Isolation isolation) throws IOException;

    /** Reads the container's usage. */
    UsageSample sample(Isolation isolation, long leader, String marker);
}
