package io.mezzo.master;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.loop.FaultHandler;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Owns the master's agent records and their lifecycle. Loop thread only. An illegal lifecycle
 * transition is a broken invariant and goes to the fault handler (the transition is not made).
 */
final class AgentManager {

    private final Map<AgentId, AgentRecord> agents = new LinkedHashMap<>();
    private final FaultHandler faults;
    private long nextId = 1;
    private final String prefix;

    AgentManager(String prefix, FaultHandler faults) {
        this.prefix = prefix;
        this.faults = faults;
    }

    AgentId newId() {
        return AgentId.of(prefix + "-S" + nextId++);
    }

    AgentRecord get(AgentId id) {
        return agents.get(id);
    }

    void add(AgentRecord agent) {
        agents.put(agent.id, agent);
    }

    Collection<AgentRecord> all() {
        return agents.values();
    }

    /** Moves {@code agent} to {@code next}; returns false (and reports a fault) if not allowed. */
    boolean transition(AgentRecord agent, AgentRecord.State next) {
        if (!agent.state.next().contains(next)) {
            faults.handleFault("illegal agent transition " + agent.state + " -> " + next + " for " + agent.id, null);
            return false;
        }
        agent.state = next;
        return true;
    }
}
