package io.mezzo.master;

import io.grpc.Status;
import io.mezzo.common.clock.Clock;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.OfferId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.ha.registry.Registry;
import io.mezzo.ha.registry.RegistryOp;
import io.mezzo.master.allocator.RoleConfig;
import io.mezzo.master.auth.AcceptAuthorization;
import io.mezzo.master.auth.Acls;
import io.mezzo.master.validation.AcceptValidation;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.UpdateQuotaRequest;
import io.mezzo.proto.v1.UpdateWeightsRequest;
import java.util.Collections;
import java.util.List;
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
 *  OperatorService / HttpEndpoints -> views() (StateViews), RoleSettingsManager, AgentManager,
 *                                    DrainManager (drains, maintenance), TaskLifecycle (KillTask),
 *                                    FrameworkManager (TeardownFramework)
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
    /** Drains and maintenance windows (operator control). */
    private final DrainManager drains;
    private final StateViews views;
    /** What principals may do (run_tasks, reserve/unreserve on ACCEPT). */
    private final Acls acls;
    /** Scheduler call rate limits, applied at the edge (thread-safe). Soft. */
    private final RateLimiter rateLimiter;
    private final MasterMetrics metrics;
    private final StateSnapshots snapshots;

    /**
     * A core that does nothing until {@link #becomeLeader}. {@code stepDown} is called (on the loop)
     * when this master must give up leadership for good, e.g. after a failed registry write.
     */
    MasterCore(MasterConfig config, EventLoop loop, String idPrefix, long allocatorSeed, Consumer<String> stepDown) {
        this(config, loop, idPrefix, allocatorSeed, stepDown, new MasterMetrics());
    }

    /** As above, counting into {@code metrics}; observes {@code loop} (metrics, state snapshots). */
    MasterCore(MasterConfig config, EventLoop loop, String idPrefix, long allocatorSeed, Consumer<String> stepDown,
            MasterMetrics metrics) {
        this.clock = config.clock();
        this.metrics = metrics;
        this.term = new LeaderTerm(loop, clock, stepDown, metrics);
        this.out = new Outbox(clock, term);
        this.offers = new OfferManager(config, loop, idPrefix, allocatorSeed, term, out, metrics);
        this.tasks = new TaskLifecycle(config, out, offers, metrics);
        this.frameworks = new FrameworkManager(config, loop, idPrefix, term, out, offers, tasks);
        this.agents = new AgentManager(config, loop, idPrefix, term, out, offers, tasks);
        // The two lower classes read the records of the managers that call them.
        offers.lookUpRecordsIn(agents, frameworks);
        tasks.lookUpRecordsIn(agents, frameworks);
        this.reregistration = new AgentReregistration(clock, term, out, agents, frameworks, tasks, offers);
        this.roles = new RoleSettingsManager(loop, term, offers);
        this.drains = new DrainManager(loop, clock, term, out, agents, frameworks, tasks, offers);
        frameworks.onStreams(drains::subscribed, drains::detached);
        this.views = new StateViews(term, agents, frameworks, offers, tasks);
        this.acls = config.acls();
        this.rateLimiter = new RateLimiter(config.rateLimits(), config.clock());
        this.snapshots = new StateSnapshots(loop, clock, term, views, metrics);
        metrics.readStateFrom(snapshots::current);
        metrics.watchQueueOf(loop);
        loop.observe((waited, ran) -> {
            metrics.eventRan(waited, ran);
            snapshots.changed();
        });
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
        metrics.elected();
        int recoveredAgentCount = agents.recover(recovered.agents());
        drains.recover(recovered.drains(), recovered.maintenance());
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
            RoleConfig before = persisted[0];
            List<RegistryOp> ops = RegistryRecords.roleChanges(before, next);
            persisted[0] = next;
            CompletableFuture<Void> written = term.write(ops);
            if (written.isCompletedExceptionally()) {
                // Refused before anything was written (a record that can never be stored): the
                // registry still holds what it held, and the next change is computed against that.
                persisted[0] = before;
            }
            return written;
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
        // What became durable while suspended is applied first: memory follows the registry.
        int applied = term.applyDeferred();
        agents.forgetMissedPings();
        // Schedulers were cut off by the suspension: their failover timeouts count from it.
        term.persist(frameworks.rearmAfterSuspension(), "disconnection times after a suspension", () -> {});
        LOG.info("Acting as leader again after {} ms suspended; applied {} registry writes that completed meanwhile",
                now - term.suspendedAt(), applied);
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
        drains.cancelTimers();
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
            case TEARDOWN -> frameworks.removeFramework(fw, "torn down by its scheduler", true, () -> { });
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

    /** The --rate_limits the scheduler edge applies (any thread). */
    RateLimiter rateLimiter() {
        return rateLimiter;
    }

    /**
     * A scheduler went over its rate limit: its stream ends with RESOURCE_EXHAUSTED (it may come
     * back later), as a disconnection.
     */
    void onSchedulerRateLimited(SchedulerConnection conn, String message) {
        if (conn.out.isClosed()) {
            return;
        }
        LOG.warn("Closed {}: {}", conn, message);
        conn.out.fail(Status.RESOURCE_EXHAUSTED.withDescription(message));
        onSchedulerClosed(conn, "rate limited");
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

    /**
     * ACCEPT: validated in full first ({@link AcceptValidation}, invariant 1), then applied here,
     * since a plan spans offers, agents and tasks: the offers used, the reservations converted
     * (checkpointed by the agent before any RUN_TASK), the tasks launched, and what no operation
     * used given back with the call's filter. The offered resources stay allocated to the
     * framework's role in the allocator: the tasks keep theirs.
     */
    private void accept(FrameworkRecord fw, Call.Accept accept) {
        AcceptAuthorization.Denial denial = AcceptAuthorization.check(acls, fw.info.getPrincipal().isEmpty() ? null
                : fw.info.getPrincipal(), fw.info, accept);
        if (denial != null) {
            refuse(fw, unauthorized(fw, accept, denial));
            return;
        }
        AcceptValidation.Outcome outcome = AcceptValidation.validate(accept, fw.id, fw.info.getPrincipal(),
                id -> {
                    OfferRecord o = offers.get(id);
                    return o == null ? null : new AcceptValidation.OfferView(o.id(), o.framework(), o.agent(), o.role(),
                            o.resources());
                },
                id -> {
                    AgentRecord agent = id == null ? null : agents.get(id);
                    return agent != null && agent.offerable();
                },
                Collections.unmodifiableSet(fw.tasks.keySet()));
        if (outcome instanceof AcceptValidation.InvalidCall call) {
            out.refuse(fw, Call.Type.ACCEPT, Event.Error.Code.INVALID_CALL, call.error());
        } else if (outcome instanceof AcceptValidation.Refusal refusal) {
            refuse(fw, refusal);
        } else if (outcome instanceof AcceptValidation.Plan plan) {
            AgentRecord agent = agents.get(plan.agent());
            metrics.offersAccepted(plan.offers().size());
            offers.admission().accepted(plan.offers().size(), plan.launches().size());
            for (OfferId id : plan.offers()) {
                offers.forget(offers.get(id));
            }
            agents.convertReservations(agent, fw.id, plan.role(), plan.conversions());
            for (AcceptValidation.Launch launch : plan.launches()) {
                tasks.launch(fw, agent, launch.task(), launch.resources(), plan.role());
            }
            if (!plan.unused().isEmpty()) {
                offers.giveBackUnused(agent.id, fw.id, plan.role(), plan.unused(), offers.refuseUntil(accept.getFilters()));
            }
            offers.requestAllocation();
        }
    }

    /**
     * An ACCEPT the ACLs refuse, as a refusal: every task TASK_ERROR with the reason (naming the
     * principal, the action and the object), and this framework's outstanding offers it named go back.
     */
    private AcceptValidation.Refusal unauthorized(FrameworkRecord fw, Call.Accept accept,
            AcceptAuthorization.Denial denial) {
        java.util.LinkedHashSet<OfferId> ours = new java.util.LinkedHashSet<>();
        AgentId agent = null;
        for (var protoId : accept.getOfferIdsList()) {
            OfferRecord o = protoId.getValue().isEmpty() ? null : offers.get(OfferId.of(protoId));
            if (o != null && o.framework().equals(fw.id)) {
                ours.add(o.id());
                agent = o.agent();
            }
        }
        List<AcceptValidation.TaskRefusal> tasks = new java.util.ArrayList<>();
        for (var op : accept.getOperationsList()) {
            for (var task : op.getLaunch().getTaskInfosList()) {
                tasks.add(new AcceptValidation.TaskRefusal(task.getTaskId().getValue(),
                        agent == null ? task.getAgentId().getValue() : agent.value(), io.mezzo.proto.v1.TaskState.TASK_ERROR,
                        denial.user() ? io.mezzo.proto.v1.StatusReason.REASON_TASK_USER_INVALID
                                : io.mezzo.proto.v1.StatusReason.REASON_TASK_INVALID,
                        denial.message()));
            }
        }
        LOG.warn("Refused ACCEPT of framework {}: permission denied: {}", fw.id, denial.message());
        return new AcceptValidation.Refusal("permission denied: " + denial.message(), agent, List.copyOf(ours), tasks);
    }

    /** A refused ACCEPT launches nothing: each task hears why, and every offer goes back at once. */
    private void refuse(FrameworkRecord fw, AcceptValidation.Refusal refusal) {
        for (AcceptValidation.TaskRefusal t : refusal.tasks()) {
            out.sendUpdate(fw, out.masterStatus(t.taskId(), t.agentId(), Outbox.forFramework(fw, t.state()), t.reason(),
                    t.message()));
        }
        if (refusal.tasks().isEmpty()) {
            out.refuse(fw, Call.Type.ACCEPT, Event.Error.Code.INVALID_CALL, refusal.error());
        }
        String error = io.mezzo.common.validation.Limits.cut(refusal.error(), io.mezzo.common.validation.Limits.MESSAGE);
        if (refusal.agent() == null) {
            LOG.info("Refused ACCEPT of framework {}: {}", fw.id, error);
        } else {
            LOG.info("Refused ACCEPT of framework {} on agent {}: {}", fw.id, refusal.agent(), error);
        }
        for (OfferId id : refusal.offers()) {
            offers.giveBack(offers.get(id));
        }
        offers.requestAllocation();
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
        agents.heardFrom(conn);
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
                    drains.progress(agent);
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
    /** Launches in flight under admission control, stale ones pruned first (for the simulator's checks). */
    int launchesInFlight() {
        return offers.admission().inFlightNow();
    }

    StateViews views() {
        return views;
    }

    /** The state as last published by the loop, for readers on other threads. Any thread. */
    StateSnapshot snapshot() {
        return snapshots.current();
    }

    /** Tells {@code listener} (on the loop; it hands the work off) of every state snapshot published. */
    void onStatePublished(Consumer<StateSnapshot> listener) {
        snapshots.onPublished(listener);
    }

    /** Publishes the state now (after a barrier, so that a test reads what it just did). Loop thread. */
    void publishState() {
        snapshots.publishNow();
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

    /** DrainAgent: answers {@code done} with null once the drain is durable and in force, or why not. */
    void drainAgent(AgentId id, io.mezzo.proto.v1.DrainConfig config, Consumer<Status> done) {
        drains.drain(id, config, done);
    }

    /** ReactivateAgent: answers {@code done} with null once the drain is over, or why not. */
    void reactivateAgent(AgentId id, Consumer<Status> done) {
        drains.reactivate(id, done);
    }

    /** UpdateMaintenanceSchedule: answers {@code done} with null once the schedule is durable, or why not. */
    void updateMaintenance(List<io.mezzo.proto.v1.MaintenanceWindow> windows, Consumer<Status> done) {
        drains.updateSchedule(windows, done);
    }

    /** The pending maintenance windows, earliest first. */
    List<io.mezzo.proto.v1.MaintenanceWindow> maintenanceSchedule() {
        return drains.schedule();
    }

    /** How many scheduler streams the drain manager remembers telling the schedule (tests: it is pruned). */
    int maintenanceNoticedStreams() {
        return drains.noticedStreams();
    }

    /** KillTask (operator): null once the kill is sent or remembered, else why not (NOT_FOUND). */
    Status killTask(io.mezzo.common.id.FrameworkId framework, io.mezzo.common.id.TaskId task) {
        if (!term.acting()) {
            return Status.UNAVAILABLE.withDescription("this master is not acting as leader");
        }
        String error = tasks.killByOperator(framework, task);
        return error == null ? null : Status.NOT_FOUND.withDescription(error);
    }

    /** TeardownFramework (operator): answers {@code done} with null once the removal is durable and applied. */
    void teardownFramework(io.mezzo.common.id.FrameworkId id, Consumer<Status> done) {
        if (!term.acting()) {
            done.accept(Status.UNAVAILABLE.withDescription("this master is not acting as leader"));
            return;
        }
        FrameworkRecord fw = frameworks.get(id);
        if (fw == null) {
            done.accept(Status.NOT_FOUND.withDescription("framework " + id + " is not known or already removed"));
            return;
        }
        MDC.put("framework", id.value());
        frameworks.removeFramework(fw, "torn down by an operator", false, () -> done.accept(null));
    }

    /**
     * Test and fuzzing aid (O(everything)): null when the master's bookkeeping holds, else the first
     * broken invariant. For every agent, {@code used} is the sum of its live tasks' resources (the
     * {@link AgentRecord} invariant), every live task of a known framework is in that framework's
     * tasks, and the allocator's sums recomputed from scratch match its own. Loop thread.
     */
    String checkInvariants() {
        for (AgentRecord agent : agents.all()) {
            io.mezzo.common.resources.Resources live = io.mezzo.common.resources.Resources.EMPTY;
            for (TaskRecord task : agent.allTasks()) {
                if (!task.resourcesRecovered) {
                    live = live.plus(task.resources);
                }
                FrameworkRecord fw = frameworks.get(task.framework);
                if (fw != null && !task.terminal() && fw.tasks.get(task.id) != task) {
                    return "task " + task.id + " on agent " + agent.id + " is not among framework " + fw.id + "'s tasks";
                }
            }
            if (!live.equals(agent.used)) {
                return "agent " + agent.id + " uses " + agent.used + " but its live tasks hold " + live;
            }
        }
        try {
            offers.checkAllocatorInvariants();
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
        return null;
    }

    /**
     * Marks an agent draining, or back to registered (the hook for the drain and maintenance API);
     * false when the agent is unknown or not in a state that can drain.
     */
    boolean setDraining(AgentId id, boolean draining) {
        return agents.setDraining(id, draining);
    }
}
