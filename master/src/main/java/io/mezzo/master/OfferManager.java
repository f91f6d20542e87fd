package io.mezzo.master;

import io.mezzo.common.id.OfferId;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Owns the outstanding offers and keeps the offered sums of agents and frameworks in step with
 * them (invariant: an agent's and a framework's {@code offered} are the sums of their outstanding
 * offers). Loop thread only.
 */
final class OfferManager {

    private final Map<OfferId, OfferRecord> offers = new LinkedHashMap<>();
    private final String prefix;
    private long nextId = 1;

    OfferManager(String prefix) {
        this.prefix = prefix;
    }

    OfferId newId() {
        return OfferId.of(prefix + "-O" + nextId++);
    }

    OfferRecord get(OfferId id) {
        return offers.get(id);
    }

    Collection<OfferRecord> all() {
        return offers.values();
    }

    /** Records an offer and adds its resources to the agent's and framework's offered sums. */
    void add(OfferRecord offer, AgentRecord agent, FrameworkRecord framework) {
        offers.put(offer.id(), offer);
        agent.offered = agent.offered.plus(offer.resources());
        framework.addOffered(offer.role(), offer.resources());
        framework.offers.add(offer.id());
    }

    /** Forgets an offer and gives its resources back (to the pool, not to anyone). */
    void remove(OfferRecord offer, AgentRecord agent, FrameworkRecord framework) {
        offers.remove(offer.id());
        if (agent != null) {
            agent.offered = agent.offered.minus(offer.resources());
        }
        if (framework != null) {
            framework.removeOffered(offer.role(), offer.resources());
            framework.offers.remove(offer.id());
        }
    }
}
