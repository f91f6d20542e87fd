package io.mezzo.master;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.task.TaskStates;
import io.mezzo.common.validation.Limits;
import io.mezzo.master.validation.IdValidation;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.KillPolicy;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * A task's life in the master, from launch to forgotten: launch bookkeeping, KILL, status updates
 * from agents, ACKNOWLEDGE, reconciliation, framework messages to executors, giving a task's
 * resources back, and the completed tasks kept for the operator.
 *
 * <pre>
 *  ACCEPT (valid) -> launch: TaskRecord (STAGING) on its framework and agent --- RUN_TASK ---> agent
 *  agent --- STATUS_UPDATE{uuid} ---> statusUpdate: latest state; terminal -> resources back once
 *                                        -> UPDATE to the framework (held while it is away)
 *  framework --- ACKNOWLEDGE{uuid} ---> acknowledge --- STATUS_UPDATE_ACK ---> agent
 *                                        terminal update acknowledged -> completeTask
 * </pre>
 *
 * <p>Owner: {@link MasterCore}. Called by the core and by the agent and framework managers (a lost
 * or gone agent's tasks, a removed framework's tasks); it calls only {@link OfferManager} and
 * {@link Outbox}, and looks records up through {@link AgentLookup} and {@link FrameworkLookup}.
 * Thread: the master's event loop only.
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>A task's resources are given back exactly once ({@link #recoverTaskResources}): when it
 *       reaches a terminal state, becomes unreachable, is gone, or its framework is removed.
 *   <li>A task is in its framework's and its agent's task maps together, until it is completed.
 *   <li>An explicit reconciliation is answered only when the master is sure: a task it does not
 *       know is reported TASK_UNKNOWN only once no agent may still re-register with it (no agent
 *       named and recovery over), and TASK_GONE only by an agent that registered with this master
 *       without it. Until then the answer is held, never dropped while the framework's stream
 *       lasts, and sent in the order asked (see {@link #reconcile}).
 * </ol>
 *
 * <p>State: the tasks themselves live in {@link FrameworkRecord#tasks} and {@link
 * AgentRecord#tasks} (soft: rebuilt from the agents' REREGISTER). Held here: {@code
 * completedTasks}, the last --max_completed_tasks tasks forgotten, for the operator API (soft: a
 * new leader starts with none), and the {@code held} reconciliation answers (soft: dropped with the
 * framework's stream; schedulers reconcile again when they resubscribe).
 */
final class TaskLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(TaskLifecycle.class);

    private final MasterConfig config;
    private final Outbox out;
    private final OfferManager offers;
    private final MasterMetrics metrics;
    /** Read access to the agents; bound once by {@link #lookUpRecordsIn}. */
    private AgentLookup agents;
    /** Read access to the frameworks; bound once by {@link #lookUpRecordsIn}. */
    private FrameworkLookup frameworks;
    /** Tasks forgotten, newest last, at most --max_completed_tasks. Soft. */
    private final ArrayDeque<Task> completedTasks = new ArrayDeque<>();
    /** Explicit reconciliation answers the master cannot give yet (invariant 3). Soft. */
    private final HeldReconciliations held = new HeldReconciliations();

    TaskLifecycle(MasterConfig config, Outbox out, OfferManager offers, MasterMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
        this.out = out;
        this.offers = offers;
    }

    /**
     * Gives read access to the records of the managers that call this class (they are built after
     * it). Called once by {@link MasterCore}'s constructor, before any event.
     */
    void lookUpRecordsIn(AgentLookup agents, FrameworkLookup frameworks) {
        if (this.agents != null) {
            throw new IllegalStateException("records are bound already");
        }
        this.agents = agents;
        this.frameworks = frameworks;
    }

    // ------------------------------------------------------------------------------------------
    // Launch and kill
    // ------------------------------------------------------------------------------------------

    /** Records a task of a valid ACCEPT (its resources are already allocated) and sends it to the agent. */
    void launch(FrameworkRecord fw, AgentRecord agent, TaskInfo info, Resources resources, String role) {
        TaskId id = TaskId.of(info.getTaskId());
        TaskRecord task = new TaskRecord(id, fw.id, agent.id, info, resources, role);
        task.latestStatus = out.masterStatus(id.value(), agent.id.value(), TaskState.TASK_STAGING,
                StatusReason.REASON_UNSPECIFIED, "");
        fw.tasks.put(id, task);
        agent.addTask(task);
        agent.used = agent.used.plus(resources);
        fw.addUsed(role, resources);
        offers.admission().launched(task);
        out.sendToAgent(agent, MasterMessage.newBuilder()
                .setType(MasterMessage.Type.RUN_TASK)
                .setRunTask(MasterMessage.RunTask.newBuilder().setFramework(fw.info).setTask(info)));
        MDC.put("task", id.value());
        MDC.put("agent", agent.id.value());
        LOG.info("Launching task {} ({}) of framework {} on agent {} with {}", id, info.getName(), fw.id, agent.id,
                resources);
        MDC.remove("task");
        MDC.remove("agent");
    }

    /**
     * KILL: sent to the task's agent now, or remembered and sent when the agent re-registers
     * ({@code killRequested}). An ended task is answered at once; an unknown one as an explicit
     * reconciliation would be (invariant 3): at once when the master is sure (reason
     * TASK_UNKNOWN), else held until it is. A held answer may then say the task runs: the agent
     * came back with it, and the framework kills it again.
     */
    void kill(FrameworkRecord fw, Call.Kill kill) {
        String id = kill.getTaskId().getValue();
        if (id.isEmpty()) {
            out.refuse(fw, Call.Type.KILL, Event.Error.Code.INVALID_CALL, "KILL names no task_id");
            return;
        }
        String idError = IdValidation.validate("KILL task_id", id);
        if (idError == null && !kill.getAgentId().getValue().isEmpty()) {
            idError = IdValidation.validate("KILL agent_id", kill.getAgentId().getValue());
        }
        if (idError != null) {
            out.refuse(fw, Call.Type.KILL, Event.Error.Code.INVALID_CALL, idError);
            return;
        }
        if (kill.hasKillPolicy() && kill.getKillPolicy().getGracePeriod().getNanoseconds() < 0) {
            out.refuse(fw, Call.Type.KILL, Event.Error.Code.INVALID_CALL, "KILL kill_policy.grace_period is negative");
            return;
        }
        MDC.put("task", id);
        TaskRecord task = fw.tasks.get(TaskId.of(id));
        if (task == null) {
            TaskStatus answer = explicitAnswer(fw, TaskId.of(id), kill.getAgentId().getValue());
            if (answer != null) {
                LOG.info("Framework {} asked to kill unknown task {}", fw.id, id);
                out.sendUpdate(fw, answer.toBuilder().setReason(StatusReason.REASON_TASK_UNKNOWN).build());
            } else if (hold(fw, TaskId.of(id), kill.getAgentId().getValue())) {
                LOG.info("Framework {} asked to kill unknown task {}; answered once the agents that may have it are"
                        + " back", fw.id, id);
            } else {
                out.refuse(fw, Call.Type.KILL, Event.Error.Code.INVALID_CALL, "KILL of unknown task " + id
                        + " is not answered: the framework already waits for " + HeldReconciliations.MAX_PER_FRAMEWORK
                        + " answers until agents re-register; ask again later");
            }
            return;
        }
        if (task.terminal()) {
            out.sendUpdate(fw, out.reconciliationStatus(fw, task, "task " + id + " has already ended"));
            return;
        }
        task.killRequested = true;
        task.killReason = StatusReason.REASON_KILLED_BY_FRAMEWORK;
        task.killPolicy = kill.hasKillPolicy() ? kill.getKillPolicy() : null;
        AgentRecord agent = agents.get(task.agent);
        if (agent != null && agent.connection != null && agent.state != AgentRecord.State.UNREACHABLE) {
            sendKill(agent, task, StatusReason.REASON_KILLED_BY_FRAMEWORK);
            LOG.info("Killing task {} of framework {} on agent {}", id, fw.id, task.agent);
        } else {
            LOG.info("Kill of task {} of framework {} waits for agent {} to come back", id, fw.id, task.agent);
            out.sendUpdate(fw, out.reconciliationStatus(fw, task,
                    "agent " + task.agent + " is not connected; the kill is sent when it re-registers"));
        }
    }

    /**
     * KillTask from an operator: the same path as a framework's KILL of a known task (remembered
     * and resent when its agent comes back), with reason KILLED_BY_OPERATOR. Returns null, or why
     * the task cannot be killed (it is not known).
     */
    String killByOperator(FrameworkId framework, TaskId id) {
        FrameworkRecord fw = frameworks.get(framework);
        TaskRecord task = fw == null ? null : fw.tasks.get(id);
        if (task == null) {
            return "task " + id + " of framework " + framework + " is not known";
        }
        if (task.terminal()) {
            return null;
        }
        task.killRequested = true;
        task.killReason = StatusReason.REASON_KILLED_BY_OPERATOR;
        AgentRecord agent = agents.get(task.agent);
        if (agent != null && agent.connection != null && agent.state != AgentRecord.State.UNREACHABLE) {
            sendKill(agent, task, StatusReason.REASON_KILLED_BY_OPERATOR);
            LOG.info("Killing task {} of framework {} on agent {}: asked by an operator", id, framework, task.agent);
        } else {
            LOG.info("Operator kill of task {} of framework {} waits for agent {} to come back", id, framework,
                    task.agent);
        }
        return null;
    }

    /** Sends KILL_TASK (with the framework's kill policy, if it gave one) to the task's agent. */
    void sendKill(AgentRecord agent, TaskRecord task, StatusReason reason) {
        sendKill(agent, task, reason, task.killPolicy);
    }

    /** Sends KILL_TASK with {@code policy} (null: the task's own) to the task's agent. */
    void sendKill(AgentRecord agent, TaskRecord task, StatusReason reason, KillPolicy policy) {
        MasterMessage.KillTask.Builder kill = MasterMessage.KillTask.newBuilder()
                .setFrameworkId(task.framework.toProto())
                .setTaskId(task.id.toProto())
                .setReason(reason);
        if (policy != null) {
            kill.setKillPolicy(policy);
        }
        out.sendToAgent(agent, MasterMessage.newBuilder().setType(MasterMessage.Type.KILL_TASK).setKillTask(kill));
    }

    // ------------------------------------------------------------------------------------------
    // Status updates and acknowledgements
    // ------------------------------------------------------------------------------------------

    /**
     * A STATUS_UPDATE from a registered agent: the task's latest state changes (a terminal one
     * gives its resources back at once), and the update goes to the framework if it is connected;
     * otherwise the agent keeps resending it until it is acknowledged.
     */
    void statusUpdate(AgentRecord agent, StatusUpdate update) {
        TaskStatus status = update.getStatus();
        String error = null;
        if (update.getFrameworkId().getValue().isEmpty()) {
            error = "status update has no framework_id";
        } else if (!IdValidation.isValid(update.getFrameworkId().getValue())) {
            error = IdValidation.validate("status update framework_id", update.getFrameworkId().getValue());
        } else if (!IdValidation.isValid(status.getTaskId().getValue())) {
            error = IdValidation.validate("status update task_id", status.getTaskId().getValue());
        } else if (status.hasAgentId() && !status.getAgentId().getValue().equals(agent.id.value())) {
            error = "status update names agent '" + Limits.shown(status.getAgentId().getValue())
                    + "' but came from agent " + agent.id;
        } else if (status.getState() == TaskState.TASK_STATE_UNSPECIFIED || status.getState() == TaskState.UNRECOGNIZED) {
            error = "status update has no state";
        } else if (update.getLatestState() == TaskState.UNRECOGNIZED) {
            error = "status update has a latest_state this master does not know";
        } else if (status.getUuid().size() != 16) {
            error = "status update uuid is not 16 bytes";
        }
        if (error != null) {
            LOG.warn("Dropped malformed status update from agent {}: {}", agent.id, error);
            return;
        }
        FrameworkId fid = FrameworkId.of(update.getFrameworkId());
        TaskId tid = TaskId.of(status.getTaskId());
        MDC.put("framework", fid.value());
        MDC.put("task", tid.value());
        if (!status.hasAgentId()) {
            status = status.toBuilder().setAgentId(agent.id.toProto()).build();
        }
        if (status.getMessage().length() > Limits.MESSAGE) {
            // Frameworks get a bounded message; the update itself is not refused (the agent would resend it forever).
            status = status.toBuilder().setMessage(status.getMessage().substring(0, Limits.MESSAGE) + "...["
                    + (status.getMessage().length() - Limits.MESSAGE) + " more characters]").build();
        }
        TaskState latest = update.getLatestState() == TaskState.TASK_STATE_UNSPECIFIED ? status.getState()
                : update.getLatestState();
        TaskRecord task = agent.task(fid, tid);
        if (task == null && ranElsewhere(fid, tid, agent.id)) {
            // Only the agent that runs a task speaks for it: a forged update never reaches the framework.
            LOG.warn("Dropped status update {} of task {} of framework {} from agent {}: the task runs on agent {}",
                    status.getState(), tid, fid, agent.id, frameworks.get(fid).tasks.get(tid).agent);
            return;
        }
        boolean retry = task != null && task.latestStatus.getUuid().equals(status.getUuid());
        if (task != null) {
            boolean wasStaging = task.state == TaskState.TASK_STAGING;
            task.latestStatus = status;
            task.state = latest;
            if (wasStaging) {
                offers.launchSettled(task);
            }
            if (TaskStates.isTerminal(latest) && !task.resourcesRecovered) {
                recoverTaskResources(task);
                offers.requestAllocation();
            }
        }
        if (retry) {
            LOG.debug("Status update {} of task {} resent by agent {}", status.getState(), tid, agent.id);
        } else {
            metrics.taskTransition(status.getState(), status.getReason());
            LOG.info("Task {} of framework {} on agent {} is {}{}{}", tid, fid, agent.id, status.getState(),
                    status.getReason() == StatusReason.REASON_UNSPECIFIED ? "" : " (" + status.getReason() + ")",
                    status.getMessage().isEmpty() ? "" : ": " + Limits.shown(status.getMessage()));
        }
        FrameworkRecord fw = frameworks.get(fid);
        if (fw == null) {
            if (frameworks.isRemoved(fid)) {
                out.shutdownFramework(agent, fid);
            } else {
                LOG.debug("Held update of task {}: framework {} is unknown", tid, fid);
            }
            return;
        }
        if (fw.connection == null) {
            LOG.debug("Held update of task {}: framework {} is disconnected; the agent resends it", tid, fid);
            return;
        }
        out.sendUpdate(fw, status);
    }

    /** True when the framework's task {@code tid} is known to run on an agent other than {@code from}. */
    private boolean ranElsewhere(FrameworkId fid, TaskId tid, AgentId from) {
        FrameworkRecord fw = frameworks.get(fid);
        TaskRecord task = fw == null ? null : fw.tasks.get(tid);
        return task != null && !task.agent.equals(from);
    }

    /**
     * ACKNOWLEDGE: forwarded to the agent, which then sends the task's next update. The
     * acknowledgement of a terminal update completes the task. Forwarded for any task of a
     * connected agent: the agent is the judge of which update it acknowledges.
     */
    void acknowledge(FrameworkRecord fw, Call.Acknowledge ack) {
        String error = null;
        if (ack.getAgentId().getValue().isEmpty()) {
            error = "ACKNOWLEDGE names no agent_id";
        } else if (ack.getTaskId().getValue().isEmpty()) {
            error = "ACKNOWLEDGE names no task_id";
        } else if (!IdValidation.isValid(ack.getAgentId().getValue())) {
            error = IdValidation.validate("ACKNOWLEDGE agent_id", ack.getAgentId().getValue());
        } else if (!IdValidation.isValid(ack.getTaskId().getValue())) {
            error = IdValidation.validate("ACKNOWLEDGE task_id", ack.getTaskId().getValue());
        } else if (ack.getUuid().size() != 16) {
            error = "ACKNOWLEDGE uuid must be the 16 bytes of the update's uuid, got " + ack.getUuid().size();
        }
        if (error != null) {
            out.refuse(fw, Call.Type.ACKNOWLEDGE, Event.Error.Code.INVALID_CALL, error);
            return;
        }
        AgentRecord agent = agents.get(AgentId.of(ack.getAgentId()));
        if (agent == null) {
            out.refuse(fw, Call.Type.ACKNOWLEDGE, Event.Error.Code.NOT_FOUND,
                    "agent " + ack.getAgentId().getValue() + " is not known");
            return;
        }
        MDC.put("task", ack.getTaskId().getValue());
        MDC.put("agent", agent.id.value());
        if (agent.connection == null) {
            LOG.debug("Acknowledgement for agent {} dropped: it is not connected and will resend the update", agent.id);
            return;
        }
        out.sendToAgent(agent, MasterMessage.newBuilder()
                .setType(MasterMessage.Type.STATUS_UPDATE_ACK)
                .setStatusUpdateAck(MasterMessage.StatusUpdateAck.newBuilder()
                        .setFrameworkId(fw.id.toProto())
                        .setTaskId(ack.getTaskId())
                        .setUuid(ack.getUuid())));
        TaskRecord task = agent.task(fw.id, TaskId.of(ack.getTaskId()));
        if (task != null && task.terminal() && TaskStates.isTerminal(task.latestStatus.getState())
                && task.latestStatus.getUuid().equals(ack.getUuid())) {
            completeTask(task);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Reconciliation and framework messages
    // ------------------------------------------------------------------------------------------

    /**
     * RECONCILE: the latest state of every task (implicit) or of the named ones (explicit).
     *
     * <p>Explicit reconciliation answers a task the master does not know only when the master is
     * sure (invariant 3); until then the answer is held ({@link HeldReconciliations}) and sent by
     * {@link #answerHeld} when the agent decides it. For a task the master does not know:
     *
     * <pre>
     *  agent named          its state            answer (TASK_LOST to frameworks not PARTITION_AWARE)
     *  known                RECOVERED            held until it re-registers (its report decides:
     *                                              the task's state, or TASK_GONE without it) or is
     *                                              marked unreachable (TASK_UNREACHABLE) or gone
     *  known                REGISTERED/DRAINING  TASK_GONE: it registered with this master without it
     *  known                UNREACHABLE          TASK_UNREACHABLE
     *  known                GONE                 TASK_GONE
     *  none, or unknown     recovery in progress held until recovery ends (or the task appears)
     *  none, or unknown     no recovery          TASK_UNKNOWN
     * </pre>
     */
    void reconcile(FrameworkRecord fw, Call.Reconcile reconcile) {
        if (reconcile.getTasksCount() == 0) {
            for (TaskRecord task : fw.tasks.values()) {
                out.sendUpdate(fw, out.reconciliationStatus(fw, task, "implicit reconciliation"));
            }
            LOG.info("Reconciled {} tasks of framework {} implicitly", fw.tasks.size(), fw.id);
            return;
        }
        for (Call.Reconcile.Task t : reconcile.getTasksList()) {
            String id = t.getTaskId().getValue();
            if (id.isEmpty()) {
                out.refuse(fw, Call.Type.RECONCILE, Event.Error.Code.INVALID_CALL, "RECONCILE lists a task without task_id");
                return;
            }
            if (!IdValidation.isValid(id)) {
                out.refuse(fw, Call.Type.RECONCILE, Event.Error.Code.INVALID_CALL,
                        IdValidation.validate("RECONCILE task_id", id));
                return;
            }
        }
        int holding = 0;
        int refused = 0;
        for (Call.Reconcile.Task t : reconcile.getTasksList()) {
            TaskId id = TaskId.of(t.getTaskId());
            String agentId = t.getAgentId().getValue();
            TaskStatus answer = explicitAnswer(fw, id, agentId);
            if (answer != null) {
                out.sendUpdate(fw, answer);
            } else if (hold(fw, id, agentId)) {
                holding++;
            } else {
                refused++;
            }
        }
        if (refused > 0) {
            out.refuse(fw, Call.Type.RECONCILE, Event.Error.Code.INVALID_CALL, refused + " tasks of this RECONCILE are"
                    + " not answered: the framework already waits for " + HeldReconciliations.MAX_PER_FRAMEWORK
                    + " answers until agents re-register; ask again later");
        }
        if (holding > 0) {
            LOG.info("Reconciled {} tasks of framework {} explicitly; {} answers held until their agents re-register"
                    + " or recovery ends ({} held in all)", reconcile.getTasksCount(), fw.id, holding, held.size(fw.id));
        } else {
            LOG.info("Reconciled {} tasks of framework {} explicitly", reconcile.getTasksCount(), fw.id);
        }
    }

    /**
     * The answer to an explicit reconciliation of task {@code id} naming {@code agentId} (or ""),
     * or null while the master cannot be sure (an agent that may have it has not re-registered).
     * See the table at {@link #reconcile}.
     */
    private TaskStatus explicitAnswer(FrameworkRecord fw, TaskId id, String agentId) {
        TaskRecord task = fw.tasks.get(id);
        if (task != null) {
            return out.reconciliationStatus(fw, task, "explicit reconciliation");
        }
        AgentRecord agent = agentId.isEmpty() ? null : agents.get(AgentId.of(agentId));
        TaskState state;
        String message;
        if (agent == null) {
            if (agents.recovering()) {
                return null;
            }
            state = TaskState.TASK_UNKNOWN;
            message = "task " + id + " is not known to the master"
                    + (agentId.isEmpty() ? "" : " and neither is agent " + agentId)
                    + "; no agent is expected back with it";
        } else {
            switch (agent.state) {
                case RECOVERED -> {
                    return null;
                }
                case UNREACHABLE -> {
                    state = TaskState.TASK_UNREACHABLE;
                    message = "agent " + agentId + " is unreachable";
                }
                case GONE -> {
                    state = TaskState.TASK_GONE;
                    message = "agent " + agentId + " is gone";
                }
                default -> {
                    state = TaskState.TASK_GONE;
                    message = "task " + id + " is not on agent " + agentId + ", which registered with this master without it";
                }
            }
        }
        return out.masterStatus(id.value(), agentId, Outbox.forFramework(fw, state), StatusReason.REASON_RECONCILIATION,
                message);
    }

    /** Holds the answer about {@code id} for the framework's current stream; false when its bound is reached. */
    private boolean hold(FrameworkRecord fw, TaskId id, String agentId) {
        if (!held.askedOn(fw)) {
            // Answers held for an earlier stream of this framework are never sent (HeldReconciliations invariant 2).
            held.drop(fw.id);
        }
        return held.hold(fw, id, agentId);
    }

    /**
     * Sends every held answer that can now be given (an agent re-registered, was marked
     * unreachable or gone, or recovery ended), in the order each framework asked. Called by the
     * agent owners after such a change. Answers held for a stream that is no longer the
     * framework's are dropped.
     */
    void answerHeld(String why) {
        if (held.isEmpty()) {
            return;
        }
        for (FrameworkId id : held.frameworks()) {
            FrameworkRecord fw = frameworks.get(id);
            if (fw == null || !held.askedOn(fw)) {
                held.drop(id);
                continue;
            }
            int answered = held.release(id, (task, agentId) -> {
                TaskStatus answer = explicitAnswer(fw, task, agentId);
                if (answer != null) {
                    out.sendUpdate(fw, answer);
                }
                return answer != null;
            });
            if (answered > 0) {
                MDC.put("framework", id.value());
                LOG.info("Answered {} held reconciliations of framework {}: {}; {} still held", answered, id, why,
                        held.size(id));
                MDC.remove("framework");
            }
        }
    }

    /**
     * Forgets the answers held for the framework: its stream closed, failed over or ended. Its
     * scheduler reconciles again when it resubscribes.
     */
    void dropHeldAnswers(FrameworkRecord fw) {
        int dropped = held.drop(fw.id);
        if (dropped > 0) {
            LOG.info("Dropped {} held reconciliations of framework {}: its stream ended", dropped, fw.id);
        }
    }

    /** MESSAGE: forwarded to the task's executor on its agent. */
    void message(FrameworkRecord fw, Call.Message message) {
        String agentId = message.getAgentId().getValue();
        String executor = message.getExecutorId().getValue();
        String idError = IdValidation.validate("MESSAGE agent_id", agentId);
        if (idError == null) {
            idError = IdValidation.validate("MESSAGE executor_id", executor);
        }
        if (idError != null) {
            out.refuse(fw, Call.Type.MESSAGE, Event.Error.Code.INVALID_CALL, idError);
            return;
        }
        AgentRecord agent = agentId.isEmpty() ? null : agents.get(AgentId.of(agentId));
        if (agent == null || agent.connection == null) {
            out.refuse(fw, Call.Type.MESSAGE, Event.Error.Code.NOT_FOUND, "agent '" + agentId + "' is not connected");
            return;
        }
        if (executor.isEmpty() || agent.task(fw.id, TaskId.of(executor)) == null) {
            out.refuse(fw, Call.Type.MESSAGE, Event.Error.Code.NOT_FOUND,
                    "executor '" + executor + "' of framework " + fw.id + " is not on agent " + agentId);
            return;
        }
        out.sendToAgent(agent, MasterMessage.newBuilder()
                .setType(MasterMessage.Type.FRAMEWORK_MESSAGE)
                .setFrameworkMessage(MasterMessage.FrameworkMessage.newBuilder()
                        .setFrameworkId(fw.id.toProto())
                        .setExecutorId(message.getExecutorId())
                        .setData(message.getData())));
        LOG.debug("Forwarded {} bytes from framework {} to executor {} on agent {}", message.getData().size(), fw.id,
                executor, agentId);
    }

    // ------------------------------------------------------------------------------------------
    // Tasks of a lost agent or a removed framework
    // ------------------------------------------------------------------------------------------

    /**
     * The agent is unreachable: its live tasks are TASK_UNREACHABLE (TASK_LOST to frameworks that
     * are not PARTITION_AWARE) and their resources go back. Returns how many there were.
     */
    int tasksUnreachable(AgentRecord agent, String reason) {
        int count = 0;
        for (TaskRecord task : agent.allTasks()) {
            if (task.terminal()) {
                continue;
            }
            count++;
            recoverTaskResources(task);
            task.state = TaskState.TASK_UNREACHABLE;
            metrics.taskTransition(TaskState.TASK_UNREACHABLE, StatusReason.REASON_AGENT_DISCONNECTED);
            FrameworkRecord fw = frameworks.get(task.framework);
            if (fw != null) {
                out.sendUpdate(fw, out.masterStatus(task.id.value(), agent.id.value(),
                        Outbox.forFramework(fw, TaskState.TASK_UNREACHABLE), StatusReason.REASON_AGENT_DISCONNECTED,
                        "agent " + agent.id + " is unreachable: " + reason));
            }
        }
        return count;
    }

    /**
     * The agent is gone for good: its tasks are TASK_GONE (TASK_LOST to frameworks that are not
     * PARTITION_AWARE) and forgotten. Returns how many were live.
     */
    int tasksGone(AgentRecord agent) {
        AgentId id = agent.id;
        int count = 0;
        for (TaskRecord task : agent.allTasks()) {
            FrameworkRecord fw = frameworks.get(task.framework);
            if (fw != null && !task.terminal()) {
                count++;
                out.sendUpdate(fw, out.masterStatus(task.id.value(), id.value(), Outbox.forFramework(fw, TaskState.TASK_GONE),
                        StatusReason.REASON_AGENT_REMOVED, "agent " + id + " was marked gone by an operator"));
            }
            if (!task.terminal()) {
                metrics.taskTransition(TaskState.TASK_GONE, StatusReason.REASON_AGENT_REMOVED);
            }
            task.state = fw == null ? TaskState.TASK_GONE : Outbox.forFramework(fw, TaskState.TASK_GONE);
            completeTask(task);
        }
        return count;
    }

    /**
     * The framework is removed: its tasks are killed and forgotten, and every agent that ran one
     * is told to shut the framework down. Returns how many tasks were live.
     */
    int killTasksOf(FrameworkRecord fw) {
        Set<AgentId> agentsWithTasks = new LinkedHashSet<>();
        int killed = 0;
        for (TaskRecord task : List.copyOf(fw.tasks.values())) {
            agentsWithTasks.add(task.agent);
            if (!task.terminal()) {
                killed++;
                metrics.taskTransition(TaskState.TASK_KILLED, StatusReason.REASON_FRAMEWORK_REMOVED);
            }
            recoverTaskResources(task);
            task.state = task.terminal() ? task.state : TaskState.TASK_KILLED;
            completeTask(task);
        }
        for (AgentId agentId : agentsWithTasks) {
            AgentRecord agent = agents.get(agentId);
            if (agent != null) {
                out.shutdownFramework(agent, fw.id);
            }
        }
        return killed;
    }

    // ------------------------------------------------------------------------------------------
    // Resources and completion
    // ------------------------------------------------------------------------------------------

    /** Gives a task's resources back, once (invariant 1). */
    void recoverTaskResources(TaskRecord task) {
        if (task.resourcesRecovered) {
            return;
        }
        task.resourcesRecovered = true;
        AgentRecord agent = agents.get(task.agent);
        if (agent != null) {
            agent.used = agent.used.minus(task.resources);
        }
        FrameworkRecord fw = frameworks.get(task.framework);
        if (fw != null) {
            fw.removeUsed(task.role, task.resources);
            offers.taskResourcesFreed(task);
        }
    }

    /** Forgets a task (its terminal update was acknowledged, or it is gone) and keeps it as completed. */
    void completeTask(TaskRecord task) {
        recoverTaskResources(task);
        FrameworkRecord fw = frameworks.get(task.framework);
        if (fw != null) {
            fw.tasks.remove(task.id);
        }
        AgentRecord agent = agents.get(task.agent);
        if (agent != null) {
            agent.removeTask(task);
        }
        if (config.maxCompletedTasks() > 0) {
            completedTasks.addLast(task.toProto());
            while (completedTasks.size() > config.maxCompletedTasks()) {
                completedTasks.removeFirst();
            }
        }
    }

    /** The completed tasks, oldest first (read-only). */
    Collection<Task> completed() {
        return Collections.unmodifiableCollection(completedTasks);
    }
}
