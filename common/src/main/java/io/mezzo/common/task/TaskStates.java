package io.mezzo.common.task;

import io.mezzo.proto.v1.TaskState;

/**
 * Facts about task states that the master, the agent and schedulers share, so that each rule has
 * one copy. Pure; any thread.
 */
public final class TaskStates {

    private TaskStates() {}

    /**
     * True for the states after which a task never changes again: FINISHED, FAILED, KILLED, ERROR,
     * LOST, DROPPED and GONE. UNREACHABLE and UNKNOWN are not terminal: they are the master's
     * guesses, and the task may come back with its agent.
     */
    public static boolean isTerminal(TaskState state) {
        return switch (state) {
            case TASK_FINISHED, TASK_FAILED, TASK_KILLED, TASK_ERROR, TASK_LOST, TASK_DROPPED, TASK_GONE -> true;
            default -> false;
        };
    }
}
