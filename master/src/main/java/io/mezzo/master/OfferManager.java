package io.mezzo.master;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.OfferId;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Owns the outstanding offers and keeps the offered sums of agents and frameworks in step with
 * them (invariants: an agent's and a framework's {@code offered} are the sums of their outstanding
 * offers; {@code byAgent} lists exactly the outstanding offers of each agent). Loop thread only.
 */
final class OfferManager {

    private final Map<OfferId, OfferRecord> offers = new LinkedHashMap<>();
    /** Outstanding offers by agent, so that an agent's offers are found without scanning them all. */
    private final Map<AgentId, Set<OfferId>> byAgent = new HashMap<>();
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

    /** The agent's outstanding offers, oldest first (a copy). */
    List<OfferRecord> on(AgentId agent) {
        Set<OfferId> ids = byAgent.get(agent);
        return ids == null ? List.of() : ids.stream().map(offers::get).toList();
    }

    /** Records an offer and adds its resources to the agent's and framework's offered sums. */
    void add(OfferRecord offer, AgentRecord agent, FrameworkRecord framework) {
        offers.put(offer.id(), offer);
        byAgent.computeIfAbsent(offer.agent(), a -> new LinkedHashSet<>()).add(offer.id());
        agent.offered = agent.offered.plus(offer.resources());
        framework.addOffered(offer.role(), offer.resources());
        framework.offers.add(offer.id());
    }

    /** Forgets an offer and gives its resources back (to the pool, not to anyone). */
    void remove(OfferRecord offer, AgentRecord agent, FrameworkRecord framework) {
        offers.remove(offer.id());
        Set<OfferId> ids = byAgent.get(offer.agent());
        if (ids != null && ids.remove(offer.id()) && ids.isEmpty()) {
            byAgent.remove(offer.agent());
        }
        if (agent != null) {
            agent.offered = agent.offered.minus(offer.resources());
        }
        if (framework != null) {
            framework.removeOffered(offer.role(), offer.resources());
            framework.offers.remove(offer.id());
        }
    }
}
