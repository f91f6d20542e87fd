package io.mezzo.master;

import io.mezzo.common.id.AgentId;
import java.util.Collection;

/**
 * Read access to the master's agent records, for the classes that {@link AgentManager} itself
 * calls ({@link OfferManager}, {@link TaskLifecycle}) and for {@link StateViews}: they look agents
 * up without depending on the manager, so calls only go one way. Implemented by {@link
 * AgentManager}; loop thread only.
 */
interface AgentLookup {

    /** The agent's record; null if this master does not know it. */
    AgentRecord get(AgentId id);

    /** Every agent record, in admission order (a live view: do not change agents while iterating). */
    Collection<AgentRecord> all();

    /**
     * Whether recovery after a failover is still in progress: some agent known from the registry
     * (RECOVERED) has neither re-registered nor been marked unreachable or gone. While it is, an
     * unknown task may still come back with an agent.
     */
    boolean recovering();
}
