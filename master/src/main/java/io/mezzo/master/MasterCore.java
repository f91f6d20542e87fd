package io.mezzo.master;

import io.grpc.Status;
import io.mezzo.common.clock.Clock;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.OfferId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.resources.ResourceValidation;
import io.mezzo.common.resources.Resources;
import io.mezzo.ha.registry.Registry;
import io.mezzo.ha.registry.RegistryOp;
import io.mezzo.master.allocator.RoleConfig;
import io.mezzo.master.validation.FilterValidation;
import io.mezzo.master.validation.TaskValidation;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.ReservationInfo;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.UpdateQuotaRequest;
import io.mezzo.proto.v1.UpdateWeightsRequest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The master's loop owner and dispatcher: every scheduler call, agent message, operator request
 * and leadership change of the master ends up here, on the master's event loop, one at a time,
 * and is handed to the manager whose concern it is. The logic and the state live in the managers;
 * this class holds the leadership lifecycle, the dispatch, and the application of a validated
 * ACCEPT (which spans offers, agents and tasks). Modelled on Kafka's {@code QuorumController}.
 *
 * <pre>
 *  SchedulerService --Call-------> onSchedulerCall --SUBSCRIBE, TEARDOWN--> FrameworkManager
 *                                                  --ACCEPT--> AcceptValidation -> plan applied here
 *                                                  --DECLINE, REVIVE, SUPPRESS--> OfferManager
 *                                                  --KILL, ACKNOWLEDGE, RECONCILE, MESSAGE--> TaskLifecycle
 *  AgentLinkService --message----> onAgentMessage --REGISTER, PONG--> AgentManager
 *                                                 --REREGISTER--> AgentReregistration
 *                                                 --STATUS_UPDATE--> TaskLifecycle
 *  OperatorService / HttpEndpoints -> views() (StateViews), RoleSettingsManager, AgentManager
 *  election (Master) -> becomeLeader / suspend / resume / stop -> LeaderTerm and every manager
 *  timers: OfferManager (allocation, offer timeouts), AgentManager (pings, re-registration
 *          timeout), FrameworkManager (heartbeats, failover timeouts)
 * </pre>
 *
 * <p>Who calls whom (one way; checked by {@code MasterArchitectureTest}): MasterCore -&gt;
 * AgentReregistration -&gt; {AgentManager, FrameworkManager} -&gt; TaskLifecycle -&gt; OfferManager
 * -&gt; {Outbox, LeaderTerm}. The lower two read agent and framework records through {@link
 * AgentLookup} and {@link FrameworkLookup}. Nothing here blocks or does I/O beyond queueing
 * messages on outbound streams and writing the registry asynchronously.
 *
 * <p>Owner: {@link Master}. Thread: the master's event loop only (no locks).
 *
 * <p>Invariants kept here (the others are numbered in the managers and records):
 *
 * <ol>
 *   <li>An ACCEPT is validated in full before anything changes; an invalid one launches nothing and
 *       gives every offer it names back at once.
 *   <li>Nothing is acted on while this master does not act as leader: calls and messages are
 *       refused UNAVAILABLE, streams are closed on suspension.
 * </ol>
 *
 * <p>State: none of its own beyond the managers it wires (see each for hard and soft state).
 */
final class MasterCore {

    private static final Logger LOG = LoggerFactory.getLogger(MasterCore.class);

    private final Clock clock;
    private final LeaderTerm term;
    private final Outbox out;
    private final OfferManager offers;
    private final TaskLifecycle tasks;
    private final FrameworkManager frameworks;
    private final AgentManager agents;
    private final AgentReregistration reregistration;
    private final RoleSettingsManager roles;
    private final StateViews views;

    /**
     * A core that does nothing until {@link #becomeLeader}. {@code stepDown} is called (on the loop)
     * when this master must give up leadership for good, e.g. after a failed registry write.
     */
    MasterCore(MasterConfig config, EventLoop loop, String idPrefix, long allocatorSeed, Consumer<String> stepDown) {
        this.clock = config.clock();
        this.term = new LeaderTerm(loop, clock, stepDown);
        this.out = new Outbox(clock, term);
        this.offers = new OfferManager(config, loop, idPrefix, allocatorSeed, term, out);
        this.tasks = new TaskLifecycle(config, out, offers);
        this.frameworks = new FrameworkManager(config, loop, idPrefix, term, out, offers, tasks);
        this.agents = new AgentManager(config, loop, idPrefix, term, out, offers, tasks);
        // The two lower classes read the records of the managers that call them.
        offers.lookUpRecordsIn(agents, frameworks);
        tasks.lookUpRecordsIn(agents, frameworks);
        this.reregistration = new AgentReregistration(clock, term, out, agents, frameworks, tasks, offers);
        this.roles = new RoleSettingsManager(loop, term, offers);
        this.views = new StateViews(term, agents, frameworks, offers, tasks);
    }

    // ------------------------------------------------------------------------------------------
    // Leadership lifecycle
    // ------------------------------------------------------------------------------------------

    /**
     * Takes leadership: rebuilds the hard state read from the registry (agents expected back,
     * unreachable and gone agents, frameworks with their failover timeouts counted from their
     * original disconnection) and starts the periodic timers. Soft state (tasks, offers) comes
     * back with the agents' REREGISTER. Loop thread.
     */
    void becomeLeader(MasterInfo info, Registry registry, RegistryRecords.Recovered recovered) {
        term.begin(info, registry);
        int recoveredAgentCount = agents.recover(recovered.agents());
        List<RegistryOp> fixes = frameworks.recover(recovered.frameworks());
        LOG.info("Leading with epoch {}: recovered {} agents to wait for ({} unreachable, {} gone) and {} frameworks",
                info.getEpoch(), recoveredAgentCount, agents.count(AgentRecord.State.UNREACHABLE),
                agents.count(AgentRecord.State.GONE), frameworks.all().size());
        agents.awaitRecoveredAgents();
        offers.holdForRecovery(recoveredAgentCount, recovered.roles());
        term.persist(fixes, "recovered frameworks' disconnection times", () -> {});
        // Weights and quotas are registry records too; this store writes the changes, fenced.
        RoleConfig[] persisted = {recovered.roles()};
        roles.recover(next -> {
            List<RegistryOp> ops = RegistryRecords.roleChanges(persisted[0], next);
            persisted[0] = next;
            return term.write(ops);
        }, recovered.roles());
        offers.startAllocationTimer();
        frameworks.startHeartbeats();
        agents.startPings();
    }

    /**
     * The coordination session is suspended: stop acting at once. Every stream is closed (clients
     * come back when this master, or another, leads again); timers keep their deadlines but do
     * nothing until {@link #resume}. Loop thread.
     */
    void suspend() {
        if (!term.suspend()) {
            return;
        }
        closeAllStreams("the master lost contact with ZooKeeper");
        LOG.warn("Stopped acting as leader: ZooKeeper connection suspended");
    }

    /** The session is back and this master still leads: act again. Loop thread. */
    void resume() {
        if (!term.resume()) {
            return;
        }
        long now = clock.millis();
        agents.forgetMissedPings();
        // Schedulers were cut off by the suspension: their failover timeouts count from it.
        term.persist(frameworks.rearmAfterSuspension(), "disconnection times after a suspension", () -> {});
        LOG.info("Acting as leader again after {} ms suspended", now - term.suspendedAt());
    }

    /** Leadership is lost for good: close everything and never act again. Loop thread. */
    void stop(String reason) {
        if (!term.stop()) {
            return;
        }
        closeAllStreams("this master is no longer the leader: " + reason);
        offers.cancelTimers();
        frameworks.cancelTimers();
        agents.cancelTimers();
        if (reason.equals("master stopping")) {
            LOG.info("Stopped leading: master stopping");
        } else {
            LOG.warn("Stopped leading for good: {}", reason);
        }
    }

    private void closeAllStreams(String why) {
        Status status = Status.UNAVAILABLE.withDescription(why);
        frameworks.closeStreams(status);
        agents.closeStreams(status);
    }

    // ------------------------------------------------------------------------------------------
    // Scheduler calls
    // ------------------------------------------------------------------------------------------

    void onSchedulerCall(SchedulerConnection conn, Call call) {
        if (!term.acting()) {
            conn.out.fail(Status.UNAVAILABLE.withDescription("this master is not acting as leader"));
            return;
        }
        if (conn.framework != null) {
            MDC.put("framework", conn.framework.value());
        }
        if (call.getType() == Call.Type.SUBSCRIBE) {
            frameworks.subscribe(conn, call);
            return;
        }
        if (conn.framework == null) {
            out.rejectStream(conn, call.getType(), "the first call on a stream must be SUBSCRIBE, got " + call.getType());
            return;
        }
        FrameworkRecord fw = frameworks.get(conn.framework);
        if (fw == null || fw.connection != conn) {
            // The framework failed over to another stream or was removed; this stream is stale.
            LOG.debug("Ignored {} on stale {}", call.getType(), conn);
            return;
        }
        if (!call.getFrameworkId().getValue().equals(fw.id.value())) {
            out.refuse(fw, call.getType(), Event.Error.Code.INVALID_CALL,
                    "call names framework_id '" + call.getFrameworkId().getValue() + "' but this stream is subscribed as "
                            + fw.id);
            return;
        }
        switch (call.getType()) {
            case TEARDOWN -> frameworks.removeFramework(fw, "torn down by its scheduler");
            case ACCEPT -> {
                if (requireBody(fw, call, call.hasAccept())) {
                    accept(fw, call.getAccept());
                }
            }
            case DECLINE -> {
                if (requireBody(fw, call, call.hasDecline())) {
                    offers.decline(fw, call.getDecline());
                }
            }
            case REVIVE -> offers.revive(fw, call.getRevive().getRolesList());
            case SUPPRESS -> offers.suppress(fw, call.getSuppress().getRolesList());
            case KILL -> {
                if (requireBody(fw, call, call.hasKill())) {
                    tasks.kill(fw, call.getKill());
                }
            }
            case ACKNOWLEDGE -> {
                if (requireBody(fw, call, call.hasAcknowledge())) {
                    tasks.acknowledge(fw, call.getAcknowledge());
                }
            }
            case RECONCILE -> tasks.reconcile(fw, call.getReconcile());
            case MESSAGE -> {
                if (requireBody(fw, call, call.hasMessage())) {
                    tasks.message(fw, call.getMessage());
                }
            }
            default -> out.refuse(fw, call.getType(), Event.Error.Code.INVALID_CALL, "call has no type");
        }
    }

    void onSchedulerClosed(SchedulerConnection conn, String why) {
        if (conn.framework == null) {
            return;
        }
        MDC.put("framework", conn.framework.value());
        FrameworkRecord fw = frameworks.get(conn.framework);
        if (fw == null || fw.connection != conn) {
            return;
        }
        if (!term.acting()) {
            fw.connection = null;
            return;
        }
        frameworks.disconnect(fw, why);
    }

    /** Called when a scheduler's outbound queue overflowed: it is dropped like a disconnection. */
    void onSchedulerDropped(SchedulerConnection conn, String reason) {
        LOG.warn("Dropped {}: {}", conn, reason);
        onSchedulerClosed(conn, "dropped: " + reason);
    }

    private boolean requireBody(FrameworkRecord fw, Call call, boolean present) {
        if (!present) {
            out.refuse(fw, call.getType(), Event.Error.Code.INVALID_CALL,
                    call.getType() + " call has no " + call.getType().name().toLowerCase() + " body");
        }
        return present;
    }

    private void accept(FrameworkRecord fw, Call.Accept accept) {
        String filterError = FilterValidation.validate(accept.getFilters());
        if (filterError != null) {
            out.refuse(fw, Call.Type.ACCEPT, Event.Error.Code.INVALID_CALL, filterError);
            return;
        }
        List<TaskInfo> launches = new ArrayList<>();
        for (Offer.Operation op : accept.getOperationsList()) {
            if (op.getType() == Offer.Operation.Type.LAUNCH) {
                launches.addAll(op.getLaunch().getTaskInfosList());
            }
        }

        // 1. The offers: all outstanding, all ours, one agent, one role.
        List<OfferRecord> used = new ArrayList<>();
        String offerError = null;
        Set<OfferId> seen = new HashSet<>();
        if (accept.getOfferIdsCount() == 0) {
            offerError = "ACCEPT names no offers";
        }
        for (var protoId : accept.getOfferIdsList()) {
            if (protoId.getValue().isEmpty()) {
                offerError = "ACCEPT names an empty offer id";
                continue;
            }
            OfferId id = OfferId.of(protoId);
            OfferRecord offer = offers.get(id);
            if (!seen.add(id)) {
                offerError = "offer " + id + " is named twice";
            } else if (offer == null || !offer.framework().equals(fw.id)) {
                offerError = "offer " + id + " is unknown, expired, rescinded or already used";
            } else {
                if (!used.isEmpty() && !used.get(0).agent().equals(offer.agent())) {
                    offerError = "offers " + used.get(0).id() + " and " + id + " are on different agents ("
                            + used.get(0).agent() + ", " + offer.agent() + ")";
                } else if (!used.isEmpty() && !used.get(0).role().equals(offer.role())) {
                    offerError = "offers " + used.get(0).id() + " and " + id + " are for different roles";
                }
                used.add(offer);
            }
        }
        AgentRecord agent = used.isEmpty() ? null : agents.get(used.get(0).agent());
        if (offerError == null && (agent == null || !agent.offerable())) {
            offerError = "agent " + used.get(0).agent() + " is no longer registered and connected";
        }
        if (offerError != null) {
            for (TaskInfo task : launches) {
                out.sendUpdate(fw, out.masterStatus(task.getTaskId().getValue(), task.getAgentId().getValue(),
                        Outbox.forFramework(fw, TaskState.TASK_DROPPED), StatusReason.REASON_INVALID_OFFERS, offerError));
            }
            if (launches.isEmpty()) {
                out.refuse(fw, Call.Type.ACCEPT, Event.Error.Code.INVALID_CALL, offerError);
            }
            LOG.info("Refused ACCEPT of framework {}: {}", fw.id, offerError);
            for (OfferRecord offer : used) {
                offers.giveBack(offer);
            }
            offers.requestAllocation();
            return;
        }

        // 2. The operations, applied in order to a working copy of the offered resources.
        String role = used.get(0).role();
        Resources remaining = Resources.EMPTY;
        for (OfferRecord offer : used) {
            remaining = remaining.plus(offer.resources());
        }
        // Errors by the task's position among all LAUNCHed tasks (ids may repeat).
        Map<Integer, String> taskErrors = new LinkedHashMap<>();
        int position = 0;
        Map<TaskInfo, Resources> taskResources = new LinkedHashMap<>();
        List<Resources[]> conversions = new ArrayList<>();
        Set<String> taskIds = new HashSet<>();
        String opError = null;
        for (int i = 0; i < accept.getOperationsCount() && opError == null; i++) {
            Offer.Operation op = accept.getOperations(i);
            switch (op.getType()) {
                case LAUNCH -> {
                    if (op.getLaunch().getTaskInfosCount() == 0) {
                        opError = "LAUNCH operation " + i + " has no tasks";
                    }
                    for (TaskInfo task : op.getLaunch().getTaskInfosList()) {
                        int at = position++;
                        String id = task.getTaskId().getValue();
                        String error = TaskValidation.validate(task, agent.id.value());
                        if (error == null && !taskIds.add(id)) {
                            error = "task_id " + id + " appears twice in this ACCEPT";
                        }
                        if (error == null && fw.tasks.containsKey(TaskId.of(id))) {
                            error = "task_id " + id + " is already used by a task of this framework";
                        }
                        if (error == null) {
                            Resources needed = Resources.fromProto(task.getResourcesList());
                            if (!remaining.contains(needed)) {
                                error = "task " + id + " asks for " + needed + " but the offers only hold " + remaining;
                            } else {
                                remaining = remaining.minus(needed);
                                taskResources.put(task, needed);
                            }
                        }
                        if (error != null) {
                            taskErrors.put(at, error);
                        }
                    }
                }
                case RESERVE -> {
                    String error = reservationError(fw, role, op.getReserve().getResourcesList(), true);
                    if (error == null) {
                        Resources reserved = Resources.fromProto(op.getReserve().getResourcesList());
                        Resources unreserved = reserved.withoutReservations();
                        if (!remaining.contains(unreserved)) {
                            error = "RESERVE of " + reserved + " needs unreserved " + unreserved + " but the offers hold "
                                    + remaining;
                        } else {
                            remaining = remaining.minus(unreserved).plus(reserved);
                            conversions.add(new Resources[] {unreserved, reserved});
                        }
                    }
                    opError = error == null ? null : "operation " + i + " (RESERVE): " + error;
                }
                case UNRESERVE -> {
                    String error = reservationError(fw, role, op.getUnreserve().getResourcesList(), false);
                    if (error == null) {
                        Resources reserved = Resources.fromProto(op.getUnreserve().getResourcesList());
                        if (!remaining.contains(reserved)) {
                            error = "UNRESERVE of " + reserved + " but the offers hold " + remaining;
                        } else {
                            Resources unreserved = reserved.withoutReservations();
                            remaining = remaining.minus(reserved).plus(unreserved);
                            conversions.add(new Resources[] {reserved, unreserved});
                        }
                    }
                    opError = error == null ? null : "operation " + i + " (UNRESERVE): " + error;
                }
                default -> opError = "operation " + i + " has no type (LAUNCH, RESERVE or UNRESERVE)";
            }
        }
        if (opError != null || !taskErrors.isEmpty()) {
            String firstTaskError = taskErrors.isEmpty() ? null : taskErrors.values().iterator().next();
            for (int at = 0; at < launches.size(); at++) {
                TaskInfo task = launches.get(at);
                String id = task.getTaskId().getValue();
                String own = taskErrors.get(at);
                if (own != null) {
                    out.sendUpdate(fw, out.masterStatus(id, agent.id.value(), TaskState.TASK_ERROR,
                            StatusReason.REASON_TASK_INVALID, own));
                } else {
                    out.sendUpdate(fw, out.masterStatus(id, agent.id.value(), Outbox.forFramework(fw, TaskState.TASK_DROPPED),
                            StatusReason.REASON_TASK_INVALID, "not launched: another operation of the same ACCEPT is invalid: "
                                    + (opError != null ? opError : firstTaskError)));
                }
            }
            if (launches.isEmpty()) {
                out.refuse(fw, Call.Type.ACCEPT, Event.Error.Code.INVALID_CALL, opError);
            }
            LOG.info("Refused ACCEPT of framework {} on agent {}: {}", fw.id, agent.id,
                    opError != null ? opError : firstTaskError);
            for (OfferRecord offer : used) {
                offers.giveBack(offer);
            }
            offers.requestAllocation();
            return;
        }

        // 3. Valid: use the offers, convert reservations, launch, and filter what is left. The
        //    offered resources stay allocated to the framework's role in the allocator: the tasks
        //    keep theirs, and only what no operation used is given back.
        for (OfferRecord offer : used) {
            offers.forget(offer);
        }
        agents.convertReservations(agent, fw.id, role, conversions);
        for (Map.Entry<TaskInfo, Resources> e : taskResources.entrySet()) {
            tasks.launch(fw, agent, e.getKey(), e.getValue(), role);
        }
        if (!remaining.isEmpty()) {
            offers.giveBackUnused(agent.id, fw.id, role, remaining, offers.refuseUntil(accept.getFilters()));
        }
        offers.requestAllocation();
    }

    /**
     * Checks a RESERVE ({@code reserve}) or UNRESERVE. A reservation is for the role the offers were
     * made to: the resources stay allocated to that role, and a reservation for another of the
     * framework's roles would hand them to a role they were never offered to.
     */
    private String reservationError(FrameworkRecord fw, String offerRole, List<Resource> resources, boolean reserve) {
        if (resources.isEmpty()) {
            return "no resources given";
        }
        String error = ResourceValidation.validate(resources);
        if (error != null) {
            return error;
        }
        for (Resource r : resources) {
            if (!r.hasReservation() || r.getReservation().getType() != ReservationInfo.Type.DYNAMIC) {
                return "resource '" + r.getName() + "' must carry a DYNAMIC reservation";
            }
            String role = r.getReservation().getRole();
            if (reserve && !role.equals(offerRole)) {
                return "resource '" + r.getName() + "' is reserved for role '" + role + "' but the offers were made to"
                        + " role '" + offerRole + "'; reserve for the offers' role";
            }
            if (reserve && !fw.info.getPrincipal().isEmpty()
                    && !r.getReservation().getPrincipal().equals(fw.info.getPrincipal())) {
                return "resource '" + r.getName() + "' names principal '" + r.getReservation().getPrincipal()
                        + "' but the framework's principal is '" + fw.info.getPrincipal() + "'";
            }
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------
    // Agent messages
    // ------------------------------------------------------------------------------------------

    void onAgentMessage(AgentConnection conn, AgentMessage msg) {
        if (!term.acting()) {
            conn.out.fail(Status.UNAVAILABLE.withDescription("this master is not acting as leader"));
            return;
        }
        if (conn.agent != null) {
            MDC.put("agent", conn.agent.value());
        }
        switch (msg.getType()) {
            case REGISTER -> agents.register(conn, msg);
            case REREGISTER -> reregistration.reregister(conn, msg);
            case PONG -> agents.pong(conn, msg.getPong());
            case STATUS_UPDATE -> {
                AgentRecord agent = agents.registeredOn(conn);
                if (agent == null) {
                    out.rejectAgent(conn, "STATUS_UPDATE before REGISTER");
                } else {
                    tasks.statusUpdate(agent, msg.getStatusUpdate());
                }
            }
            default -> out.rejectAgent(conn, "agent message has no type");
        }
    }

    void onAgentClosed(AgentConnection conn, String why) {
        agents.onClosed(conn, why);
    }

    /** Called when an agent's outbound queue overflowed. */
    void onAgentDropped(AgentConnection conn, String reason) {
        LOG.warn("Dropped {}: {}", conn, reason);
        onAgentClosed(conn, "dropped: " + reason);
    }

    // ------------------------------------------------------------------------------------------
    // Operator requests (loop thread; the edges call through EventLoop.call or append)
    // ------------------------------------------------------------------------------------------

    /** Read-only views of the state, for the operator API and the HTTP endpoints. */
    StateViews views() {
        return views;
    }

    /** UpdateWeights: completes once the weights are in force, or fails with INVALID_ARGUMENT. */
    CompletableFuture<Void> updateWeights(UpdateWeightsRequest request) {
        return roles.updateWeights(request);
    }

    /** UpdateQuota: completes once the quotas are in force, or fails with INVALID_ARGUMENT. */
    CompletableFuture<Void> updateQuota(UpdateQuotaRequest request) {
        return roles.updateQuota(request);
    }

    /** MarkAgentGone: answers through {@code done} with null or the reason it refused. */
    void markGone(AgentId id, Consumer<String> done) {
        agents.markGone(id, done);
    }

    /**
     * Marks an agent draining, or back to registered (the hook for the drain and maintenance API);
     * false when the agent is unknown or not in a state that can drain.
     */
    boolean setDraining(AgentId id, boolean draining) {
        return agents.setDraining(id, draining);
    }
}
