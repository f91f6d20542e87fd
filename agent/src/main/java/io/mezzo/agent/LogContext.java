package io.mezzo.agent;

import io.mezzo.agent.status.TaskKey;
import io.mezzo.common.id.AgentId;
import org.slf4j.MDC;

/**
 * Sets the logging MDC ({@code agent}, {@code framework}, {@code task}) for the log lines of one loop
 * event; the event loop clears it after every event, so ids never leak into the next one.
 *
 * <p>Stateless; called on the agent's event loop.
 */
final class LogContext {

    private LogContext() {}

    /**
     * Sets the ids of what the next lines concern; a null or empty framework or task is removed, so
     * that a line about the agent after a line about a task (recovery, sandbox GC) carries no stale
     * {@code task=}.
     */
    static void set(AgentId agent, String framework, String task) {
        if (agent != null) {
            MDC.put("agent", agent.value());
        }
        put("framework", framework);
        put("task", task);
    }

    private static void put(String key, String value) {
        if (value != null && !value.isEmpty()) {
            MDC.put(key, value);
        } else {
            MDC.remove(key);
        }
    }

    /** Sets the agent's id and the task's. */
    static void set(AgentId agent, TaskKey key) {
        set(agent, key.framework().value(), key.task().value());
    }
}
