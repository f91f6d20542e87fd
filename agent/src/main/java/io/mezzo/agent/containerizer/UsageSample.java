package io.mezzo.agent.containerizer;

/**
 * One reading of a container's usage, taken by its isolator.
 *
 * <p>Immutable; any thread. Public only so that the agent's other packages can use it.
 *
 * @param cpuUserSeconds CPU time in user mode
 * @param cpuSystemSeconds CPU time in kernel mode
 * @param rssBytes resident (anonymous) memory
 * @param memLimitBytes the memory limit the kernel enforces, 0 when none
 * @param memPeakBytes the highest memory use seen, 0 when unknown
 * @param processes processes in the container
 * @param oomKills processes the kernel killed for running out of the container's memory
 */
public record UsageSample(
        double cpuUserSeconds,
        double cpuSystemSeconds,
        long rssBytes,
        long memLimitBytes,
        long memPeakBytes,
        int processes,
        long oomKills) {

    /** Nothing measured (the container is gone or its files unreadable). */
    public static final UsageSample EMPTY = new UsageSample(0, 0, 0, 0, 0, 0, 0);
}
