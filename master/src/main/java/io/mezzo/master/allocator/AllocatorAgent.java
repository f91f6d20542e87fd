package io.mezzo.master.allocator;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.resources.Resources;

/**
 * An agent as the allocator sees it: what is free on it right now (total minus used minus
 * offered). Only agents that may be offered are passed in.
 */
public record AllocatorAgent(AgentId id, Resources available) {}
