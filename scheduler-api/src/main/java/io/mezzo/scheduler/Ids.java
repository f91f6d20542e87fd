package io.mezzo.scheduler;

import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.TaskID;
import java.util.Objects;

/**
 * Short factories for the protocol's id wrappers: {@code Ids.task("hello-1")} instead of {@code
 * TaskID.newBuilder().setValue("hello-1").build()}. Pure; any thread.
 *
 * <p>Task ids are chosen by the framework: 1 to 255 letters, digits and {@code ._-:}, not {@code
 * .} or {@code ..} (they become sandbox directory names), unique among the framework's tasks that
 * the master still knows. Give every <em>attempt</em> its own id ({@link #task(String, int)}): an
 * id whose task has ended may be accepted again once the master has forgotten the old task, but
 * late updates and reconciliation answers about the old run would then be indistinguishable from
 * the new one's. The master checks the rules when it validates a launch (TASK_ERROR with a message
 * naming the id); these factories check only for null and empty.
 */
public final class Ids {

    private Ids() {}

    /** A task id. */
    public static TaskID task(String value) {
        return TaskID.newBuilder().setValue(nonEmpty(value, "task id")).build();
    }

    /**
     * The id of attempt {@code attempt} (1 for the first run) of the task called {@code name}:
     * {@code name.attempt}, e.g. {@code task-3.2} for the first retry of {@code task-3}.
     */
    public static TaskID task(String name, int attempt) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be at least 1, got " + attempt);
        }
        return task(nonEmpty(name, "task name") + "." + attempt);
    }

    /** An agent id (as the master assigned it). */
    public static AgentID agent(String value) {
        return AgentID.newBuilder().setValue(nonEmpty(value, "agent id")).build();
    }

    /** A framework id (as the master assigned it), e.g. to resubscribe after a restart. */
    public static FrameworkID framework(String value) {
        return FrameworkID.newBuilder().setValue(nonEmpty(value, "framework id")).build();
    }

    /** An offer id. */
    public static OfferID offer(String value) {
        return OfferID.newBuilder().setValue(nonEmpty(value, "offer id")).build();
    }

    /** An executor id; for command tasks, the task id's value. */
    public static ExecutorID executor(String value) {
        return ExecutorID.newBuilder().setValue(nonEmpty(value, "executor id")).build();
    }

    private static String nonEmpty(String value, String what) {
        Objects.requireNonNull(value, what);
        if (value.isEmpty()) {
            throw new IllegalArgumentException(what + " must not be empty");
        }
        return value;
    }
}
