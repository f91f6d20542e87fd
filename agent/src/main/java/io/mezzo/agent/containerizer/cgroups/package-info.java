/**
 * The cgroups isolator: {@link io.mezzo.agent.containerizer.cgroups.CgroupsDetector} finds the cgroup
 * hierarchies (v2 unified, or v1 per controller) and makes the agent's root cgroup; {@link
 * io.mezzo.agent.containerizer.cgroups.CgroupsIsolator} gives each container a cgroup with its cpu and
 * memory limits, finds and kills its processes, and samples its usage from the cgroup files.
 *
 * <p>Threads: stateless apart from the mount points found at start; any thread (the containerizer
 * calls it on the agent's loop, sampling on workers).
 */
package io.mezzo.agent.containerizer.cgroups;
