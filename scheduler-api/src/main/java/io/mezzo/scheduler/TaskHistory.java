package io.mezzo.scheduler;

import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What happened to one {@link TaskSpec} in a {@link TaskQueue}: every attempt with every status
 * update it got, in order. Immutable.
 *
 * @param name the spec's name
 * @param attempts in the order they were launched; never empty
 */
public record TaskHistory(String name, List<Attempt> attempts) {

    /** Copies the list. */
    public TaskHistory {
        attempts = List.copyOf(attempts);
    }

    /**
     * One attempt: one task id on one agent.
     *
     * @param taskId {@code name.N}
     * @param agentId the agent of the offer it was launched on
     * @param updates every status update of this task id, in order; the last one ended it
     */
    public record Attempt(TaskID taskId, AgentID agentId, List<TaskStatus> updates) {

        /** Copies the list. */
        public Attempt {
            updates = List.copyOf(updates);
        }

        /** The state of the last update, or TASK_STAGING when none came yet. */
        public TaskState state() {
            return updates.isEmpty() ? TaskState.TASK_STAGING : updates.get(updates.size() - 1).getState();
        }

        /** The last update. */
        public TaskStatus last() {
            return updates.isEmpty() ? TaskStatus.getDefaultInstance() : updates.get(updates.size() - 1);
        }

        @Override
        public String toString() {
            TaskStatus last = last();
            return taskId.getValue() + " " + state()
                    + (last.hasExitCode() ? " exit " + last.getExitCode() : "")
                    + (last.getMessage().isEmpty() ? "" : " (" + last.getMessage() + ")");
        }
    }

    /** The final state: that of the last attempt. */
    public TaskState finalState() {
        return attempts.get(attempts.size() - 1).state();
    }

    /** True when the last attempt finished (exited 0). */
    public boolean succeeded() {
        return finalState() == TaskState.TASK_FINISHED;
    }

    /** One line: name, final state, number of attempts and each attempt's end. */
    @Override
    public String toString() {
        return name + " " + finalState() + " after " + attempts.size() + (attempts.size() == 1 ? " attempt" : " attempts")
                + ": " + attempts.stream().map(Attempt::toString).collect(Collectors.joining("; "));
    }
}
