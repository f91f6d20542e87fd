package io.mezzo.dist.run;

import io.mezzo.common.resources.Resources;
import io.mezzo.common.task.TaskStates;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.scheduler.Scheduler;
import io.mezzo.scheduler.SchedulerDriver;
import io.mezzo.scheduler.SchedulerError;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The built-in framework behind {@code mezzo run} and the {@code mezzo dev} demo: it launches one
 * command task on the first offer big enough, declines everything else, prints each state change
 * of the task and completes {@link #result()} with the task's terminal status.
 *
 * <p>Callbacks run on the scheduler client's thread; {@link #result()} may be read from any thread.
 */
public final class RunFramework implements Scheduler {

    /** How long declined offers are refused: the framework needs one offer only. */
    private static final double REFUSE_SECONDS = 60;

    private final String taskId;
    private final String taskName;
    private final Resources resources;
    private final CommandInfo command;
    private final PrintStream out;
    private final String prefix;
    private final CompletableFuture<TaskStatus> result = new CompletableFuture<>();
    private final CompletableFuture<Void> launched = new CompletableFuture<>();
    private volatile boolean submitted;

    /**
     * A framework that will run {@code command} as task {@code taskId} with {@code resources},
     * printing its lines to {@code out} after "{@code prefix}: ".
     */
    public RunFramework(String taskId, String taskName, Resources resources, CommandInfo command, PrintStream out,
            String prefix) {
        this.prefix = prefix + ": ";
        this.taskId = taskId;
        this.taskName = taskName;
        this.resources = resources;
        this.command = command;
        this.out = out;
    }

    /** Completes with the task's terminal status, or exceptionally if the framework was refused. */
    public CompletableFuture<TaskStatus> result() {
        return result;
    }

    /** Completes once the task was handed to the master. */
    public CompletableFuture<Void> launched() {
        return launched;
    }

    /** The task's id. */
    public TaskID taskId() {
        return TaskID.newBuilder().setValue(taskId).build();
    }

    @Override
    public void subscribed(SchedulerDriver driver, FrameworkID frameworkId, MasterInfo master) {
        if (submitted) {
            // Resubscribed after a disconnection: ask for the task's state in case an update was missed.
            driver.reconcile(List.of());
        }
    }

    @Override
    public void offers(SchedulerDriver driver, List<Offer> offers) {
        List<OfferID> decline = new ArrayList<>();
        for (Offer offer : offers) {
            if (!submitted && fits(offer)) {
                TaskInfo task = TaskInfo.newBuilder()
                        .setName(taskName)
                        .setTaskId(taskId())
                        .setAgentId(offer.getAgentId())
                        .addAllResources(resources.toProto())
                        .setCommand(command)
                        .build();
                if (driver.launch(offer.getId(), List.of(task))) {
                    submitted = true;
                    launched.complete(null);
                    out.println(prefix + "launching task " + taskId + " on agent " + offer.getAgentId().getValue()
                            + " (" + offer.getHostname() + ") with " + resources);
                    out.flush();
                    driver.suppress();
                    continue;
                }
            }
            decline.add(offer.getId());
        }
        if (!decline.isEmpty()) {
            driver.decline(decline, Filters.newBuilder().setRefuseSeconds(REFUSE_SECONDS).build());
        }
    }

    /** Whether the offer holds the task's resources, unreserved or reserved for the offer's role. */
    private boolean fits(Offer offer) {
        List<Resource> plain = new ArrayList<>();
        for (Resource r : offer.getResourcesList()) {
            if (!r.hasReservation()) {
                plain.add(r.toBuilder().clearAllocationInfo().build());
            }
        }
        return Resources.fromProto(plain).contains(resources);
    }

    @Override
    public void update(SchedulerDriver driver, TaskStatus status) {
        if (!status.getTaskId().getValue().equals(taskId)) {
            return;
        }
        StringBuilder line = new StringBuilder(prefix).append("task ").append(taskId).append(' ').append(status.getState());
        if (status.hasExitCode()) {
            line.append(" (exit ").append(status.getExitCode()).append(')');
        }
        if (!status.getMessage().isEmpty()) {
            line.append(": ").append(status.getMessage());
        }
        out.println(line);
        out.flush();
        if (TaskStates.isTerminal(status.getState())) {
            result.complete(status);
        }
    }

    @Override
    public void error(SchedulerDriver driver, SchedulerError error) {
        if (error.fatal()) {
            out.println(prefix + "the master refused the framework: " + error.message());
            out.flush();
            result.completeExceptionally(new IllegalStateException(error.message()));
        } else {
            out.println(prefix + "the master refused a call: " + error.message());
            out.flush();
        }
    }

    @Override
    public void disconnected(SchedulerDriver driver) {
        out.println(prefix + "lost the master; reconnecting");
        out.flush();
    }

    /**
     * The exit code {@code mezzo run} ends with for a terminal status: the command's own exit code
     * when it ran, 137 when it was killed, 1 when it never ran or was lost.
     */
    public static int exitCode(TaskStatus status) {
        return switch (status.getState()) {
            case TASK_FINISHED -> 0;
            case TASK_FAILED -> status.hasExitCode() ? status.getExitCode() : 1;
            case TASK_KILLED -> 137;
            default -> 1;
        };
    }
}
