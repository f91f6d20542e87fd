package io.mezzo.scheduler;

import io.mezzo.common.resources.ResourceText;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * One task for a {@link TaskQueue} to run: a name, a command and the resources each attempt needs;
 * optionally a retry policy and a placement rule of its own (otherwise the queue's). Immutable.
 *
 * <pre>{@code
 * TaskSpec spec = TaskSpec.shell("report-7", "./make-report 7", "cpus:0.1;mem:32")
 *         .withPlacement(offer -> offer.getHostname().startsWith("batch-"));
 * }</pre>
 *
 * @param name unique among the queue's unfinished tasks; each attempt runs as task id {@code
 *     name.N} ({@link Ids#task(String, int)}), so it must leave room for that in the task id rules
 *     (letters, digits and {@code ._-:})
 * @param command what to run
 * @param resources what each attempt needs (exact amounts, see {@link ResourceText})
 * @param retry its own retry policy, or null for the queue's
 * @param placement which offers it may run on, or null for the queue's
 */
public record TaskSpec(String name, CommandInfo command, Resources resources, RetryPolicy retry,
        Predicate<Offer> placement) {

    /** Checks the arguments. */
    public TaskSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(resources, "resources");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("task name must not be empty");
        }
    }

    /**
     * A task that runs {@code shell} with {@code /bin/sh -c}, needing {@code resources} such as
     * {@code "cpus:0.1;mem:32"}.
     *
     * @throws IllegalArgumentException when {@code resources} does not parse
     */
    public static TaskSpec shell(String name, String shell, String resources) {
        return new TaskSpec(name, CommandInfo.newBuilder().setShell(shell).build(), ResourceText.parse(resources),
                null, null);
    }

    /** This spec with its own retry policy. */
    public TaskSpec withRetry(RetryPolicy policy) {
        return new TaskSpec(name, command, resources, Objects.requireNonNull(policy, "policy"), placement);
    }

    /** This spec, placed only on offers that pass {@code rule} (called on the client thread). */
    public TaskSpec withPlacement(Predicate<Offer> rule) {
        return new TaskSpec(name, command, resources, retry, Objects.requireNonNull(rule, "rule"));
    }

    /**
     * The task of one attempt, without agent id and allocation role: {@link OfferPacker} and {@link
     * SchedulerDriver#launch(Offer, TaskInfo...)} fill those from the offer.
     */
    public TaskInfo taskInfo(TaskID id) {
        return TaskInfo.newBuilder()
                .setName(name)
                .setTaskId(id)
                .addAllResources(resources.toProto())
                .setCommand(command)
                .build();
    }
}
