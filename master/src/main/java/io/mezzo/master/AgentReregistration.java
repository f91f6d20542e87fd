package io.mezzo.master;

import io.grpc.Status;
import io.mezzo.common.clock.Clock;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.resources.ResourceValidation;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.validation.Ids;
import io.mezzo.master.auth.AuthContext;
import io.mezzo.master.validation.AgentValidation;
import io.mezzo.master.validation.FrameworkValidation;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Agent re-registration: an agent with an id comes back (it reconnected, the master failed over,
 * or it was unreachable) and reports everything it has; the master re-admits it (durable first)
 * and rebuilds its view of the agent from the report, which is the truth about what runs there.
 *
 * <pre>
 *  REREGISTER{info, frameworks, tasks} --validate--> GONE? --> SHUTDOWN
 *     --> registry write if unknown, unreachable or changed --> rebuild:
 *         1. the record: new, or updated (offers rescinded, reservations reconciled) -> REGISTERED
 *         2. REGISTERED sent (and CHECKPOINT_RESOURCES if the agent missed one)
 *         3. frameworks the master does not know: recovered, waiting for their schedulers
 *         4. tasks: the master's view replaced by the report; tasks it no longer has are
 *            TASK_DROPPED/TASK_GONE; tasks reported lost while it was away are killed; kills
 *            asked for meanwhile are sent
 *         5. the allocator learns the agent afresh with its tasks; removed frameworks shut down
 *         6. reconciliation answers held for this agent, or for the end of recovery, are sent
 * </pre>
 *
 * <p>Owner: {@link MasterCore}, which dispatches REREGISTER here. Calls down into {@link
 * AgentManager}, {@link FrameworkManager}, {@link TaskLifecycle} and {@link OfferManager}; nothing
 * calls back. Thread: the master's event loop only. No state of its own: everything it rebuilds is
 * soft state of the agent's and frameworks' records.
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>A re-admission that changes the registry is durable before the agent is answered.
 *   <li>After a rebuild the agent's tasks are exactly those it reported (plus none), and {@code
 *       used} is the sum of the non-terminal ones (the {@link AgentRecord} invariant).
 *   <li>A framework told TASK_LOST for a task never finds it running again: the task is killed.
 *       On an agent back from unreachable this holds for every task of a framework that is not
 *       PARTITION_AWARE, known to this master or not: a task it did not know may have been
 *       answered TASK_LOST by reconciliation while the agent was away.
 * </ol>
 */
final class AgentReregistration {

    private static final Logger LOG = LoggerFactory.getLogger(AgentReregistration.class);

    private final Clock clock;
    private final LeaderTerm term;
    private final Outbox out;
    private final AgentManager agents;
    private final FrameworkManager frameworks;
    private final TaskLifecycle tasks;
    private final OfferManager offers;

    /** Most parts of one paged REREGISTER (docs/api.md, "Limits"). */
    static final int MAX_REPORT_PARTS = 1000;
    /** Most tasks in one REREGISTER report, over all its parts. */
    static final int MAX_REPORT_TASKS = 100_000;

    AgentReregistration(Clock clock, LeaderTerm term, Outbox out, AgentManager agents, FrameworkManager frameworks,
            TaskLifecycle tasks, OfferManager offers) {
        this.clock = clock;
        this.term = term;
        this.out = out;
        this.agents = agents;
        this.frameworks = frameworks;
        this.tasks = tasks;
        this.offers = offers;
    }

    /** REREGISTER: validated, re-admitted (durable first when the registry must change), rebuilt. */
    void reregister(AgentConnection conn, AgentMessage received) {
        AgentMessage msg = received.getReregister().getMore() || conn.pagedReport != null
                ? collectPage(conn, received) : received;
        if (msg == null) {
            return;
        }
        AgentMessage.Reregister rr = msg.getReregister();
        AgentInfo info = rr.getAgentInfo();
        String error = AgentValidation.validate(info);
        if (error == null && info.getId().getValue().isEmpty()) {
            error = "agent_info.id is empty";
        }
        if (error == null) {
            error = validateReport(rr);
        }
        if (error == null && conn.agent != null && !conn.agent.value().equals(info.getId().getValue())) {
            error = "this stream is already registered as agent " + conn.agent;
        }
        if (error != null) {
            out.rejectAgent(conn, "invalid REREGISTER: " + error);
            return;
        }
        AgentId id = AgentId.of(info.getId());
        MDC.put("agent", id.value());
        AgentRecord known = agents.get(id);
        String principal = conn.principal == null ? "" : conn.principal;
        // An id registered anonymously may be claimed by an authenticated principal once (turning
        // authentication on in a running cluster); an owned id never changes hands.
        if (known != null && !known.principal.isEmpty() && !known.principal.equals(principal)) {
            // An agent id belongs to the principal that registered it: another one cannot take its
            // stream over, nor make the master report its tasks gone.
            out.denyAgent(conn, AuthContext.describe(principal) + " may not re-register agent " + id
                    + ", which belongs to " + AuthContext.describe(known.principal));
            return;
        }
        if (known != null && known.state == AgentRecord.State.GONE) {
            rebuild(conn, msg, id);
            return;
        }
        if (known != null && known.markingGone) {
            // Its GONE record is being written: it is never re-admitted (AgentManager invariant 4).
            // Refused for now; when it tries again it is GONE and told to shut down.
            out.rejectAgent(conn, "agent " + id + " is being removed from the cluster");
            return;
        }
        // Durable first: an agent unknown to the registry, or coming back from unreachable, or
        // with a changed info, is (re)admitted before it is answered.
        boolean needsWrite = known == null || known.state == AgentRecord.State.UNREACHABLE
                || known.markingUnreachable || !known.info.equals(info) || !known.principal.equals(principal);
        double registered = known == null ? clock.seconds() : known.registeredAt / 1000.0;
        conn.registering = true;
        term.persist(needsWrite ? List.of(RegistryRecords.admitted(info, registered, principal)) : List.of(),
                "re-admission of agent " + id, () -> {
                    conn.registering = false;
                    if (conn.out.isClosed()) {
                        return;
                    }
                    rebuild(conn, msg, id);
                    AgentRecord rebuilt = agents.get(id);
                    if (rebuilt != null) {
                        rebuilt.principal = principal;
                    }
                }, reason -> {
                    conn.registering = false;
                    out.rejectAgent(conn, "agent " + id + " cannot be stored: " + reason);
                });
    }

    /**
     * A paged REREGISTER: keeps each part on the stream until the last, then returns the whole
     * report as one message; null while parts are still to come, or when the report was refused
     * (too many parts or tasks, or parts of different agents).
     */
    private AgentMessage collectPage(AgentConnection conn, AgentMessage msg) {
        AgentMessage.Reregister part = msg.getReregister();
        if (conn.pagedReport == null) {
            conn.pagedReport = part.toBuilder().clearMore();
        } else if (!conn.pagedReport.getAgentInfo().equals(part.getAgentInfo())) {
            conn.pagedReport = null;
            out.rejectAgent(conn, "invalid REREGISTER: the parts of one report name different agents");
            return null;
        } else {
            conn.pagedReport.addAllFrameworks(part.getFrameworksList()).addAllTasks(part.getTasksList())
                    .addAllUnacknowledgedUpdates(part.getUnacknowledgedUpdatesList());
        }
        conn.pagedParts++;
        if (conn.pagedParts > MAX_REPORT_PARTS || conn.pagedReport.getTasksCount() > MAX_REPORT_TASKS) {
            conn.pagedReport = null;
            out.rejectAgent(conn, "invalid REREGISTER: a report has at most " + MAX_REPORT_PARTS + " parts and "
                    + MAX_REPORT_TASKS + " tasks");
            return null;
        }
        if (part.getMore()) {
            return null;
        }
        AgentMessage whole = msg.toBuilder().setReregister(conn.pagedReport).build();
        LOG.debug("Agent report of {} tasks arrived in {} parts on {}", whole.getReregister().getTasksCount(),
                conn.pagedParts, conn);
        conn.pagedReport = null;
        conn.pagedParts = 0;
        return whole;
    }

    /**
     * The ids an agent reports are checked with the same rule as every other id (they become
     * registry keys and sandbox paths): the frameworks it knows and its tasks.
     */
    private static String validateReport(AgentMessage.Reregister rr) {
        for (int i = 0; i < rr.getFrameworksCount(); i++) {
            FrameworkInfo fi = rr.getFrameworks(i);
            String error = Ids.validate("frameworks[" + i + "].id", fi.getId().getValue());
            if (error == null) {
                error = FrameworkValidation.validate(fi);
            }
            if (error != null) {
                return "frameworks[" + i + "]: " + error;
            }
        }
        for (int i = 0; i < rr.getTasksCount(); i++) {
            Task t = rr.getTasks(i);
            String error = Ids.validate("tasks[" + i + "].framework_id", t.getFrameworkId().getValue());
            if (error == null) {
                error = Ids.validate("tasks[" + i + "].task_id", t.getTaskId().getValue());
            }
            if (error == null && (t.getState() == TaskState.TASK_STATE_UNSPECIFIED || t.getState() == TaskState.UNRECOGNIZED
                    || t.getLatestStatus().getState() == TaskState.UNRECOGNIZED)) {
                error = "tasks[" + i + "] has no state this master knows";
            }
            if (error != null) {
                return error;
            }
        }
        return null;
    }

    /** Rebuilds the master's view of a re-admitted agent from its report (steps 1-5 above). */
    private void rebuild(AgentConnection conn, AgentMessage msg, AgentId id) {
        MDC.put("agent", id.value());
        AgentMessage.Reregister rr = msg.getReregister();
        AgentInfo info = rr.getAgentInfo();
        AgentRecord agent = agents.get(id);
        if (agent != null && agent.state == AgentRecord.State.GONE) {
            LOG.warn("Told agent {} at {} to shut down: it was removed from the cluster", id, info.getHostname());
            out.shutdownAgent(conn, id);
            return;
        }
        boolean wasUnreachable = agent != null && agent.state == AgentRecord.State.UNREACHABLE;
        Resources reported = Resources.fromProto(info.getResourcesList());
        boolean resendReservations = false;
        // 1. The record.
        if (agent == null) {
            agent = new AgentRecord(id, info, reported, AgentRecord.State.REGISTERED);
            agent.dynamicReservations = reported.filter(AgentRecord::isDynamic);
            agent.registeredAt = clock.millis();
            agents.add(agent);
            LOG.info("Re-admitted agent {} at {} unknown to this master with reservations {}", id, info.getHostname(),
                    agent.dynamicReservations);
        } else {
            if (agent.connection != null && agent.connection != conn) {
                agent.connection.out.fail(Status.ABORTED.withDescription("agent re-registered on another stream"));
            }
            offers.rescindOffersOn(agent);
            agent.info = info;
            boolean masterKnows = agent.state != AgentRecord.State.RECOVERED;
            Resources before = agent.dynamicReservations;
            agent.total = reconcileReservations(agent, reported, masterKnows);
            resendReservations = !agent.dynamicReservations.equals(reported.filter(AgentRecord::isDynamic));
            if (!before.equals(agent.dynamicReservations)) {
                LOG.info("Agent {} holds dynamic reservations {} (this master had {})", id, agent.dynamicReservations,
                        before);
            }
            // A drain survives the agent's restart and a failover: it comes back DRAINING or DRAINED.
            agents.transition(agent, agent.registeredState());
        }
        // 2. REGISTERED goes out first, so that kills decided below reach a ready agent.
        agents.attach(agent, conn);
        if (resendReservations) {
            agents.checkpointReservations(agent);
        }

        // 3. Frameworks the agent knows that this master does not: wait for their schedulers.
        for (FrameworkInfo fi : rr.getFrameworksList()) {
            frameworks.recoverFromAgent(fi, id);
        }

        // 4. Rebuild the agent's tasks from its report: it is the source of truth for what runs there.
        Set<FrameworkId> shutDown = rebuildTasks(agent, rr, wasUnreachable);
        if (!agent.total.contains(agent.used)) {
            LOG.warn("Agent {} reports tasks using {} but only has {}", id, agent.used, agent.total);
        }

        // 5. The allocator learns the agent afresh; frameworks removed meanwhile are shut down.
        offers.addToAllocator(agent);
        for (FrameworkId fid : shutDown) {
            out.shutdownFramework(agent, fid);
            LOG.info("Told agent {} to shut down removed framework {}", id, fid);
        }
        LOG.info("Re-registered agent {} at {} ({}) with {} tasks{}", id, info.getHostname(), conn.peer,
                rr.getTasksCount(), wasUnreachable ? " after being unreachable" : "");
        // 6. Reconciliation answers that waited for this agent (or for the end of recovery).
        tasks.answerHeld("agent " + id + " re-registered");
        offers.requestAllocation();
    }

    /**
     * Replaces the master's view of the agent's tasks with its report. Returns the frameworks of
     * reported tasks that this master does not know (removed): the agent must shut them down.
     */
    private Set<FrameworkId> rebuildTasks(AgentRecord agent, AgentMessage.Reregister rr, boolean wasUnreachable) {
        AgentId id = agent.id;
        for (Map<TaskId, TaskRecord> byId : agent.tasks.values()) {
            for (TaskRecord task : byId.values()) {
                tasks.recoverTaskResources(task);
            }
        }
        // The allocator forgets the agent (nothing of it is allocated any more) and learns it
        // afresh afterwards, with its reported total and tasks.
        offers.removeFromAllocator(id);
        Map<FrameworkId, Map<TaskId, Task>> reportedTasks = new HashMap<>();
        for (Task t : rr.getTasksList()) {
            if (t.getFrameworkId().getValue().isEmpty() || t.getTaskId().getValue().isEmpty()) {
                continue;
            }
            reportedTasks.computeIfAbsent(FrameworkId.of(t.getFrameworkId()), f -> new HashMap<>())
                    .put(TaskId.of(t.getTaskId()), t);
        }
        Set<FrameworkId> shutDown = new HashSet<>();
        for (TaskRecord task : agent.allTasks()) {
            Task t = reportedTasks.getOrDefault(task.framework, Map.of()).get(task.id);
            if (t == null) {
                FrameworkRecord fw = frameworks.get(task.framework);
                if (fw != null && !task.terminal()) {
                    TaskState state = task.state == TaskState.TASK_STAGING ? TaskState.TASK_DROPPED : TaskState.TASK_GONE;
                    out.sendUpdate(fw, out.masterStatus(task.id.value(), id.value(), Outbox.forFramework(fw, state),
                            StatusReason.REASON_AGENT_RESTARTED,
                            "agent " + id + " re-registered without task " + task.id));
                    task.state = Outbox.forFramework(fw, state);
                }
                tasks.completeTask(task);
            }
        }
        for (Map.Entry<FrameworkId, Map<TaskId, Task>> e : reportedTasks.entrySet()) {
            FrameworkRecord fw = frameworks.get(e.getKey());
            if (fw == null) {
                shutDown.add(e.getKey());
                continue;
            }
            for (Task t : e.getValue().values()) {
                TaskRecord task = agent.task(fw.id, TaskId.of(t.getTaskId()));
                // Told TASK_LOST (invariant 3): by the unreachable marking, or, for a task this master
                // did not know, possibly by reconciliation while the agent was unreachable.
                boolean toldLost = !fw.partitionAware()
                        && (task != null ? task.state == TaskState.TASK_UNREACHABLE : wasUnreachable);
                if (task == null) {
                    task = adoptTask(fw, agent, t);
                }
                task.state = t.getState();
                if (t.hasLatestStatus()) {
                    task.latestStatus = t.getLatestStatus();
                }
                if (!task.terminal()) {
                    task.resourcesRecovered = false;
                    agent.used = agent.used.plus(task.resources);
                    fw.addUsed(task.role, task.resources);
                }
                if (task.terminal()) {
                    continue;
                }
                if (toldLost) {
                    // The framework was told TASK_LOST; it must not find the task running again.
                    LOG.info("Killing task {} of framework {}: it was reported lost while agent {} was unreachable",
                            task.id, fw.id, id);
                    tasks.sendKill(agent, task, StatusReason.REASON_AGENT_DISCONNECTED);
                } else if (task.killRequested) {
                    // The kill keeps its reason (framework, operator or drain); a drain still caps its grace.
                    tasks.sendKill(agent, task, task.killReason, agent.drain == null ? task.killPolicy
                            : DrainManager.cappedPolicy(task, agent.drain.getConfig()));
                } else if (wasUnreachable) {
                    out.sendUpdate(fw, out.reconciliationStatus(fw, task, "agent " + id + " is reachable again"));
                }
            }
        }
        return shutDown;
    }

    /** A task the agent reports that this master did not know (it failed over, or the agent restarted). */
    private TaskRecord adoptTask(FrameworkRecord fw, AgentRecord agent, Task t) {
        TaskInfo info = t.hasTaskInfo() ? t.getTaskInfo() : TaskInfo.newBuilder()
                .setName(t.getName())
                .setTaskId(t.getTaskId())
                .setAgentId(agent.id.toProto())
                .addAllResources(t.getResourcesList())
                .build();
        String role = t.getResourcesList().stream()
                .filter(Resource::hasAllocationInfo)
                .map(r -> r.getAllocationInfo().getRole())
                .findFirst()
                .orElse(fw.roles().get(0));
        Resources resources = ResourceValidation.validate(t.getResourcesList()) == null
                ? Resources.fromProto(t.getResourcesList())
                : Resources.EMPTY;
        TaskRecord task = new TaskRecord(TaskId.of(t.getTaskId()), fw.id, agent.id, info, resources, role);
        task.resourcesRecovered = true;
        fw.tasks.put(task.id, task);
        agent.addTask(task);
        return task;
    }

    /**
     * The total of an agent that re-registers, after deciding which dynamic reservations it holds
     * (set in {@code agent.dynamicReservations}).
     *
     * <p>The agent checkpoints what CHECKPOINT_RESOURCES tells it and reports its total with those
     * reservations applied, so its report survives agent restarts and master failovers. Only the
     * master changes reservations, and it sends the agent the new set after each change; so when
     * this master has known the agent all along ({@code masterKnows}), its record is never older
     * than the agent's checkpoint, and a difference means the agent missed a CHECKPOINT_RESOURCES
     * (the stream broke right after a RESERVE): the master keeps its view and sends it again. When
     * the master does not know the agent's reservations (it restarted, failed over, or recovered
     * the agent from the registry), the agent's report is the truth; so too when the master's view
     * no longer fits what the agent reports (it came back with fewer resources).
     */
    private Resources reconcileReservations(AgentRecord agent, Resources reported, boolean masterKnows) {
        Resources reportedDynamic = reported.filter(AgentRecord::isDynamic);
        Resources mine = agent.dynamicReservations;
        if (!masterKnows || mine.equals(reportedDynamic)) {
            agent.dynamicReservations = reportedDynamic;
            return reported;
        }
        Resources base = reported.minus(reportedDynamic).plus(reportedDynamic.withoutReservations());
        Resources mineUnreserved = mine.withoutReservations();
        if (base.contains(mineUnreserved)) {
            LOG.warn("Agent {} reports dynamic reservations {} but this master made {}: it missed a checkpoint,"
                    + " which is sent again", agent.id, reportedDynamic, mine);
            return base.minus(mineUnreserved).plus(mine);
        }
        LOG.warn("Agent {} reports dynamic reservations {}; this master's {} do not fit its resources {}, so the"
                + " agent's are kept", agent.id, reportedDynamic, mine, reported);
        agent.dynamicReservations = reportedDynamic;
        return reported;
    }
}
