package io.mezzo.agent;

import io.mezzo.agent.containerizer.Container;
import io.mezzo.agent.containerizer.Limitation;
import io.mezzo.agent.containerizer.Limits;
import io.mezzo.agent.status.TaskKey;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.ContainerId;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskCheckpoint;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * What the agent knows of one task, from RUN_TASK until the master acknowledged its terminal update.
 *
 * <pre>
 *   LAUNCHING --spawned--> RUNNING --KILL_TASK--> KILLING
 *       |                     |                      |
 *       +--failed or killed---+-------exited---------+--> TERMINAL (until the ack)
 * </pre>
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>The task's state and latest status are set when the record is made (TASK_STAGING for a new
 *       task, the checkpointed ones for a recovered task) and afterwards only by {@link #reported}, which
 *       only {@link TaskLifecycle#report} calls: the status it records is the update just stamped for
 *       the master, so the state the agent shows, checkpoints and reports is one value.
 *   <li>The phase changes only through {@link #moveTo}, which only {@link TaskLifecycle#move} calls, and
 *       only along the arrows above (an illegal move goes to the fault handler).
 * </ol>
 * (Both are checked by {@code AgentArchitectureTest}.)
 *
 * <p>Hard state for tasks of frameworks that checkpoint ({@link #checkpoint}): written to {@code
 * meta/frameworks/<framework>/tasks/<task>/task.info} ({@link #record}) with the task's update stream at
 * every change, and rebuilt from it by an agent restarted on the same work directory. Soft state
 * otherwise: an agent restart kills such a task, and the master tells its framework when the agent
 * re-registers without it.
 *
 * <p>Thread: the agent's event loop. Owner: {@link TaskLifecycle}.
 */
final class TaskRecord {

    /** The task's lifecycle on this agent. */
    enum Phase {
        /** TASK_STARTING was sent; the sandbox and process are being made. */
        LAUNCHING,
        /** The command runs. */
        RUNNING,
        /** SIGTERM was sent; waiting for the command to exit (SIGKILL after the grace period). */
        KILLING,
        /** The terminal update was produced; kept until it is acknowledged. */
        TERMINAL
    }

    private static final Map<Phase, Set<Phase>> TRANSITIONS = Map.of(
            Phase.LAUNCHING, EnumSet.of(Phase.RUNNING, Phase.TERMINAL),
            Phase.RUNNING, EnumSet.of(Phase.KILLING, Phase.TERMINAL),
            Phase.KILLING, EnumSet.of(Phase.TERMINAL),
            Phase.TERMINAL, EnumSet.noneOf(Phase.class));

    final TaskKey key;
    final TaskInfo info;
    final ContainerId containerId;
    final Path sandbox;
    final Limits limits;

    /** Its framework checkpoints: the record is on disk and the task survives an agent restart. */
    boolean checkpoint;
    Container container;
    boolean killRequested;
    StatusReason killReason = StatusReason.REASON_UNSPECIFIED;
    /** The master forgot the framework: the terminal update is sent once, unacknowledged, and the task dropped. */
    boolean frameworkRemoved;
    int messagesDelivered;
    /** Set when the agent kills the task for exceeding a limit; the terminal update reports it. */
    Limitation limitation;
    /** The latest health check result; null before the first. Carried in every later update. */
    Boolean healthy;
    /** Overrides the TASK_KILLED message (a kill for failing health checks). */
    String killMessage;

    // Invariants 1 and 2: written only through reported() and moveTo().
    private Phase phase = Phase.LAUNCHING;
    private TaskState state;
    private TaskStatus latestStatus;

    /** A new task, TASK_STAGING until its first update. */
    TaskRecord(TaskKey key, TaskInfo info, ContainerId containerId, Path sandbox) {
        this(key, info, containerId, sandbox, TaskState.TASK_STAGING, null);
    }

    /** A task recovered from its checkpoint, in the state (and with the latest status) recorded there. */
    TaskRecord(TaskKey key, TaskInfo info, ContainerId containerId, Path sandbox, TaskState state,
            TaskStatus latestStatus) {
        this.key = key;
        this.info = info;
        this.containerId = containerId;
        this.sandbox = sandbox;
        this.limits = Limits.of(info.getResourcesList());
        this.state = state;
        this.latestStatus = latestStatus;
    }

    /** The task's lifecycle phase. */
    Phase phase() {
        return phase;
    }

    /** The state of the latest update, TASK_STAGING before the first. */
    TaskState state() {
        return state;
    }

    /** The latest update's status as it was sent (uuid and timestamp included); null before the first. */
    TaskStatus latestStatus() {
        return latestStatus;
    }

    /** Whether {@code phase -> next} is a legal move. */
    boolean canMoveTo(Phase next) {
        return TRANSITIONS.get(phase).contains(next);
    }

    /** Moves to {@code next}. Only {@link TaskLifecycle#move}, which checked the move, calls this. */
    void moveTo(Phase next) {
        phase = next;
    }

    /**
     * Records the update just stamped for the task as its latest: its state becomes the task's. Only
     * {@link TaskLifecycle#report} calls this (invariant 1).
     */
    void reported(TaskStatus status) {
        state = status.getState();
        latestStatus = status;
    }

    /** The task as the master and the operator API see it. */
    Task toProto(AgentId agent) {
        Task.Builder t = Task.newBuilder()
                .setName(info.getName())
                .setTaskId(info.getTaskId())
                .setFrameworkId(key.framework().toProto())
                .setExecutorId(ExecutorID.newBuilder().setValue(key.task().value()))
                .setState(state)
                .addAllResources(info.getResourcesList())
                .setLabels(info.getLabels())
                .setTaskInfo(info)
                .setContainerId(containerId.toProto());
        if (agent != null) {
            t.setAgentId(agent.toProto());
        }
        if (latestStatus != null) {
            t.setLatestStatus(latestStatus);
        }
        return t.build();
    }

    /**
     * The task's checkpoint record without its updates (the status update manager adds those): the task
     * as last reported and its kill request.
     */
    TaskCheckpoint record(AgentId agent) {
        return TaskCheckpoint.newBuilder()
                .setTask(toProto(agent))
                .setKillRequested(killRequested)
                .setKillReason(killReason)
                .build();
    }

    @Override
    public String toString() {
        return "TaskRecord[" + key + " " + phase + " " + state + " container " + containerId + "]";
    }
}
