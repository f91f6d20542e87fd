package io.mezzo.master;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.OfferId;
import io.mezzo.common.resources.Resources;

/**
 * An outstanding offer. Owned by the {@link OfferManager}; loop thread only. Immutable. Soft state:
 * offers die with the master that made them.
 */
record OfferRecord(OfferId id, FrameworkId framework, AgentId agent, String role, Resources resources, long createdAt) {

    @Override
    public String toString() {
        return id + " to " + framework + "/" + role + " on " + agent + " " + resources;
    }
}
