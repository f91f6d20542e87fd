package io.mezzo.services;

import io.mezzo.proto.v1.MaintenanceWindow;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drain notices the master sent: which agents have a pending maintenance window and when it
 * starts. Instances on those agents are marked draining (replaced elsewhere first, killed shortly
 * before the window if still there); offers from them take no new instance.
 *
 * <p>Soft state: rebuilt from the master's next maintenance event after a restart. Thread: the
 * manager's loop. Owner: {@link ServiceManager} (copied and swapped with the rest of its state).
 */
final class Drains {

    private static final Logger LOG = LoggerFactory.getLogger(Drains.class);

    /** Agent id -> clock millis its maintenance window starts. */
    private final Map<String, Long> starts;

    Drains() {
        this(new HashMap<>());
    }

    private Drains(Map<String, Long> starts) {
        this.starts = starts;
    }

    Drains copy() {
        return new Drains(new HashMap<>(starts));
    }

    /** Replaces the notices by {@code windows} and marks {@code instances} (the earliest window wins). */
    void windows(Collection<MaintenanceWindow> windows, Collection<Instance> instances) {
        starts.clear();
        for (MaintenanceWindow w : windows) {
            long start = Math.round(w.getStartTime() * 1000);
            w.getAgentIdsList().forEach(a -> starts.merge(a.getValue(), start, Math::min));
        }
        for (Instance i : instances) {
            boolean was = i.draining;
            i.draining = starts.containsKey(i.agentId);
            if (i.draining && !was) {
                LOG.info("Instance {} is on draining agent {}: replacing it elsewhere before {}", i.id, i.agentId,
                        Instant.ofEpochMilli(starts.get(i.agentId)));
            }
        }
    }

    boolean contains(String agent) {
        return starts.containsKey(agent);
    }

    Set<String> agents() {
        return starts.keySet();
    }

    /** Each draining agent with the clock millis its window starts. */
    void forEach(BiConsumer<String, Long> action) {
        starts.forEach(action);
    }
}
