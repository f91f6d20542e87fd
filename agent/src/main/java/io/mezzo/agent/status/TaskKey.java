package io.mezzo.agent.status;

import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import java.util.Objects;

/**
 * Identifies a task on this agent: task ids are unique only within their framework, so the agent keys
 * its tasks and their status update streams by both.
 *
 * <p>Immutable; any thread. Public only so that the agent's other packages can share it.
 */
public record TaskKey(FrameworkId framework, TaskId task) {

    /** Rejects nulls. */
    public TaskKey {
        Objects.requireNonNull(framework, "framework");
        Objects.requireNonNull(task, "task");
    }

    /** Framework id, then task id, as they appear in log lines. */
    @Override
    public String toString() {
        return framework + "/" + task;
    }
}
