package io.mezzo.scheduler;

import io.mezzo.proto.v1.TaskState;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * When {@link TaskQueue} runs a task again: up to {@code retries} more times, after an attempt
 * that ended in one of {@code retryOn}. Immutable.
 *
 * <p>The default states are the ones a new run may fix: TASK_FAILED (the command exited non-zero
 * or hit a limit), TASK_LOST, TASK_DROPPED and TASK_GONE (the attempt was lost with its agent or
 * never launched), and TASK_UNKNOWN (the master is sure no agent runs it, see docs/api.md). Not
 * TASK_KILLED (someone meant it) and not TASK_ERROR (the task is invalid; it would fail again).
 *
 * <p>An attempt that never reached an agent because its launch was not sent or its offer was void
 * (TASK_DROPPED or TASK_LOST with reason {@code REASON_INVALID_OFFERS}) is always run again and
 * does not count as a retry.
 *
 * @param retries how many times a task may run again after its first attempt (0: never)
 * @param retryOn the final states of an attempt after which it runs again
 */
public record RetryPolicy(int retries, Set<TaskState> retryOn) {

    /** The default {@link #retryOn} states. */
    public static final Set<TaskState> DEFAULT_RETRY_ON = Set.copyOf(EnumSet.of(
            TaskState.TASK_FAILED, TaskState.TASK_LOST, TaskState.TASK_DROPPED, TaskState.TASK_GONE,
            TaskState.TASK_UNKNOWN));

    /** Checks the arguments; {@code retryOn} is copied. */
    public RetryPolicy {
        if (retries < 0) {
            throw new IllegalArgumentException("retries must not be negative, got " + retries);
        }
        retryOn = Set.copyOf(Objects.requireNonNull(retryOn, "retryOn"));
    }

    /** Never run a task again. */
    public static RetryPolicy none() {
        return new RetryPolicy(0, DEFAULT_RETRY_ON);
    }

    /** Run a task again up to {@code retries} times after the default states (so at most {@code retries + 1} runs). */
    public static RetryPolicy retries(int retries) {
        return new RetryPolicy(retries, DEFAULT_RETRY_ON);
    }

    /** This policy, retrying after exactly {@code states} instead. */
    public RetryPolicy on(TaskState... states) {
        return new RetryPolicy(retries, Set.of(states));
    }

    /** Whether an attempt that ended in {@code state}, after {@code retriesUsed} retries, runs again. */
    public boolean retries(TaskState state, int retriesUsed) {
        return retriesUsed < retries && retryOn.contains(state);
    }
}
