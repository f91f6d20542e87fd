package io.mezzo.master.allocator;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.resources.Resources;

/** One decision of the allocator: offer {@code resources} on {@code agent} to a framework's role. */
public record Allocation(FrameworkId framework, String role, AgentId agent, Resources resources) {

    @Override
    public String toString() {
        return framework + "/" + role + " <- " + agent + " " + resources;
    }
}
