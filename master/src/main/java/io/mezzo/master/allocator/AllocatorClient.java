package io.mezzo.master.allocator;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.resources.Resources;
import java.util.List;
import java.util.Map;

/**
 * A framework in one of its roles, as the allocator sees it. Suppressed clients are not passed
 * in.
 *
 * @param allocated what the framework holds in this role (used by tasks plus outstanding offers)
 * @param allocations how many allocations it holds (tasks plus offers), the second tie-breaker
 * @param refused unexpired DECLINE filters: per agent, the bags of resources it refused there; an
 *     offer that one of those bags contains is not made
 */
public record AllocatorClient(
        FrameworkId framework, String role, Resources allocated, long allocations, Map<AgentId, List<Resources>> refused) {

    /** The client's name for tie-breaking and logs: framework id, then role. */
    public String name() {
        return framework.value() + "/" + role;
    }
}
