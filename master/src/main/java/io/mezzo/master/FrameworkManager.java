package io.mezzo.master;

import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.loop.FaultHandler;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Owns the master's framework records, their lifecycle and the ids of removed frameworks (so that
 * a removed framework cannot come back). Loop thread only.
 */
final class FrameworkManager {

    /** How many removed framework ids are remembered. */
    static final int MAX_REMOVED = 1_000;

    private final Map<FrameworkId, FrameworkRecord> frameworks = new LinkedHashMap<>();
    private final Set<FrameworkId> removed = new LinkedHashSet<>();
    private final FaultHandler faults;
    private final String prefix;
    private long nextId = 1;

    FrameworkManager(String prefix, FaultHandler faults) {
        this.prefix = prefix;
        this.faults = faults;
    }

    FrameworkId newId() {
        FrameworkId id;
        do {
            id = FrameworkId.of(String.format("%s-%04d", prefix, nextId++));
        } while (frameworks.containsKey(id) || removed.contains(id));
        return id;
    }

    FrameworkRecord get(FrameworkId id) {
        return frameworks.get(id);
    }

    void add(FrameworkRecord framework) {
        frameworks.put(framework.id, framework);
    }

    Collection<FrameworkRecord> all() {
        return frameworks.values();
    }

    boolean isRemoved(FrameworkId id) {
        return removed.contains(id);
    }

    /** Remembers a framework removed under an earlier leader. */
    void rememberRemoved(FrameworkId id) {
        removed.add(id);
    }

    /**
     * The oldest removed id, forgotten now, if remembering one more would pass the bound; its
     * registry tombstone should go in the same write. Null otherwise.
     */
    FrameworkId oldestRemovedIfFull() {
        if (removed.size() < MAX_REMOVED) {
            return null;
        }
        FrameworkId oldest = removed.iterator().next();
        removed.remove(oldest);
        return oldest;
    }

    /** Forgets a framework and remembers that its id is removed. */
    void remove(FrameworkRecord framework) {
        transition(framework, FrameworkRecord.State.REMOVED);
        frameworks.remove(framework.id);
        removed.add(framework.id);
        if (removed.size() > MAX_REMOVED) {
            removed.remove(removed.iterator().next());
        }
    }

    /** Moves {@code framework} to {@code next}; returns false (and reports a fault) if not allowed. */
    boolean transition(FrameworkRecord framework, FrameworkRecord.State next) {
        if (!framework.state.next().contains(next)) {
            faults.handleFault(
                    "illegal framework transition " + framework.state + " -> " + next + " for " + framework.id, null);
            return false;
        }
        framework.state = next;
        return true;
    }
}
