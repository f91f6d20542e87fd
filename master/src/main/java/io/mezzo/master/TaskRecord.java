package io.mezzo.master;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.task.TaskStates;
import io.mezzo.proto.v1.KillPolicy;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;

/**
 * One task as the master tracks it, shared by its {@link FrameworkRecord} and {@link AgentRecord}.
 * Owned by {@link TaskLifecycle} (launch, updates, completion); rebuilt by {@link
 * AgentReregistration}. Loop thread only. Soft state, every field: rebuilt from the agent's
 * REREGISTER after a failover ({@code killRequested} and {@code killPolicy} are this master's
 * memory of a KILL not yet delivered).
 */
final class TaskRecord {

    final TaskId id;
    final FrameworkId framework;
    final AgentId agent;
    final TaskInfo info;
    final Resources resources;
    /** The role the resources were allocated to. */
    final String role;
    /** The latest state known (from the agent, or set by the master). */
    TaskState state = TaskState.TASK_STAGING;
    /** The latest status seen; default instance until the first update. */
    TaskStatus latestStatus = TaskStatus.getDefaultInstance();
    /** True once the task's resources have been given back (it reached a terminal state). */
    boolean resourcesRecovered;
    /** The framework, an operator or a drain asked to kill the task; resent when its agent comes back. */
    boolean killRequested;
    /** Why the latest kill was asked (KILLED_BY_FRAMEWORK, KILLED_BY_OPERATOR, AGENT_DRAINING); the resent kill keeps it. */
    StatusReason killReason = StatusReason.REASON_KILLED_BY_FRAMEWORK;
    /** The kill policy of that KILL call, when it gave one. */
    KillPolicy killPolicy;
    /** The drain of its agent sent the kill (to this master's knowledge of the task). Soft. */
    boolean drainKillSent;

    TaskRecord(TaskId id, FrameworkId framework, AgentId agent, TaskInfo info, Resources resources, String role) {
        this.id = id;
        this.framework = framework;
        this.agent = agent;
        this.info = info;
        this.resources = resources;
        this.role = role;
    }

    boolean terminal() {
        return TaskStates.isTerminal(state);
    }

    Task toProto() {
        Task.Builder t = Task.newBuilder()
                .setName(info.getName())
                .setTaskId(id.toProto())
                .setFrameworkId(framework.toProto())
                .setExecutorId(io.mezzo.proto.v1.ExecutorID.newBuilder().setValue(id.value()))
                .setAgentId(agent.toProto())
                .setState(state)
                .addAllResources(resources.toProto(role))
                .setLabels(info.getLabels());
        if (latestStatus.hasTaskId()) {
            t.setLatestStatus(latestStatus);
            if (latestStatus.hasContainerId()) {
                t.setContainerId(latestStatus.getContainerId());
            }
        }
        return t.build();
    }

    @Override
    public String toString() {
        return id + " of " + framework + " on " + agent + " " + state;
    }
}
