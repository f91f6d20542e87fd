package io.mezzo.agent.status;

import io.mezzo.proto.v1.TaskState;

/**
 * Facts about task states the agent relies on. Pure; any thread. Public only so that the agent's other
 * packages can share it.
 */
public final class TaskStates {

    private TaskStates() {}

    /**
     * True for the states after which a task never changes again: FINISHED, FAILED, KILLED, ERROR, LOST,
     * DROPPED and GONE. (UNREACHABLE and UNKNOWN are master-side guesses; the task may come back.)
     */
    public static boolean isTerminal(TaskState state) {
        return switch (state) {
            case TASK_FINISHED, TASK_FAILED, TASK_KILLED, TASK_ERROR, TASK_LOST, TASK_DROPPED, TASK_GONE -> true;
            default -> false;
        };
    }
}
