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

    /** Sets whichever of the ids are known (null or empty ones are left out). */
    static void set(AgentId agent, String framework, String task) {
        if (agent != null) {
            MDC.put("agent", agent.value());
        }
        if (framework != null && !framework.isEmpty()) {
            MDC.put("framework", framework);
        }
        if (task != null && !task.isEmpty()) {
            MDC.put("task", task);
        }
    }

    /** Sets the agent's id and the task's. */
    static void set(AgentId agent, TaskKey key) {
        set(agent, key.framework().value(), key.task().value());
    }
}
