package io.mezzo.agent;

import io.mezzo.agent.containerizer.Container;
import io.mezzo.agent.containerizer.Limits;
import io.mezzo.agent.containerizer.UsageSample;
import io.mezzo.agent.health.HealthChecker;
import io.mezzo.agent.status.TaskKey;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.ContainerId;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.Task;
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
 * <p>Hard state for tasks of frameworks that checkpoint ({@link #checkpoint}): written to {@code
 * meta/frameworks/<framework>/tasks/<task>/task.info} with the task's update stream at every change, and
 * rebuilt from it by an agent restarted on the same work directory. Soft state otherwise: an agent
 * restart kills such a task, and the master tells its framework when the agent re-registers without it.
 *
 * <p>Thread: the agent's event loop. Owner: {@link TaskManager}.
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

    /** Why the agent itself ended a task that outgrew its resources. */
    record Limitation(StatusReason reason, String message) {}

    final TaskKey key;
    final TaskInfo info;
    final ContainerId containerId;
    final Path sandbox;
    final Limits limits;

    /** Its framework checkpoints: the record is on disk and the task survives an agent restart. */
    boolean checkpoint;
    Phase phase = Phase.LAUNCHING;
    Container container;
    TaskState state = TaskState.TASK_STAGING;
    TaskStatus latestStatus;
    boolean killRequested;
    StatusReason killReason = StatusReason.REASON_UNSPECIFIED;
    /** The master forgot the framework: the terminal update is sent once, unacknowledged, and the task dropped. */
    boolean frameworkRemoved;
    int messagesDelivered;
    /** Set when the agent kills the task for exceeding a limit; the terminal update reports it. */
    Limitation limitation;
    /** The latest usage sample of its container. */
    UsageSample usage = UsageSample.EMPTY;
    /** Its health checker while it runs with a health check. */
    HealthChecker health;
    /** The latest health check result; null before the first. Carried in every later update. */
    Boolean healthy;
    /** Bytes its sandbox held when last measured. */
    long diskUsed;
    /** The one WARN line about exceeding its disk (not enforced) was logged. */
    boolean diskWarned;
    /** Overrides the TASK_KILLED message (a kill for failing health checks). */
    String killMessage;

    TaskRecord(TaskKey key, TaskInfo info, ContainerId containerId, Path sandbox) {
        this.key = key;
        this.info = info;
        this.containerId = containerId;
        this.sandbox = sandbox;
        this.limits = Limits.of(info.getResourcesList());
    }

    /** Whether {@code phase -> next} is a legal move. */
    boolean canMoveTo(Phase next) {
        return TRANSITIONS.get(phase).contains(next);
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

    @Override
    public String toString() {
        return "TaskRecord[" + key + " " + phase + " " + state + " container " + containerId + "]";
    }
}
