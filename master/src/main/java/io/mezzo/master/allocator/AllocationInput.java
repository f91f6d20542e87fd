package io.mezzo.master.allocator;

import io.mezzo.common.resources.Resources;
import java.util.List;

/**
 * A snapshot of everything one allocation cycle needs. The allocator reads nothing else, so a
 * cycle can be replayed from its input.
 *
 * @param clusterTotal total resources of all registered agents, the denominator of shares
 * @param agents agents that may be offered, with their free resources
 * @param clients framework roles that want offers
 * @param minAllocatable offers smaller than all of these alternatives are not made (Mesos
 *     default: cpus 0.01 or mem 32)
 * @param seed seeds the shuffle of the agent order, so the cycle can be replayed
 */
public record AllocationInput(
        Resources clusterTotal,
        List<AllocatorAgent> agents,
        List<AllocatorClient> clients,
        List<Resources> minAllocatable,
        long seed) {}
