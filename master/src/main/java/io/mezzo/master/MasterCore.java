package io.mezzo.master;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.mezzo.common.clock.Clock;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.OfferId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.loop.FaultHandler;
import io.mezzo.common.resources.ResourceValidation;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.task.TaskStates;
import io.mezzo.ha.registry.Registry;
import io.mezzo.ha.registry.RegistryOp;
import io.mezzo.master.allocator.Allocation;
import io.mezzo.master.allocator.DrfAllocator;
import io.mezzo.master.allocator.Quota;
import io.mezzo.master.allocator.RoleConfig;
import io.mezzo.master.allocator.RoleSummary;
import io.mezzo.master.validation.FilterValidation;
import io.mezzo.master.validation.FrameworkValidation;
import io.mezzo.master.validation.IdValidation;
import io.mezzo.master.validation.RoleConfigValidation;
import io.mezzo.master.validation.TaskValidation;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.FrameworkView;
import io.mezzo.proto.v1.GetRolesResponse;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.QuotaConfig;
import io.mezzo.proto.v1.ReservationInfo;
import io.mezzo.proto.v1.RegistryAgent;
import io.mezzo.proto.v1.RegistryFramework;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.RoleView;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.proto.v1.UpdateQuotaRequest;
import io.mezzo.proto.v1.UpdateWeightsRequest;
import io.mezzo.proto.v1.Value;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The master's state machine: every scheduler call, agent message and timer of the master ends up
 * here, on the master's event loop, one at a time. Nothing here blocks or does I/O beyond queueing
 * messages on outbound streams.
 *
 * <p>Owner: {@link Master}. Thread: the master's event loop only (no locks).
 *
 * <p>Invariants kept here (besides those of the records):
 *
 * <ol>
 *   <li>An ACCEPT is validated in full before anything changes; an invalid one launches nothing and
 *       gives every offer it names back at once.
 *   <li>Offers exist only for agents that are registered and connected and for frameworks that are
 *       connected.
 *   <li>A task's resources are given back exactly once: when it reaches a terminal state, becomes
 *       unreachable, or its framework is removed.
 * </ol>
 */
final class MasterCore {

    private static final Logger LOG = LoggerFactory.getLogger(MasterCore.class);

    static final String TIMER_ALLOCATION = "allocation";
    static final String TIMER_ALLOCATION_NOW = "allocation-now";
    static final String TIMER_HEARTBEAT = "framework-heartbeat";
    static final String TIMER_PING = "agent-ping";
    static final String TIMER_REREGISTER = "agent-reregister-timeout";
    static final String TIMER_RECOVERY_PAUSE = "recovery-quota-pause";

    private final MasterConfig config;
    private final EventLoop loop;
    private final Clock clock;
    private final FaultHandler faults;
    private MasterInfo masterInfo;
    private final AgentManager agents;
    private final FrameworkManager frameworks;
    private final OfferManager offers;
    /**
     * Decides the offers. Fed incrementally with every change to agents, frameworks and
     * allocations (see "Allocator feeding"), so a cycle copies nothing. Soft state, rebuilt from
     * agents and frameworks as they come back; weights and quotas are hard state.
     */
    private final DrfAllocator allocator;
    private final ArrayDeque<Task> completedTasks = new ArrayDeque<>();
    private final Random seeds;
    private final java.util.function.Consumer<String> stepDown;
    private long allocationCycles;
    /** The registry of this leadership term; null before election. */
    private Registry registry;
    /** True while this master leads and its coordination session is healthy. */
    private boolean acting;
    /** True once leadership is lost for good: nothing is ever done again. */
    private boolean stopped;
    private long suspendedAt;
    private long electedAt;
    /** How many agents the registry held when this master was elected (the removal limit's base). */
    private int recoveredAgentCount;
    /** Set while offers wait for agents to come back after a failover (quota guarantees only). */
    private boolean recoveryPause;
    /** Persists weights and quotas before they apply; replaced by the registry with HA. */
    private RoleConfigStore roleConfigStore = RoleConfigStore.STANDALONE;
    /**
     * Hard state: the newest weights and quotas written (or being written) to the store. Updates
     * build on it, so two updates in flight do not lose each other; the allocator holds the one in
     * force.
     */
    private RoleConfig roleConfigHead = RoleConfig.EMPTY;

    /**
     * A core that does nothing until {@link #becomeLeader}. {@code stepDown} is called (on the loop)
     * when this master must give up leadership for good, e.g. after a failed registry write.
     */
    MasterCore(MasterConfig config, EventLoop loop, String idPrefix, long allocatorSeed,
            java.util.function.Consumer<String> stepDown) {
        this.config = config;
        this.loop = loop;
        this.clock = config.clock();
        this.faults = config.faultHandler();
        this.agents = new AgentManager(idPrefix, faults);
        this.frameworks = new FrameworkManager(idPrefix, faults);
        this.offers = new OfferManager(idPrefix);
        this.allocator = new DrfAllocator(config.minAllocatable());
        this.seeds = new Random(allocatorSeed);
        this.stepDown = stepDown;
    }

    /**
     * Takes leadership: rebuilds the hard state read from the registry (agents expected back,
     * unreachable and gone agents, frameworks with their failover timeouts counted from their
     * original disconnection) and starts the periodic timers. Soft state (tasks, offers) comes
     * back with the agents' REREGISTER. Loop thread.
     */
    void becomeLeader(MasterInfo info, Registry registry, RegistryRecords.Recovered recovered) {
        this.masterInfo = info;
        this.registry = registry;
        this.acting = true;
        this.electedAt = clock.millis();
        List<RegistryOp> fixes = new ArrayList<>();
        for (RegistryAgent a : recovered.agents()) {
            AgentId id = AgentId.of(a.getInfo().getId());
            AgentRecord.State state = switch (a.getState()) {
                case UNREACHABLE -> AgentRecord.State.UNREACHABLE;
                case GONE -> AgentRecord.State.GONE;
                default -> AgentRecord.State.RECOVERED;
            };
            AgentRecord agent = new AgentRecord(id, a.getInfo(),
                    ResourceValidation.validate(a.getInfo().getResourcesList()) == null
                            ? Resources.fromProto(a.getInfo().getResourcesList()) : Resources.EMPTY, state);
            agent.registeredAt = (long) (a.getRegisteredTime() * 1000);
            agent.unreachableAt = (long) (a.getUnreachableTime() * 1000);
            agents.add(agent);
            if (state == AgentRecord.State.RECOVERED) {
                recoveredAgentCount++;
            }
        }
        for (RegistryFramework f : recovered.frameworks()) {
            FrameworkId id = FrameworkId.of(f.getInfo().getId());
            if (f.getState() == RegistryFramework.State.REMOVED) {
                frameworks.rememberRemoved(id);
                continue;
            }
            FrameworkRecord fw = new FrameworkRecord(id, f.getInfo(), FrameworkRecord.State.RECOVERED);
            fw.registeredAt = (long) (f.getRegisteredTime() * 1000);
            // A framework connected to the old leader lost its connection with it: now.
            fw.disconnectedAt = f.getDisconnectedTime() > 0 ? (long) (f.getDisconnectedTime() * 1000) : electedAt;
            if (f.getDisconnectedTime() <= 0) {
                fixes.add(RegistryRecords.active(fw.info, f.getRegisteredTime(), fw.disconnectedAt / 1000.0));
            }
            frameworks.add(fw);
            // Known to the allocator (inactive) so that its tasks count against its share.
            allocator.updateFramework(fw.id, fw.roles(), false);
            armFailoverTimer(fw);
        }
        LOG.info("Leading with epoch {}: recovered {} agents to wait for ({} unreachable, {} gone) and {} frameworks",
                info.getEpoch(), recoveredAgentCount,
                agents.all().stream().filter(a -> a.state == AgentRecord.State.UNREACHABLE).count(),
                agents.all().stream().filter(a -> a.state == AgentRecord.State.GONE).count(),
                frameworks.all().size());
        if (recoveredAgentCount > 0) {
            loop.schedule(TIMER_REREGISTER, config.agentReregisterTimeout(), this::reregisterTimeout);
        }
        // With quota guarantees, offering a half-returned cluster could hand out what a guarantee
        // needs; wait (bounded) for most agents. Without them, offers start with the first agent.
        recoveryPause = recoveredAgentCount > 0
                && recovered.roles().quotas().values().stream().anyMatch(q -> !q.guarantees().isEmpty());
        if (recoveryPause) {
            LOG.info("Holding offers until {}% of the {} recovered agents are back, at most {}s: roles have quota"
                    + " guarantees", Math.round(config.recoveryQuotaFraction() * 100), recoveredAgentCount,
                    config.recoveryQuotaTimeout().toSeconds());
            loop.schedule(TIMER_RECOVERY_PAUSE, config.recoveryQuotaTimeout(), this::requestAllocation);
        }
        persist(fixes, "recovered frameworks' disconnection times", () -> {});
        // Weights and quotas are registry records too; this store writes the changes, fenced.
        RoleConfig[] persisted = {recovered.roles()};
        recoverRoleConfig(next -> {
            List<RegistryOp> ops = RegistryRecords.roleChanges(persisted[0], next);
            persisted[0] = next;
            return registry.write(ops);
        }, recovered.roles());
        scheduleAllocation();
        scheduleHeartbeat();
        schedulePing();
    }

    /**
     * The coordination session is suspended: stop acting at once. Every stream is closed (clients
     * come back when this master, or another, leads again); timers keep their deadlines but do
     * nothing until {@link #resume}. Loop thread.
     */
    void suspend() {
        if (!acting) {
            return;
        }
        acting = false;
        suspendedAt = clock.millis();
        closeAllStreams("the master lost contact with ZooKeeper");
        LOG.warn("Stopped acting as leader: ZooKeeper connection suspended");
    }

    /** The session is back and this master still leads: act again. Loop thread. */
    void resume() {
        if (acting || stopped) {
            return;
        }
        acting = true;
        long now = clock.millis();
        for (AgentRecord agent : agents.all()) {
            agent.missedPings = 0;
            agent.awaitingPong = false;
        }
        // Schedulers were cut off by the suspension: their failover timeouts count from it.
        List<RegistryOp> ops = new ArrayList<>();
        for (FrameworkRecord fw : frameworks.all()) {
            if (fw.connection == null && !loop.isScheduled(failoverTag(fw.id))) {
                if (fw.disconnectedAt == 0) {
                    fw.disconnectedAt = suspendedAt;
                }
                ops.add(RegistryRecords.active(fw.info, fw.registeredAt / 1000.0, fw.disconnectedAt / 1000.0));
                armFailoverTimer(fw);
            }
        }
        persist(ops, "disconnection times after a suspension", () -> {});
        LOG.info("Acting as leader again after {} ms suspended", now - suspendedAt);
    }

    /** Leadership is lost for good: close everything and never act again. Loop thread. */
    void stop(String reason) {
        if (stopped) {
            return;
        }
        stopped = true;
        acting = false;
        closeAllStreams("this master is no longer the leader: " + reason);
        for (String tag : new String[] {TIMER_ALLOCATION, TIMER_ALLOCATION_NOW, TIMER_HEARTBEAT, TIMER_PING,
                TIMER_REREGISTER, TIMER_RECOVERY_PAUSE}) {
            loop.cancel(tag);
        }
        for (FrameworkRecord fw : frameworks.all()) {
            loop.cancel(failoverTag(fw.id));
        }
        if (reason.equals("master stopping")) {
            LOG.info("Stopped leading: master stopping");
        } else {
            LOG.warn("Stopped leading for good: {}", reason);
        }
    }

    private void closeAllStreams(String why) {
        Status status = Status.UNAVAILABLE.withDescription(why);
        for (FrameworkRecord fw : frameworks.all()) {
            rescindOffersOf(fw, false);
            if (fw.connection != null) {
                fw.connection.out.fail(status);
                fw.connection = null;
                if (fw.state == FrameworkRecord.State.CONNECTED) {
                    frameworks.transition(fw, FrameworkRecord.State.DISCONNECTED);
                }
                allocator.updateFramework(fw.id, fw.roles(), false);
            }
        }
        for (AgentRecord agent : agents.all()) {
            if (agent.connection != null) {
                agent.connection.out.fail(status);
                agent.connection = null;
                syncOfferable(agent);
            }
        }
    }

    /**
     * Write, persist, apply: {@code apply} runs on the loop once {@code ops} are durable, and only
     * if this master still leads. A failed write means this master can no longer trust its
     * leadership (fenced, or ZooKeeper failing beyond retries): it steps down.
     */
    private void persist(List<RegistryOp> ops, String what, Runnable apply) {
        if (ops.isEmpty()) {
            apply.run();
            return;
        }
        registry.write(ops).whenComplete((ok, error) -> loop.append(() -> {
            if (stopped) {
                LOG.debug("Dropped the result of the registry write of {}: no longer leading", what);
                return;
            }
            if (error != null) {
                Throwable cause = error instanceof java.util.concurrent.CompletionException ? error.getCause() : error;
                LOG.error("Registry write of {} failed: {}", what, cause.getMessage());
                stepDown.accept("registry write of " + what + " failed: " + cause.getMessage());
                return;
            }
            if (!acting) {
                LOG.debug("Registry write of {} completed while suspended; not applied", what);
                return;
            }
            apply.run();
        }));
    }

    MasterInfo masterInfo() {
        return masterInfo;
    }

    // ------------------------------------------------------------------------------------------
    // Scheduler calls
    // ------------------------------------------------------------------------------------------

    void onSchedulerCall(SchedulerConnection conn, Call call) {
        if (!acting) {
            conn.out.fail(Status.UNAVAILABLE.withDescription("this master is not acting as leader"));
            return;
        }
        if (conn.framework != null) {
            MDC.put("framework", conn.framework.value());
        }
        if (call.getType() == Call.Type.SUBSCRIBE) {
            subscribe(conn, call);
            return;
        }
        if (conn.framework == null) {
            rejectStream(conn, call.getType(), "the first call on a stream must be SUBSCRIBE, got " + call.getType());
            return;
        }
        FrameworkRecord fw = frameworks.get(conn.framework);
        if (fw == null || fw.connection != conn) {
            // The framework failed over to another stream or was removed; this stream is stale.
            LOG.debug("Ignored {} on stale {}", call.getType(), conn);
            return;
        }
        if (!call.getFrameworkId().getValue().equals(fw.id.value())) {
            refuse(fw, call.getType(), Event.Error.Code.INVALID_CALL,
                    "call names framework_id '" + call.getFrameworkId().getValue() + "' but this stream is subscribed as "
                            + fw.id);
            return;
        }
        switch (call.getType()) {
            case TEARDOWN -> removeFramework(fw, "torn down by its scheduler");
            case ACCEPT -> {
                if (requireBody(fw, call, call.hasAccept())) {
                    accept(fw, call.getAccept());
                }
            }
            case DECLINE -> {
                if (requireBody(fw, call, call.hasDecline())) {
                    decline(fw, call.getDecline());
                }
            }
            case REVIVE -> revive(fw, call.getRevive().getRolesList());
            case SUPPRESS -> suppress(fw, call.getSuppress().getRolesList());
            case KILL -> {
                if (requireBody(fw, call, call.hasKill())) {
                    kill(fw, call.getKill());
                }
            }
            case ACKNOWLEDGE -> {
                if (requireBody(fw, call, call.hasAcknowledge())) {
                    acknowledge(fw, call.getAcknowledge());
                }
            }
            case RECONCILE -> reconcile(fw, call.getReconcile());
            case MESSAGE -> {
                if (requireBody(fw, call, call.hasMessage())) {
                    message(fw, call.getMessage());
                }
            }
            default -> refuse(fw, call.getType(), Event.Error.Code.INVALID_CALL, "call has no type");
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
        if (!acting) {
            fw.connection = null;
            return;
        }
        disconnectFramework(fw, why);
    }

    private void subscribe(SchedulerConnection conn, Call call) {
        if (conn.framework != null) {
            FrameworkRecord fw = frameworks.get(conn.framework);
            if (fw != null && fw.connection == conn) {
                refuse(fw, call.getType(), Event.Error.Code.INVALID_CALL, "this stream is already subscribed as " + fw.id);
            }
            return;
        }
        if (!call.hasSubscribe()) {
            rejectStream(conn, call.getType(), "SUBSCRIBE call has no subscribe body");
            return;
        }
        FrameworkInfo info = call.getSubscribe().getFrameworkInfo();
        String error = FrameworkValidation.validate(info);
        if (error == null && call.hasFrameworkId() && !call.getFrameworkId().getValue().isEmpty()
                && !call.getFrameworkId().equals(info.getId())) {
            error = "call framework_id '" + call.getFrameworkId().getValue() + "' differs from framework_info.id '"
                    + info.getId().getValue() + "'";
        }
        if (error != null) {
            rejectStream(conn, call.getType(), "invalid SUBSCRIBE: " + error);
            return;
        }
        if (conn.subscribing) {
            rejectStream(conn, call.getType(), "SUBSCRIBE sent twice on one stream");
            return;
        }
        double now = clock.seconds();
        FrameworkId id;
        FrameworkInfo stored;
        double registeredTime = now;
        boolean needsWrite;
        if (info.hasId() && !info.getId().getValue().isEmpty()) {
            id = FrameworkId.of(info.getId());
            MDC.put("framework", id.value());
            if (frameworks.isRemoved(id)) {
                LOG.info("Refused resubscription of removed framework {} from {}", id, conn.peer);
                conn.out.send(errorEvent(Event.Error.Code.FRAMEWORK_REMOVED, call.getType(),
                        "framework " + id + " was removed; subscribe without an id to start afresh"));
                conn.out.complete();
                return;
            }
            FrameworkRecord known = frameworks.get(id);
            stored = info;
            if (known != null) {
                registeredTime = known.registeredAt / 1000.0;
            }
            // Persist what a new leader needs: a changed info, or that it is connected again.
            needsWrite = known == null || !known.info.equals(info) || known.disconnectedAt != 0;
        } else {
            id = frameworks.newId();
            MDC.put("framework", id.value());
            stored = info.toBuilder().setId(id.toProto()).build();
            needsWrite = true;
        }
        conn.subscribing = true;
        FrameworkInfo finalInfo = stored;
        double finalRegistered = registeredTime;
        boolean isNew = !info.hasId() || info.getId().getValue().isEmpty();
        persist(needsWrite ? List.of(RegistryRecords.active(stored, registeredTime, 0)) : List.of(),
                "framework " + id, () -> completeSubscribe(conn, call, id, finalInfo, finalRegistered, isNew));
    }

    private void completeSubscribe(SchedulerConnection conn, Call call, FrameworkId id, FrameworkInfo info,
            double registeredTime, boolean isNew) {
        MDC.put("framework", id.value());
        conn.subscribing = false;
        FrameworkRecord fw = frameworks.get(id);
        if (fw != null && fw.removing) {
            conn.out.send(errorEvent(Event.Error.Code.FRAMEWORK_REMOVED, call.getType(),
                    "framework " + id + " is being removed"));
            conn.out.complete();
            return;
        }
        if (fw == null) {
            fw = new FrameworkRecord(id, info, isNew ? FrameworkRecord.State.CONNECTED : FrameworkRecord.State.RECOVERED);
            fw.registeredAt = (long) (registeredTime * 1000);
            frameworks.add(fw);
            if (!isNew) {
                LOG.info("Re-admitted framework {} ({}) unknown to this master", id, info.getName());
            }
        }
        if (fw.connection != null) {
            SchedulerConnection old = fw.connection;
            LOG.info("Framework {} failed over from {} to {}", id, old.peer, conn.peer);
            old.out.send(errorEvent(Event.Error.Code.FRAMEWORK_FAILED_OVER, call.getType(),
                    "framework " + id + " subscribed again on another connection"));
            old.out.complete();
            fw.connection = null;
            rescindOffersOf(fw, false);
        }
        loop.cancel(failoverTag(id));
        fw.info = info;
        frameworks.transition(fw, FrameworkRecord.State.CONNECTED);
        fw.connection = conn;
        fw.disconnectedAt = 0;
        fw.suppressedRoles.clear();
        conn.framework = fw.id;
        // A new scheduler instance starts unsuppressed and without DECLINE filters.
        allocator.updateFramework(fw.id, fw.roles(), true);
        allocator.revive(fw.id, List.of());
        conn.out.send(Event.newBuilder()
                .setType(Event.Type.SUBSCRIBED)
                .setSubscribed(Event.Subscribed.newBuilder()
                        .setFrameworkId(fw.id.toProto())
                        .setHeartbeatIntervalSeconds(config.frameworkHeartbeatInterval().toMillis() / 1000.0)
                        .setMasterInfo(masterInfo))
                .build());
        LOG.info("Subscribed framework {} ({}) with roles {} from {}, failover timeout {}s, {} active tasks",
                fw.id, info.getName(), fw.roles(), conn.peer, info.getFailoverTimeout(), fw.tasks.size());
        if (conn.out.isClosed()) {
            // The scheduler went away while its subscription was being made durable.
            disconnectFramework(fw, "stream closed during subscription");
            return;
        }
        requestAllocation();
    }

    private void disconnectFramework(FrameworkRecord fw, String why) {
        fw.connection = null;
        frameworks.transition(fw, FrameworkRecord.State.DISCONNECTED);
        fw.disconnectedAt = clock.millis();
        rescindOffersOf(fw, false);
        allocator.updateFramework(fw.id, fw.roles(), false);
        double timeout = fw.info.getFailoverTimeout();
        if (timeout <= 0) {
            LOG.info("Framework {} disconnected ({}) with no failover timeout", fw.id, why);
            removeFramework(fw, "disconnected with failover_timeout 0");
            return;
        }
        LOG.info("Framework {} disconnected ({}); its {} tasks keep running for its failover timeout of {}s",
                fw.id, why, fw.tasks.size(), timeout);
        // The disconnection time is durable before the timeout runs, so a new leader keeps it.
        FrameworkId id = fw.id;
        persist(List.of(RegistryRecords.active(fw.info, fw.registeredAt / 1000.0, fw.disconnectedAt / 1000.0)),
                "disconnection of framework " + id, () -> {
                    FrameworkRecord now = frameworks.get(id);
                    if (now != null && now.connection == null) {
                        armFailoverTimer(now);
                    }
                });
        requestAllocation();
    }

    /** Arms the removal of a disconnected framework at its disconnection time plus its failover timeout. */
    private void armFailoverTimer(FrameworkRecord fw) {
        long deadline = fw.disconnectedAt + (long) (fw.info.getFailoverTimeout() * 1000);
        FrameworkId id = fw.id;
        loop.schedule(failoverTag(id), Duration.ofMillis(Math.max(0, deadline - clock.millis())),
                () -> failoverExpired(id));
    }

    private void failoverExpired(FrameworkId id) {
        FrameworkRecord fw = frameworks.get(id);
        if (fw == null || fw.state == FrameworkRecord.State.CONNECTED || fw.connection != null) {
            return;
        }
        if (!acting) {
            // Decided once this master acts again.
            loop.schedule(failoverTag(id), Duration.ofSeconds(1), () -> failoverExpired(id));
            return;
        }
        MDC.put("framework", id.value());
        removeFramework(fw, "failover timeout of " + fw.info.getFailoverTimeout() + "s expired");
    }

    /** Removes a framework for good, once its tombstone is durable. */
    private void removeFramework(FrameworkRecord fw, String reason) {
        if (fw.removing) {
            return;
        }
        List<RegistryOp> ops = new ArrayList<>();
        ops.add(RegistryRecords.removed(fw.info, fw.registeredAt / 1000.0, clock.seconds()));
        FrameworkId evicted = frameworks.oldestRemovedIfFull();
        if (evicted != null) {
            ops.add(RegistryRecords.forgetFramework(evicted.value()));
        }
        FrameworkId id = fw.id;
        fw.removing = true;
        persist(ops, "removal of framework " + id, () -> {
            FrameworkRecord still = frameworks.get(id);
            if (still != null) {
                applyRemoval(still, reason);
            }
        });
    }

    /** Applies a durable removal: offers go back, tasks are killed and forgotten. */
    private void applyRemoval(FrameworkRecord fw, String reason) {
        rescindOffersOf(fw, false);
        loop.cancel(failoverTag(fw.id));
        if (fw.connection != null) {
            fw.connection.out.send(errorEvent(Event.Error.Code.FRAMEWORK_REMOVED, Call.Type.UNKNOWN,
                    "framework " + fw.id + " was removed: " + reason));
            fw.connection.out.complete();
            fw.connection = null;
        }
        Set<AgentId> agentsWithTasks = new LinkedHashSet<>();
        int killed = 0;
        for (TaskRecord task : List.copyOf(fw.tasks.values())) {
            agentsWithTasks.add(task.agent);
            if (!task.terminal()) {
                killed++;
            }
            recoverTaskResources(task);
            task.state = task.terminal() ? task.state : TaskState.TASK_KILLED;
            completeTask(task);
        }
        for (AgentId agentId : agentsWithTasks) {
            AgentRecord agent = agents.get(agentId);
            if (agent != null) {
                sendToAgent(agent, MasterMessage.newBuilder()
                        .setType(MasterMessage.Type.SHUTDOWN_FRAMEWORK)
                        .setShutdownFramework(MasterMessage.ShutdownFramework.newBuilder().setFrameworkId(fw.id.toProto())));
            }
        }
        frameworks.remove(fw);
        allocator.removeFramework(fw.id);
        LOG.info("Removed framework {} ({}): {}; killed {} tasks", fw.id, fw.info.getName(), reason, killed);
        requestAllocation();
    }

    private void accept(FrameworkRecord fw, Call.Accept accept) {
        String filterError = FilterValidation.validate(accept.getFilters());
        if (filterError != null) {
            refuse(fw, Call.Type.ACCEPT, Event.Error.Code.INVALID_CALL, filterError);
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
                sendUpdate(fw, masterStatus(task.getTaskId().getValue(), task.getAgentId().getValue(),
                        forFramework(fw, TaskState.TASK_DROPPED), StatusReason.REASON_INVALID_OFFERS, offerError));
            }
            if (launches.isEmpty()) {
                refuse(fw, Call.Type.ACCEPT, Event.Error.Code.INVALID_CALL, offerError);
            }
            LOG.info("Refused ACCEPT of framework {}: {}", fw.id, offerError);
            for (OfferRecord offer : used) {
                removeOffer(offer);
            }
            requestAllocation();
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
                    sendUpdate(fw, masterStatus(id, agent.id.value(), TaskState.TASK_ERROR, StatusReason.REASON_TASK_INVALID,
                            own));
                } else {
                    sendUpdate(fw, masterStatus(id, agent.id.value(), forFramework(fw, TaskState.TASK_DROPPED),
                            StatusReason.REASON_TASK_INVALID, "not launched: another operation of the same ACCEPT is invalid: "
                                    + (opError != null ? opError : firstTaskError)));
                }
            }
            if (launches.isEmpty()) {
                refuse(fw, Call.Type.ACCEPT, Event.Error.Code.INVALID_CALL, opError);
            }
            LOG.info("Refused ACCEPT of framework {} on agent {}: {}", fw.id, agent.id,
                    opError != null ? opError : firstTaskError);
            for (OfferRecord offer : used) {
                removeOffer(offer);
            }
            requestAllocation();
            return;
        }

        // 3. Valid: use the offers, convert reservations, launch, and filter what is left. The
        //    offered resources stay allocated to the framework's role in the allocator: the tasks
        //    keep theirs, and only what no operation used is given back.
        for (OfferRecord offer : used) {
            forgetOffer(offer);
        }
        for (Resources[] c : conversions) {
            agent.total = agent.total.minus(c[0]).plus(c[1]);
            agent.dynamicReservations = agent.dynamicReservations
                    .plus(c[1].filter(k -> isDynamic(k))).minus(c[0].filter(k -> isDynamic(k)));
            allocator.convert(agent.id, fw.id, role, c[0], c[1]);
            LOG.info("Converted {} to {} on agent {} for framework {}", c[0], c[1], agent.id, fw.id);
        }
        if (!conversions.isEmpty()) {
            checkpointReservations(agent);
        }
        for (Map.Entry<TaskInfo, Resources> e : taskResources.entrySet()) {
            launch(fw, agent, e.getKey(), e.getValue(), role);
        }
        if (!remaining.isEmpty()) {
            allocator.recover(agent.id, fw.id, role, remaining, refuseUntil(accept.getFilters()));
        }
        requestAllocation();
    }

    private void launch(FrameworkRecord fw, AgentRecord agent, TaskInfo info, Resources resources, String role) {
        TaskId id = TaskId.of(info.getTaskId());
        TaskRecord task = new TaskRecord(id, fw.id, agent.id, info, resources, role);
        task.latestStatus = masterStatus(id.value(), agent.id.value(), TaskState.TASK_STAGING,
                StatusReason.REASON_UNSPECIFIED, "");
        fw.tasks.put(id, task);
        agent.addTask(task);
        agent.used = agent.used.plus(resources);
        fw.addUsed(role, resources);
        sendToAgent(agent, MasterMessage.newBuilder()
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

    private static boolean isDynamic(Resources.Key key) {
        return key.reservation() != null && key.reservation().getType() == ReservationInfo.Type.DYNAMIC;
    }

    private void decline(FrameworkRecord fw, Call.Decline decline) {
        String filterError = FilterValidation.validate(decline.getFilters());
        if (filterError != null) {
            refuse(fw, Call.Type.DECLINE, Event.Error.Code.INVALID_CALL, filterError);
            return;
        }
        Duration refuse = FilterValidation.refuseDuration(decline.getFilters());
        for (var protoId : decline.getOfferIdsList()) {
            OfferRecord offer = protoId.getValue().isEmpty() ? null : offers.get(OfferId.of(protoId));
            if (offer == null || !offer.framework().equals(fw.id)) {
                LOG.debug("Framework {} declined offer {} which is no longer outstanding", fw.id, protoId.getValue());
                continue;
            }
            removeOffer(offer, refuseUntil(decline.getFilters()));
            LOG.debug("Framework {} declined offer {} for {}s", fw.id, offer.id(), refuse.toMillis() / 1000.0);
        }
        requestAllocation();
    }

    /** The clock time a valid filter's refusal ends; 0 for none (refuse_seconds 0). */
    private long refuseUntil(Filters filters) {
        Duration refuse = FilterValidation.refuseDuration(filters);
        return refuse.isZero() ? 0 : clock.millis() + Math.max(1, refuse.toMillis());
    }

    private void revive(FrameworkRecord fw, List<String> roles) {
        String error = rolesError(fw, roles);
        if (error != null) {
            refuse(fw, Call.Type.REVIVE, Event.Error.Code.INVALID_CALL, error);
            return;
        }
        if (roles.isEmpty()) {
            fw.suppressedRoles.clear();
        } else {
            roles.forEach(fw.suppressedRoles::remove);
        }
        allocator.revive(fw.id, roles);
        LOG.info("Framework {} revived offers for roles {}", fw.id, roles.isEmpty() ? fw.roles() : roles);
        requestAllocation();
    }

    private void suppress(FrameworkRecord fw, List<String> roles) {
        String error = rolesError(fw, roles);
        if (error != null) {
            refuse(fw, Call.Type.SUPPRESS, Event.Error.Code.INVALID_CALL, error);
            return;
        }
        fw.suppressedRoles.addAll(roles.isEmpty() ? fw.roles() : roles);
        allocator.suppress(fw.id, roles);
        LOG.info("Framework {} suppressed offers for roles {}", fw.id, roles.isEmpty() ? fw.roles() : roles);
    }

    private static String rolesError(FrameworkRecord fw, List<String> roles) {
        for (String role : roles) {
            if (!fw.roles().contains(role)) {
                return "role '" + role + "' is not one of the framework's roles " + fw.roles();
            }
        }
        return null;
    }

    private void kill(FrameworkRecord fw, Call.Kill kill) {
        String id = kill.getTaskId().getValue();
        if (id.isEmpty()) {
            refuse(fw, Call.Type.KILL, Event.Error.Code.INVALID_CALL, "KILL names no task_id");
            return;
        }
        if (kill.hasKillPolicy() && kill.getKillPolicy().getGracePeriod().getNanoseconds() < 0) {
            refuse(fw, Call.Type.KILL, Event.Error.Code.INVALID_CALL, "KILL kill_policy.grace_period is negative");
            return;
        }
        MDC.put("task", id);
        TaskRecord task = fw.tasks.get(TaskId.of(id));
        if (task == null) {
            LOG.info("Framework {} asked to kill unknown task {}", fw.id, id);
            sendUpdate(fw, masterStatus(id, kill.getAgentId().getValue(), forFramework(fw, TaskState.TASK_UNKNOWN),
                    StatusReason.REASON_TASK_UNKNOWN, "task " + id + " is not known to the master"));
            return;
        }
        if (task.terminal()) {
            sendUpdate(fw, reconciliationStatus(fw, task, "task " + id + " has already ended"));
            return;
        }
        task.killRequested = true;
        task.killPolicy = kill.hasKillPolicy() ? kill.getKillPolicy() : null;
        AgentRecord agent = agents.get(task.agent);
        if (agent != null && agent.connection != null && agent.state != AgentRecord.State.UNREACHABLE) {
            sendKill(agent, task, StatusReason.REASON_KILLED_BY_FRAMEWORK);
            LOG.info("Killing task {} of framework {} on agent {}", id, fw.id, task.agent);
        } else {
            LOG.info("Kill of task {} of framework {} waits for agent {} to come back", id, fw.id, task.agent);
            sendUpdate(fw, reconciliationStatus(fw, task,
                    "agent " + task.agent + " is not connected; the kill is sent when it re-registers"));
        }
    }

    private void sendKill(AgentRecord agent, TaskRecord task, StatusReason reason) {
        MasterMessage.KillTask.Builder kill = MasterMessage.KillTask.newBuilder()
                .setFrameworkId(task.framework.toProto())
                .setTaskId(task.id.toProto())
                .setReason(reason);
        if (task.killPolicy != null) {
            kill.setKillPolicy(task.killPolicy);
        }
        sendToAgent(agent, MasterMessage.newBuilder().setType(MasterMessage.Type.KILL_TASK).setKillTask(kill));
    }

    private void acknowledge(FrameworkRecord fw, Call.Acknowledge ack) {
        String error = null;
        if (ack.getAgentId().getValue().isEmpty()) {
            error = "ACKNOWLEDGE names no agent_id";
        } else if (ack.getTaskId().getValue().isEmpty()) {
            error = "ACKNOWLEDGE names no task_id";
        } else if (ack.getUuid().size() != 16) {
            error = "ACKNOWLEDGE uuid must be the 16 bytes of the update's uuid, got " + ack.getUuid().size();
        }
        if (error != null) {
            refuse(fw, Call.Type.ACKNOWLEDGE, Event.Error.Code.INVALID_CALL, error);
            return;
        }
        AgentRecord agent = agents.get(AgentId.of(ack.getAgentId()));
        if (agent == null) {
            refuse(fw, Call.Type.ACKNOWLEDGE, Event.Error.Code.NOT_FOUND,
                    "agent " + ack.getAgentId().getValue() + " is not known");
            return;
        }
        MDC.put("task", ack.getTaskId().getValue());
        MDC.put("agent", agent.id.value());
        if (agent.connection == null) {
            LOG.debug("Acknowledgement for agent {} dropped: it is not connected and will resend the update", agent.id);
            return;
        }
        sendToAgent(agent, MasterMessage.newBuilder()
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

    private void reconcile(FrameworkRecord fw, Call.Reconcile reconcile) {
        if (reconcile.getTasksCount() == 0) {
            for (TaskRecord task : fw.tasks.values()) {
                sendUpdate(fw, reconciliationStatus(fw, task, "implicit reconciliation"));
            }
            LOG.info("Reconciled {} tasks of framework {} implicitly", fw.tasks.size(), fw.id);
            return;
        }
        for (Call.Reconcile.Task t : reconcile.getTasksList()) {
            String id = t.getTaskId().getValue();
            if (id.isEmpty()) {
                refuse(fw, Call.Type.RECONCILE, Event.Error.Code.INVALID_CALL, "RECONCILE lists a task without task_id");
                return;
            }
        }
        for (Call.Reconcile.Task t : reconcile.getTasksList()) {
            String id = t.getTaskId().getValue();
            TaskRecord task = fw.tasks.get(TaskId.of(id));
            if (task != null) {
                sendUpdate(fw, reconciliationStatus(fw, task, "explicit reconciliation"));
                continue;
            }
            String agentId = t.getAgentId().getValue();
            AgentRecord agent = agentId.isEmpty() ? null : agents.get(AgentId.of(agentId));
            TaskState state;
            String message;
            if (agent == null) {
                state = TaskState.TASK_UNKNOWN;
                message = "task " + id + " is not known to the master";
            } else if (agent.state == AgentRecord.State.UNREACHABLE) {
                state = TaskState.TASK_UNREACHABLE;
                message = "agent " + agentId + " is unreachable";
            } else if (agent.state == AgentRecord.State.GONE) {
                state = TaskState.TASK_GONE;
                message = "agent " + agentId + " is gone";
            } else {
                state = TaskState.TASK_GONE;
                message = "task " + id + " is not running on agent " + agentId;
            }
            sendUpdate(fw, masterStatus(id, agentId, forFramework(fw, state), StatusReason.REASON_RECONCILIATION, message));
        }
        LOG.info("Reconciled {} tasks of framework {} explicitly", reconcile.getTasksCount(), fw.id);
    }

    private void message(FrameworkRecord fw, Call.Message message) {
        String agentId = message.getAgentId().getValue();
        String executor = message.getExecutorId().getValue();
        AgentRecord agent = agentId.isEmpty() ? null : agents.get(AgentId.of(agentId));
        if (agent == null || agent.connection == null) {
            refuse(fw, Call.Type.MESSAGE, Event.Error.Code.NOT_FOUND, "agent '" + agentId + "' is not connected");
            return;
        }
        if (executor.isEmpty() || agent.task(fw.id, TaskId.of(executor)) == null) {
            refuse(fw, Call.Type.MESSAGE, Event.Error.Code.NOT_FOUND,
                    "executor '" + executor + "' of framework " + fw.id + " is not on agent " + agentId);
            return;
        }
        sendToAgent(agent, MasterMessage.newBuilder()
                .setType(MasterMessage.Type.FRAMEWORK_MESSAGE)
                .setFrameworkMessage(MasterMessage.FrameworkMessage.newBuilder()
                        .setFrameworkId(fw.id.toProto())
                        .setExecutorId(message.getExecutorId())
                        .setData(message.getData())));
        LOG.debug("Forwarded {} bytes from framework {} to executor {} on agent {}", message.getData().size(), fw.id,
                executor, agentId);
    }

    private boolean requireBody(FrameworkRecord fw, Call call, boolean present) {
        if (!present) {
            refuse(fw, call.getType(), Event.Error.Code.INVALID_CALL,
                    call.getType() + " call has no " + call.getType().name().toLowerCase() + " body");
        }
        return present;
    }

    private void refuse(FrameworkRecord fw, Call.Type type, Event.Error.Code code, String message) {
        LOG.info("Refused {} of framework {}: {}", type, fw.id, message);
        sendEvent(fw, errorEvent(code, type, message));
    }

    private void rejectStream(SchedulerConnection conn, Call.Type type, String message) {
        LOG.info("Refused {} on {}: {}", type, conn, message);
        conn.out.send(errorEvent(Event.Error.Code.INVALID_CALL, type, message));
        conn.out.fail(Status.INVALID_ARGUMENT.withDescription(message));
    }

    private static Event errorEvent(Event.Error.Code code, Call.Type type, String message) {
        return Event.newBuilder()
                .setType(Event.Type.ERROR)
                .setError(Event.Error.newBuilder().setCode(code).setCallType(type).setMessage(message))
                .build();
    }

    // ------------------------------------------------------------------------------------------
    // Agent messages
    // ------------------------------------------------------------------------------------------

    void onAgentMessage(AgentConnection conn, AgentMessage msg) {
        if (!acting) {
            conn.out.fail(Status.UNAVAILABLE.withDescription("this master is not acting as leader"));
            return;
        }
        if (conn.agent != null) {
            MDC.put("agent", conn.agent.value());
        }
        switch (msg.getType()) {
            case REGISTER -> register(conn, msg);
            case REREGISTER -> reregister(conn, msg);
            case PONG -> pong(conn, msg.getPong());
            case STATUS_UPDATE -> statusUpdate(conn, msg.getStatusUpdate());
            default -> rejectAgent(conn, "agent message has no type");
        }
    }

    void onAgentClosed(AgentConnection conn, String why) {
        if (conn.agent == null) {
            return;
        }
        AgentRecord agent = agents.get(conn.agent);
        if (agent == null || agent.connection != conn) {
            return;
        }
        MDC.put("agent", agent.id.value());
        agent.connection = null;
        if (!acting) {
            return;
        }
        rescindOffersOn(agent);
        syncOfferable(agent);
        LOG.info("Agent {} at {} disconnected ({}); unreachable after {} missed pings unless it re-registers", agent.id,
                agent.info.getHostname(), why, config.maxAgentPingTimeouts());
    }

    private void register(AgentConnection conn, AgentMessage msg) {
        if (conn.agent != null || conn.registering) {
            rejectAgent(conn, "this stream is already registered as agent " + conn.agent);
            return;
        }
        AgentInfo info = msg.getRegister().getAgentInfo();
        String error = agentInfoError(info);
        if (error != null) {
            rejectAgent(conn, "invalid REGISTER: " + error);
            return;
        }
        AgentId id = agents.newId();
        MDC.put("agent", id.value());
        AgentInfo stored = info.toBuilder().setId(id.toProto()).build();
        double now = clock.seconds();
        conn.registering = true;
        persist(List.of(RegistryRecords.admitted(stored, now)), "admission of agent " + id, () -> {
            MDC.put("agent", id.value());
            conn.registering = false;
            AgentRecord agent = new AgentRecord(id, stored, Resources.fromProto(info.getResourcesList()),
                    AgentRecord.State.REGISTERED);
            agent.dynamicReservations = agent.total.filter(MasterCore::isDynamic);
            agent.registeredAt = (long) (now * 1000);
            agents.add(agent);
            if (conn.out.isClosed()) {
                LOG.info("Admitted agent {} at {}, whose stream closed meanwhile", id, info.getHostname());
                allocator.addAgent(id, agent.total, agent.offerable());
                return;
            }
            attach(agent, conn);
            allocator.addAgent(id, agent.total, agent.offerable());
            LOG.info("Registered agent {} at {} ({}) with {}", id, info.getHostname(), conn.peer, agent.total);
            requestAllocation();
        });
    }

    private void reregister(AgentConnection conn, AgentMessage msg) {
        AgentMessage.Reregister rr = msg.getReregister();
        AgentInfo info = rr.getAgentInfo();
        String error = agentInfoError(info);
        if (error == null && info.getId().getValue().isEmpty()) {
            error = "agent_info.id is empty";
        }
        if (error == null && conn.agent != null && !conn.agent.value().equals(info.getId().getValue())) {
            error = "this stream is already registered as agent " + conn.agent;
        }
        if (error != null) {
            rejectAgent(conn, "invalid REREGISTER: " + error);
            return;
        }
        AgentId id = AgentId.of(info.getId());
        MDC.put("agent", id.value());
        AgentRecord known = agents.get(id);
        if (known != null && known.state == AgentRecord.State.GONE) {
            applyReregister(conn, msg, id);
            return;
        }
        // Durable first: an agent unknown to the registry, or coming back from unreachable, or
        // with a changed info, is (re)admitted before it is answered.
        boolean needsWrite = known == null || known.state == AgentRecord.State.UNREACHABLE
                || known.markingUnreachable || !known.info.equals(info);
        double registered = known == null ? clock.seconds() : known.registeredAt / 1000.0;
        conn.registering = true;
        persist(needsWrite ? List.of(RegistryRecords.admitted(info, registered)) : List.of(),
                "re-admission of agent " + id, () -> {
                    conn.registering = false;
                    if (conn.out.isClosed()) {
                        return;
                    }
                    applyReregister(conn, msg, id);
                });
    }

    private void applyReregister(AgentConnection conn, AgentMessage msg, AgentId id) {
        MDC.put("agent", id.value());
        AgentMessage.Reregister rr = msg.getReregister();
        AgentInfo info = rr.getAgentInfo();
        AgentRecord agent = agents.get(id);
        if (agent != null && agent.state == AgentRecord.State.GONE) {
            LOG.warn("Told agent {} at {} to shut down: it was removed from the cluster", id, info.getHostname());
            conn.out.send(withEpoch(MasterMessage.newBuilder()
                    .setType(MasterMessage.Type.SHUTDOWN)
                    .setShutdown(MasterMessage.Shutdown.newBuilder().setMessage("agent " + id + " was removed from the cluster"))));
            conn.out.complete();
            return;
        }
        boolean wasUnreachable = agent != null && agent.state == AgentRecord.State.UNREACHABLE;
        Resources reported = Resources.fromProto(info.getResourcesList());
        boolean resendReservations = false;
        if (agent == null) {
            agent = new AgentRecord(id, info, reported, AgentRecord.State.REGISTERED);
            agent.dynamicReservations = reported.filter(MasterCore::isDynamic);
            agent.registeredAt = clock.millis();
            agents.add(agent);
            LOG.info("Re-admitted agent {} at {} unknown to this master with reservations {}", id, info.getHostname(),
                    agent.dynamicReservations);
        } else {
            if (agent.connection != null && agent.connection != conn) {
                agent.connection.out.fail(Status.ABORTED.withDescription("agent re-registered on another stream"));
            }
            rescindOffersOn(agent);
            agent.info = info;
            boolean masterKnows = agent.state != AgentRecord.State.RECOVERED;
            Resources before = agent.dynamicReservations;
            agent.total = reconcileReservations(agent, reported, masterKnows);
            resendReservations = !agent.dynamicReservations.equals(reported.filter(MasterCore::isDynamic));
            if (!before.equals(agent.dynamicReservations)) {
                LOG.info("Agent {} holds dynamic reservations {} (this master had {})", id, agent.dynamicReservations,
                        before);
            }
            agents.transition(agent, AgentRecord.State.REGISTERED);
        }
        // REGISTERED goes out first, so that kills decided below reach a ready agent.
        attach(agent, conn);
        if (resendReservations) {
            checkpointReservations(agent);
        }

        // Frameworks the agent knows that this master does not: wait for their schedulers.
        for (FrameworkInfo fi : rr.getFrameworksList()) {
            if (fi.getId().getValue().isEmpty()) {
                continue;
            }
            FrameworkId fid = FrameworkId.of(fi.getId());
            if (frameworks.get(fid) == null && !frameworks.isRemoved(fid)) {
                FrameworkRecord fw = new FrameworkRecord(fid, fi, FrameworkRecord.State.RECOVERED);
                fw.registeredAt = clock.millis();
                fw.disconnectedAt = clock.millis();
                frameworks.add(fw);
                allocator.updateFramework(fid, fw.roles(), false);
                loop.schedule(failoverTag(fid), Duration.ofMillis((long) (fi.getFailoverTimeout() * 1000)),
                        () -> failoverExpired(fid));
                LOG.info("Recovered framework {} ({}) from agent {}; waiting {}s for its scheduler", fid, fi.getName(), id,
                        fi.getFailoverTimeout());
            }
        }

        // Rebuild the agent's tasks from its report: it is the source of truth for what runs there.
        for (Map<TaskId, TaskRecord> byId : agent.tasks.values()) {
            for (TaskRecord task : byId.values()) {
                recoverTaskResources(task);
            }
        }
        // The allocator forgets the agent (nothing of it is allocated any more) and learns it
        // afresh below, with its reported total and tasks.
        if (allocator.hasAgent(id)) {
            allocator.removeAgent(id);
        }
        Map<FrameworkId, Map<TaskId, Task>> reportedTasks = new HashMap<>();
        for (Task t : rr.getTasksList()) {
            if (t.getFrameworkId().getValue().isEmpty() || t.getTaskId().getValue().isEmpty()) {
                continue;
            }
            reportedTasks.computeIfAbsent(FrameworkId.of(t.getFrameworkId()), f -> new HashMap<>())
                    .put(TaskId.of(t.getTaskId()), t);
        }
        Set<FrameworkId> shutDown = new HashSet<>();
        for (TaskRecord task : allTasks(agent)) {
            Task t = reportedTasks.getOrDefault(task.framework, Map.of()).get(task.id);
            if (t == null) {
                FrameworkRecord fw = frameworks.get(task.framework);
                if (fw != null && !task.terminal()) {
                    TaskState state = task.state == TaskState.TASK_STAGING ? TaskState.TASK_DROPPED : TaskState.TASK_GONE;
                    sendUpdate(fw, masterStatus(task.id.value(), id.value(), forFramework(fw, state),
                            StatusReason.REASON_AGENT_RESTARTED,
                            "agent " + id + " re-registered without task " + task.id));
                    task.state = forFramework(fw, state);
                }
                completeTask(task);
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
                boolean toldLost = task != null && task.state == TaskState.TASK_UNREACHABLE && !fw.partitionAware();
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
                    sendKill(agent, task, StatusReason.REASON_AGENT_DISCONNECTED);
                } else if (task.killRequested) {
                    sendKill(agent, task, StatusReason.REASON_KILLED_BY_FRAMEWORK);
                } else if (wasUnreachable) {
                    sendUpdate(fw, reconciliationStatus(fw, task, "agent " + id + " is reachable again"));
                }
            }
        }
        if (!agent.total.contains(agent.used)) {
            LOG.warn("Agent {} reports tasks using {} but only has {}", id, agent.used, agent.total);
        }
        addToAllocator(agent);
        for (FrameworkId fid : shutDown) {
            sendToAgent(agent, MasterMessage.newBuilder()
                    .setType(MasterMessage.Type.SHUTDOWN_FRAMEWORK)
                    .setShutdownFramework(MasterMessage.ShutdownFramework.newBuilder().setFrameworkId(fid.toProto())));
            LOG.info("Told agent {} to shut down removed framework {}", id, fid);
        }
        LOG.info("Re-registered agent {} at {} ({}) with {} tasks{}", id, info.getHostname(), conn.peer,
                rr.getTasksCount(), wasUnreachable ? " after being unreachable" : "");
        requestAllocation();
    }

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
        Resources reportedDynamic = reported.filter(MasterCore::isDynamic);
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

    /**
     * Sends the agent its full set of dynamic reservations to checkpoint (a replacement, not a
     * delta). Sent after every RESERVE/UNRESERVE and before the RUN_TASKs of the same ACCEPT, so
     * that tasks on new reservations reach an agent that has them.
     */
    private void checkpointReservations(AgentRecord agent) {
        sendToAgent(agent, MasterMessage.newBuilder()
                .setType(MasterMessage.Type.CHECKPOINT_RESOURCES)
                .setCheckpointResources(MasterMessage.CheckpointResources.newBuilder()
                        .addAllResources(agent.dynamicReservations.toProto())));
        LOG.info("Sent agent {} its dynamic reservations to checkpoint: {}", agent.id, agent.dynamicReservations);
    }

    private void attach(AgentRecord agent, AgentConnection conn) {
        agent.connection = conn;
        agent.awaitingPong = false;
        agent.missedPings = 0;
        conn.agent = agent.id;
        conn.out.send(withEpoch(MasterMessage.newBuilder()
                .setType(MasterMessage.Type.REGISTERED)
                .setRegistered(MasterMessage.Registered.newBuilder()
                        .setAgentId(agent.id.toProto())
                        .setMasterInfo(masterInfo)
                        .setPingIntervalSeconds(config.agentPingInterval().toMillis() / 1000.0)
                        .setMaxPingTimeouts(config.maxAgentPingTimeouts()))));
    }

    private static String agentInfoError(AgentInfo info) {
        if (info.getHostname().isBlank()) {
            return "agent_info.hostname is empty";
        }
        String error = ResourceValidation.validate(info.getResourcesList());
        return error == null ? null : "agent_info.resources: " + error;
    }

    private void rejectAgent(AgentConnection conn, String message) {
        LOG.warn("Refused {}: {}", conn, message);
        conn.out.send(withEpoch(MasterMessage.newBuilder()
                .setType(MasterMessage.Type.ERROR)
                .setShutdown(MasterMessage.Shutdown.newBuilder().setMessage(message))));
        conn.out.complete();
    }

    private void pong(AgentConnection conn, AgentMessage.Pong pong) {
        AgentRecord agent = conn.agent == null ? null : agents.get(conn.agent);
        if (agent == null || agent.connection != conn) {
            return;
        }
        if (pong.getSequence() == agent.pingSequence) {
            agent.awaitingPong = false;
            agent.missedPings = 0;
        }
    }

    private void statusUpdate(AgentConnection conn, StatusUpdate update) {
        AgentRecord agent = conn.agent == null ? null : agents.get(conn.agent);
        if (agent == null || agent.connection != conn) {
            rejectAgent(conn, "STATUS_UPDATE before REGISTER");
            return;
        }
        TaskStatus status = update.getStatus();
        String error = null;
        if (update.getFrameworkId().getValue().isEmpty()) {
            error = "status update has no framework_id";
        } else if (!IdValidation.isValid(status.getTaskId().getValue())) {
            error = "status update has an invalid task_id";
        } else if (status.getState() == TaskState.TASK_STATE_UNSPECIFIED || status.getState() == TaskState.UNRECOGNIZED) {
            error = "status update has no state";
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
        TaskState latest = update.getLatestState() == TaskState.TASK_STATE_UNSPECIFIED ? status.getState()
                : update.getLatestState();
        TaskRecord task = agent.task(fid, tid);
        boolean retry = task != null && task.latestStatus.getUuid().equals(status.getUuid());
        if (task != null) {
            task.latestStatus = status;
            task.state = latest;
            if (TaskStates.isTerminal(latest) && !task.resourcesRecovered) {
                recoverTaskResources(task);
                requestAllocation();
            }
        }
        if (retry) {
            LOG.debug("Status update {} of task {} resent by agent {}", status.getState(), tid, agent.id);
        } else {
            LOG.info("Task {} of framework {} on agent {} is {}{}{}", tid, fid, agent.id, status.getState(),
                    status.getReason() == StatusReason.REASON_UNSPECIFIED ? "" : " (" + status.getReason() + ")",
                    status.getMessage().isEmpty() ? "" : ": " + status.getMessage());
        }
        FrameworkRecord fw = frameworks.get(fid);
        if (fw == null) {
            if (frameworks.isRemoved(fid)) {
                sendToAgent(agent, MasterMessage.newBuilder()
                        .setType(MasterMessage.Type.SHUTDOWN_FRAMEWORK)
                        .setShutdownFramework(MasterMessage.ShutdownFramework.newBuilder().setFrameworkId(fid.toProto())));
            } else {
                LOG.debug("Held update of task {}: framework {} is unknown", tid, fid);
            }
            return;
        }
        if (fw.connection == null) {
            LOG.debug("Held update of task {}: framework {} is disconnected; the agent resends it", tid, fid);
            return;
        }
        sendUpdate(fw, status);
    }

    // ------------------------------------------------------------------------------------------
    // Timers
    // ------------------------------------------------------------------------------------------

    private void scheduleAllocation() {
        loop.schedule(TIMER_ALLOCATION, config.allocationInterval(), () -> {
            allocate();
            scheduleAllocation();
        });
    }

    /**
     * Asks for an allocation cycle once the loop has nothing else to do: any number of requests
     * before it runs make one cycle (a re-registration storm after a failover makes one cycle, not
     * one per agent).
     */
    void requestAllocation() {
        loop.whenIdle(TIMER_ALLOCATION_NOW, this::allocate);
    }

    private void scheduleHeartbeat() {
        loop.schedule(TIMER_HEARTBEAT, config.frameworkHeartbeatInterval(), () -> {
            Event heartbeat = Event.newBuilder().setType(Event.Type.HEARTBEAT).build();
            for (FrameworkRecord fw : acting ? frameworks.all() : List.<FrameworkRecord>of()) {
                sendEvent(fw, heartbeat);
            }
            scheduleHeartbeat();
        });
    }

    private void schedulePing() {
        loop.schedule(TIMER_PING, config.agentPingInterval(), () -> {
            pingAgents();
            schedulePing();
        });
    }

    private void pingAgents() {
        if (!acting) {
            return;
        }
        for (AgentRecord agent : List.copyOf(agents.all())) {
            if (agent.state != AgentRecord.State.REGISTERED && agent.state != AgentRecord.State.DRAINING) {
                continue;
            }
            if (agent.awaitingPong || agent.connection == null) {
                agent.missedPings++;
            }
            if (agent.missedPings >= config.maxAgentPingTimeouts()) {
                MDC.put("agent", agent.id.value());
                markUnreachable(agent, "missed " + agent.missedPings + " pings");
                MDC.remove("agent");
                continue;
            }
            if (agent.connection != null) {
                agent.pingSequence++;
                agent.awaitingPong = true;
                sendToAgent(agent, MasterMessage.newBuilder()
                        .setType(MasterMessage.Type.PING)
                        .setPing(MasterMessage.Ping.newBuilder().setSequence(agent.pingSequence)));
            }
        }
    }

    /** Marks agents unreachable once that is durable (one registry write for all of them). */
    private void markUnreachable(List<AgentRecord> lost, String reason) {
        double now = clock.seconds();
        List<RegistryOp> ops = new ArrayList<>();
        for (AgentRecord agent : lost) {
            agent.markingUnreachable = true;
            ops.add(RegistryRecords.unreachable(agent.info, agent.registeredAt / 1000.0, now));
        }
        persist(ops, lost.size() + " unreachable agents", () -> {
            for (AgentRecord agent : lost) {
                agent.markingUnreachable = false;
                boolean cameBack = agent.connection != null && agent.missedPings < config.maxAgentPingTimeouts();
                boolean stillLost = agent.state == AgentRecord.State.RECOVERED
                        || (agent.state == AgentRecord.State.REGISTERED || agent.state == AgentRecord.State.DRAINING)
                                && !cameBack;
                if (stillLost) {
                    MDC.put("agent", agent.id.value());
                    applyUnreachable(agent, reason, (long) (now * 1000));
                    MDC.remove("agent");
                }
            }
        });
    }

    private void markUnreachable(AgentRecord agent, String reason) {
        if (!agent.markingUnreachable) {
            markUnreachable(List.of(agent), reason);
        }
    }

    private void applyUnreachable(AgentRecord agent, String reason, long at) {
        if (!agents.transition(agent, AgentRecord.State.UNREACHABLE)) {
            return;
        }
        agent.unreachableAt = at;
        if (agent.connection != null) {
            agent.connection.out.fail(Status.UNAVAILABLE.withDescription("agent marked unreachable: " + reason));
            agent.connection = null;
        }
        rescindOffersOn(agent);
        int count = 0;
        for (TaskRecord task : allTasks(agent)) {
            if (task.terminal()) {
                continue;
            }
            count++;
            recoverTaskResources(task);
            task.state = TaskState.TASK_UNREACHABLE;
            FrameworkRecord fw = frameworks.get(task.framework);
            if (fw != null) {
                sendUpdate(fw, masterStatus(task.id.value(), agent.id.value(), forFramework(fw, TaskState.TASK_UNREACHABLE),
                        StatusReason.REASON_AGENT_DISCONNECTED,
                        "agent " + agent.id + " is unreachable: " + reason));
            }
        }
        if (allocator.hasAgent(agent.id)) {
            allocator.removeAgent(agent.id);
        }
        LOG.warn("Marked agent {} at {} unreachable: {}; {} tasks are unreachable", agent.id, agent.info.getHostname(),
                reason, count);
        requestAllocation();
    }

    /**
     * Whether offers still wait for recovered agents: only with quota guarantees, until
     * --recovery_quota_fraction of them are back or --recovery_quota_timeout has passed.
     */
    private boolean recoveryPaused(long now) {
        if (!recoveryPause) {
            return false;
        }
        long missing = agents.all().stream().filter(a -> a.state == AgentRecord.State.RECOVERED).count();
        double back = 1 - missing / (double) recoveredAgentCount;
        if (back >= config.recoveryQuotaFraction() || now - electedAt >= config.recoveryQuotaTimeout().toMillis()) {
            recoveryPause = false;
            loop.cancel(TIMER_RECOVERY_PAUSE);
            LOG.info("Offering again after the failover: {}% of the recovered agents are back",
                    Math.round(back * 100));
            return false;
        }
        return true;
    }

    /**
     * After a failover, agents that did not re-register within --agent_reregister_timeout are
     * unreachable, unless that would be more than --recovery_agent_removal_limit of them: then an
     * operator must look (a network or ZooKeeper problem is likelier than that many dead hosts).
     */
    private void reregisterTimeout() {
        if (!acting) {
            loop.schedule(TIMER_REREGISTER, Duration.ofSeconds(1), this::reregisterTimeout);
            return;
        }
        List<AgentRecord> missing = agents.all().stream()
                .filter(a -> a.state == AgentRecord.State.RECOVERED)
                .toList();
        if (missing.isEmpty()) {
            return;
        }
        double share = recoveredAgentCount == 0 ? 1 : missing.size() / (double) recoveredAgentCount;
        if (share > config.recoveryAgentRemovalLimit()) {
            LOG.error("Not marking {} of {} recovered agents unreachable: more than the --recovery_agent_removal_limit"
                    + " of {}%; check the network and ZooKeeper, then raise the limit or restart the agents",
                    missing.size(), recoveredAgentCount, Math.round(config.recoveryAgentRemovalLimit() * 100));
            loop.schedule(TIMER_REREGISTER, config.agentReregisterTimeout(), this::reregisterTimeout);
            return;
        }
        LOG.warn("{} agents did not re-register within {}s of the failover", missing.size(),
                config.agentReregisterTimeout().toSeconds());
        markUnreachable(missing, "did not re-register within " + config.agentReregisterTimeout().toSeconds()
                + "s after a master failover");
    }

    /**
     * Removes an agent for good (operator request): durable first; then its tasks are gone
     * (TASK_GONE, or TASK_LOST for frameworks that are not PARTITION_AWARE) and, if connected,
     * it is told to shut down. Answers through {@code done} with null or the reason it refused.
     */
    void markGone(AgentId id, java.util.function.Consumer<String> done) {
        AgentRecord agent = agents.get(id);
        if (!acting) {
            done.accept("this master is not acting as leader");
            return;
        }
        if (agent == null) {
            done.accept("agent " + id + " is not known");
            return;
        }
        if (agent.state == AgentRecord.State.GONE) {
            done.accept(null);
            return;
        }
        MDC.put("agent", id.value());
        double now = clock.seconds();
        persist(List.of(RegistryRecords.gone(agent.info, agent.registeredAt / 1000.0, now)), "agent " + id + " gone", () -> {
            MDC.put("agent", id.value());
            agents.transition(agent, AgentRecord.State.GONE);
            rescindOffersOn(agent);
            if (allocator.hasAgent(id)) {
                allocator.removeAgent(id);
            }
            int count = 0;
            for (TaskRecord task : allTasks(agent)) {
                FrameworkRecord fw = frameworks.get(task.framework);
                if (fw != null && !task.terminal()) {
                    count++;
                    sendUpdate(fw, masterStatus(task.id.value(), id.value(), forFramework(fw, TaskState.TASK_GONE),
                            StatusReason.REASON_AGENT_REMOVED, "agent " + id + " was marked gone by an operator"));
                }
                task.state = fw == null ? TaskState.TASK_GONE : forFramework(fw, TaskState.TASK_GONE);
                completeTask(task);
            }
            if (agent.connection != null) {
                agent.connection.out.send(withEpoch(MasterMessage.newBuilder()
                        .setType(MasterMessage.Type.SHUTDOWN)
                        .setShutdown(MasterMessage.Shutdown.newBuilder()
                                .setMessage("agent " + id + " was removed from the cluster"))));
                agent.connection.out.complete();
                agent.connection = null;
            }
            LOG.warn("Marked agent {} at {} gone; {} tasks are gone", id, agent.info.getHostname(), count);
            requestAllocation();
            done.accept(null);
        });
    }

    /**
     * Runs an allocation cycle and sends its offers. The allocator keeps its own incremental state,
     * so the work here is proportional to the offers made, not to the cluster.
     */
    private void allocate() {
        if (!acting) {
            return;
        }
        long now = clock.millis();
        if (recoveryPaused(now)) {
            return;
        }
        long seed = seeds.nextLong();
        allocationCycles++;
        List<Allocation> allocations = allocator.allocate(now, seed);
        LOG.debug("Allocation cycle {} (seed {}): {} offers; {}", allocationCycles, seed, allocations.size(), allocator);
        if (allocations.isEmpty()) {
            return;
        }
        Map<FrameworkId, List<Offer>> byFramework = new LinkedHashMap<>();
        for (Allocation a : allocations) {
            AgentRecord agent = agents.get(a.agent());
            FrameworkRecord fw = frameworks.get(a.framework());
            Resources resources = a.resources();
            OfferRecord offer = new OfferRecord(offers.newId(), fw.id, agent.id, a.role(), resources, now);
            offers.add(offer, agent, fw);
            if (config.offerTimeout() != null) {
                OfferId id = offer.id();
                loop.schedule(offerTimeoutTag(id), config.offerTimeout(), () -> offerTimedOut(id));
            }
            byFramework.computeIfAbsent(fw.id, f -> new ArrayList<>()).add(Offer.newBuilder()
                    .setId(offer.id().toProto())
                    .setFrameworkId(fw.id.toProto())
                    .setAgentId(agent.id.toProto())
                    .setHostname(agent.info.getHostname())
                    .addAllResources(resources.toProto(a.role()))
                    .addAllAttributes(agent.info.getAttributesList())
                    .build());
        }
        byFramework.forEach((id, list) -> {
            FrameworkRecord fw = frameworks.get(id);
            sendEvent(fw, Event.newBuilder().setType(Event.Type.OFFERS)
                    .setOffers(Event.Offers.newBuilder().addAllOffers(list)).build());
            LOG.debug("Sent {} offers to framework {}", list.size(), id);
        });
    }

    private void offerTimedOut(OfferId id) {
        OfferRecord offer = offers.get(id);
        if (offer == null) {
            return;
        }
        LOG.info("Rescinding offer {} to framework {}: not used within the offer timeout", id, offer.framework());
        rescind(offer);
        requestAllocation();
    }

    // ------------------------------------------------------------------------------------------
    // Shared helpers
    // ------------------------------------------------------------------------------------------

    /** Forgets an offer and gives its resources back to the allocator, unfiltered. */
    private void removeOffer(OfferRecord offer) {
        removeOffer(offer, 0);
    }

    /**
     * Forgets an offer and gives its resources back to the allocator, which does not offer them to
     * the same framework role on that agent before {@code refuseUntil} (0: no filter).
     */
    private void removeOffer(OfferRecord offer, long refuseUntil) {
        forgetOffer(offer);
        allocator.recover(offer.agent(), offer.framework(), offer.role(), offer.resources(), refuseUntil);
    }

    /** Forgets an offer whose resources stay allocated (an ACCEPT used them). */
    private void forgetOffer(OfferRecord offer) {
        offers.remove(offer, agents.get(offer.agent()), frameworks.get(offer.framework()));
        if (config.offerTimeout() != null) {
            loop.cancel(offerTimeoutTag(offer.id()));
        }
    }

    /** Withdraws an offer and tells its framework. */
    private void rescind(OfferRecord offer) {
        removeOffer(offer);
        FrameworkRecord fw = frameworks.get(offer.framework());
        if (fw != null) {
            sendEvent(fw, Event.newBuilder()
                    .setType(Event.Type.RESCIND)
                    .setRescind(Event.Rescind.newBuilder().setOfferId(offer.id().toProto()))
                    .build());
        }
    }

    private void rescindOffersOn(AgentRecord agent) {
        for (OfferRecord offer : offers.on(agent.id)) {
            rescind(offer);
        }
    }

    /** Gives back a framework's offers; tells it only when {@code notify}. */
    private void rescindOffersOf(FrameworkRecord fw, boolean notify) {
        for (OfferId id : List.copyOf(fw.offers)) {
            OfferRecord offer = offers.get(id);
            if (offer != null) {
                if (notify) {
                    rescind(offer);
                } else {
                    removeOffer(offer);
                }
            }
        }
    }

    /** Gives a task's resources back, once. */
    private void recoverTaskResources(TaskRecord task) {
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
            if (allocator.hasAgent(task.agent)) {
                allocator.recover(task.agent, fw.id, task.role, task.resources, 0);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Allocator feeding: the allocator mirrors agents (total, offerable), frameworks (roles,
    // connection, suppression) and allocations (offers and live tasks) as they change.
    // ------------------------------------------------------------------------------------------

    /**
     * Marks an agent draining, or back to registered: a draining agent is not offered, its
     * outstanding offers are rescinded, and its free resources no longer count as available (for
     * quota headroom); its tasks keep running. The hook for the drain and maintenance API. Returns
     * false when the agent is unknown or not in a state that can drain. Loop thread.
     */
    boolean setDraining(AgentId id, boolean draining) {
        AgentRecord agent = agents.get(id);
        AgentRecord.State from = draining ? AgentRecord.State.REGISTERED : AgentRecord.State.DRAINING;
        if (agent == null || agent.state != from) {
            return false;
        }
        agents.transition(agent, draining ? AgentRecord.State.DRAINING : AgentRecord.State.REGISTERED);
        rescindOffersOn(agent);
        syncOfferable(agent);
        LOG.info("Agent {} at {} is {}", id, agent.info.getHostname(), draining ? "draining: no more offers" : "offered again");
        requestAllocation();
        return true;
    }

    /** Tells the allocator whether the agent may be offered (registered, connected, not draining). */
    private void syncOfferable(AgentRecord agent) {
        if (allocator.hasAgent(agent.id)) {
            allocator.setOfferable(agent.id, agent.offerable());
        }
    }

    /** Adds a (re-)registered agent to the allocator with the resources its live tasks hold. */
    private void addToAllocator(AgentRecord agent) {
        allocator.addAgent(agent.id, agent.total, agent.offerable());
        for (Map<TaskId, TaskRecord> byId : agent.tasks.values()) {
            for (TaskRecord task : byId.values()) {
                if (!task.resourcesRecovered && frameworks.get(task.framework) != null) {
                    allocator.addAllocation(agent.id, task.framework, task.role, task.resources);
                }
            }
        }
    }

    /** Forgets a task (its terminal update was acknowledged, or it is gone) and keeps it as completed. */
    private void completeTask(TaskRecord task) {
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

    private static List<TaskRecord> allTasks(AgentRecord agent) {
        List<TaskRecord> all = new ArrayList<>();
        agent.tasks.values().forEach(m -> all.addAll(m.values()));
        return all;
    }

    /** Frameworks that are not PARTITION_AWARE hear TASK_LOST for the partition-aware states. */
    private static TaskState forFramework(FrameworkRecord fw, TaskState state) {
        if (fw.partitionAware()) {
            return state;
        }
        return switch (state) {
            case TASK_UNREACHABLE, TASK_DROPPED, TASK_GONE, TASK_UNKNOWN -> TaskState.TASK_LOST;
            default -> state;
        };
    }

    private TaskStatus masterStatus(String taskId, String agentId, TaskState state, StatusReason reason, String message) {
        TaskStatus.Builder s = TaskStatus.newBuilder()
                .setTaskId(io.mezzo.proto.v1.TaskID.newBuilder().setValue(taskId))
                .setState(state)
                .setReason(reason)
                .setMessage(message)
                .setSource(StatusSource.SOURCE_MASTER)
                .setTimestamp(clock.seconds());
        if (!agentId.isEmpty()) {
            s.setAgentId(io.mezzo.proto.v1.AgentID.newBuilder().setValue(agentId));
        }
        if (!taskId.isEmpty()) {
            s.setExecutorId(ExecutorID.newBuilder().setValue(taskId));
        }
        return s.build();
    }

    /** The task's latest state as an unacknowledged master update, for reconciliation. */
    private TaskStatus reconciliationStatus(FrameworkRecord fw, TaskRecord task, String message) {
        TaskStatus.Builder s = task.latestStatus.toBuilder()
                .setTaskId(task.id.toProto())
                .setAgentId(task.agent.toProto())
                .setState(forFramework(fw, task.state))
                .setReason(StatusReason.REASON_RECONCILIATION)
                .setMessage(message)
                .setSource(StatusSource.SOURCE_MASTER)
                .setTimestamp(clock.seconds())
                .setUuid(ByteString.EMPTY);
        return s.build();
    }

    private void sendUpdate(FrameworkRecord fw, TaskStatus status) {
        sendEvent(fw, Event.newBuilder().setType(Event.Type.UPDATE).setUpdate(Event.Update.newBuilder().setStatus(status))
                .build());
    }

    private void sendEvent(FrameworkRecord fw, Event event) {
        if (fw != null && fw.connection != null) {
            fw.connection.out.send(event);
        }
    }

    private void sendToAgent(AgentRecord agent, MasterMessage.Builder message) {
        if (agent.connection != null) {
            agent.connection.out.send(withEpoch(message));
        }
    }

    private MasterMessage withEpoch(MasterMessage.Builder message) {
        return message.setEpoch(masterInfo.getEpoch()).build();
    }

    private static String failoverTag(FrameworkId id) {
        return "framework-failover/" + id;
    }

    private static String offerTimeoutTag(OfferId id) {
        return "offer-timeout/" + id;
    }

    /** Called when a scheduler's outbound queue overflowed: it is dropped like a disconnection. */
    void onSchedulerDropped(SchedulerConnection conn, String reason) {
        LOG.warn("Dropped {}: {}", conn, reason);
        onSchedulerClosed(conn, "dropped: " + reason);
    }

    /** Called when an agent's outbound queue overflowed. */
    void onAgentDropped(AgentConnection conn, String reason) {
        LOG.warn("Dropped {}: {}", conn, reason);
        onAgentClosed(conn, "dropped: " + reason);
    }

    // ------------------------------------------------------------------------------------------
    // Operator views (built on the loop, returned to gRPC threads as immutable messages)
    // ------------------------------------------------------------------------------------------

    GetStateResponse state() {
        GetStateResponse.Builder b = GetStateResponse.newBuilder().setMasterInfo(masterInfo);
        Resources total = Resources.EMPTY;
        Resources used = Resources.EMPTY;
        Resources offered = Resources.EMPTY;
        for (AgentRecord agent : agents.all()) {
            b.addAgents(agentView(agent));
            if (agent.state == AgentRecord.State.REGISTERED || agent.state == AgentRecord.State.DRAINING) {
                // Cluster sums are scalar: port ranges of different hosts do not add up as sets.
                total = total.plus(agent.total.scalarsOnly());
                used = used.plus(agent.used.scalarsOnly());
                offered = offered.plus(agent.offered.scalarsOnly());
            }
        }
        frameworks.all().forEach(fw -> b.addFrameworks(frameworkView(fw)));
        b.addAllTasks(tasks(null));
        b.addAllCompletedTasks(completedTasks);
        offers.all().forEach(o -> b.addOffers(Offer.newBuilder()
                .setId(o.id().toProto())
                .setFrameworkId(o.framework().toProto())
                .setAgentId(o.agent().toProto())
                .setHostname(agents.get(o.agent()).info.getHostname())
                .addAllResources(o.resources().toProto(o.role()))));
        return b.addAllTotalResources(total.toProto())
                .addAllUsedResources(used.toProto())
                .addAllOfferedResources(offered.toProto())
                .build();
    }

    // ------------------------------------------------------------------------------------------
    // Role settings (operator API): write, persist, apply, reply
    // ------------------------------------------------------------------------------------------

    /**
     * Uses {@code store} for weights and quotas from now on and puts {@code recovered} (read back
     * from it by a new leader) in force. For high availability; loop thread.
     */
    void recoverRoleConfig(RoleConfigStore store, RoleConfig recovered) {
        roleConfigStore = store;
        roleConfigHead = recovered;
        allocator.setRoleConfig(recovered);
        LOG.info("Recovered role settings: weights {}, quotas {}", recovered.weights(), recovered.quotas());
        requestAllocation();
    }

    /** UpdateWeights: completes once the weights are in force, or fails with INVALID_ARGUMENT. */
    CompletableFuture<Void> updateWeights(UpdateWeightsRequest request) {
        return updateRoleConfig("UpdateWeights", RoleConfigValidation.withWeights(roleConfigHead, request.getWeightsList()));
    }

    /** UpdateQuota: completes once the quotas are in force, or fails with INVALID_ARGUMENT. */
    CompletableFuture<Void> updateQuota(UpdateQuotaRequest request) {
        return updateRoleConfig("UpdateQuota",
                RoleConfigValidation.withQuotas(roleConfigHead, request.getQuotasList(), allocator.scalarNames()));
    }

    /** The new config was computed and validated as a whole; persist it, then apply it, then answer. */
    private CompletableFuture<Void> updateRoleConfig(String call, RoleConfigValidation.Outcome outcome) {
        if (!acting) {
            return CompletableFuture.failedFuture(
                    Status.UNAVAILABLE.withDescription("this master is not acting as leader").asRuntimeException());
        }
        if (outcome.error() != null) {
            LOG.info("Refused {}: {}", call, outcome.error());
            return CompletableFuture.failedFuture(Status.INVALID_ARGUMENT.withDescription(outcome.error()).asRuntimeException());
        }
        RoleConfig next = outcome.config();
        roleConfigHead = next;
        CompletableFuture<Void> applied = new CompletableFuture<>();
        roleConfigStore.write(next).whenComplete((ok, error) -> loop.append(() -> {
            if (error != null) {
                roleConfigHead = allocator.roleConfig();
                LOG.warn("Dropped {}: the role settings could not be persisted: {}", call, error.toString());
                Throwable cause = error instanceof java.util.concurrent.CompletionException ? error.getCause() : error;
                if (cause instanceof io.mezzo.ha.registry.RegistryException && !stopped) {
                    // The registry refused a write: this master can no longer trust its leadership.
                    stepDown.accept("registry write of role settings failed: " + cause.getMessage());
                }
                applied.completeExceptionally(Status.UNAVAILABLE
                        .withDescription("the role settings could not be persisted: " + error).asRuntimeException());
                return;
            }
            allocator.setRoleConfig(next);
            LOG.info("Applied {}: weights {}, quotas {}", call, next.weights(), next.quotas());
            requestAllocation();
            applied.complete(null);
        }));
        return applied;
    }

    /** Every role the allocator knows, with what its subtree holds and has on offer. */
    GetRolesResponse roles() {
        Map<String, Resources> offeredByRole = new HashMap<>();
        for (FrameworkRecord fw : frameworks.all()) {
            fw.offered.forEach((role, r) -> {
                for (String at = role; at != null; at = at.contains("/") ? at.substring(0, at.lastIndexOf('/')) : null) {
                    offeredByRole.merge(at, r.scalarsOnly(), Resources::plus);
                }
            });
        }
        GetRolesResponse.Builder b = GetRolesResponse.newBuilder();
        for (RoleSummary s : allocator.roles()) {
            b.addRoles(RoleView.newBuilder()
                    .setRole(s.role())
                    .setWeight(s.weight())
                    .setQuota(quotaConfig(s.role(), s.quota()))
                    .addAllAllocated(s.allocated().toProto())
                    .addAllOffered(offeredByRole.getOrDefault(s.role(), Resources.EMPTY).toProto())
                    .addAllReserved(s.reserved().toProto())
                    .addAllConsumedQuota(s.consumedQuota().toProto())
                    .addAllFrameworks(s.frameworks().stream().map(FrameworkId::toProto).toList())
                    .setShare(s.share()));
        }
        return b.build();
    }

    private static QuotaConfig quotaConfig(String role, Quota quota) {
        QuotaConfig.Builder q = QuotaConfig.newBuilder().setRole(role);
        new TreeMap<>(quota.guarantees()).forEach((n, v) -> q.putGuarantees(n, Value.Scalar.newBuilder().setMilli(v).build()));
        new TreeMap<>(quota.limits()).forEach((n, v) -> q.putLimits(n, Value.Scalar.newBuilder().setMilli(v).build()));
        return q.build();
    }

    List<AgentView> agentViews() {
        return agents.all().stream().map(this::agentView).toList();
    }

    List<FrameworkView> frameworkViews() {
        return frameworks.all().stream().map(this::frameworkView).toList();
    }

    List<Task> tasks(FrameworkId only) {
        List<Task> out = new ArrayList<>();
        for (FrameworkRecord fw : frameworks.all()) {
            if (only == null || only.equals(fw.id)) {
                fw.tasks.values().forEach(t -> out.add(t.toProto()));
            }
        }
        return out;
    }

    /**
     * Where an agent's own gRPC server listens: the address its stream comes from, and the port
     * it advertises. Empty when the agent is unknown or not connected.
     */
    java.util.Optional<String> agentEndpoint(AgentId id) {
        AgentRecord agent = agents.get(id);
        if (agent == null || agent.connection == null || agent.info.getPort() <= 0) {
            return java.util.Optional.empty();
        }
        String peer = agent.connection.peer;
        String host = peer.contains(":") ? peer.substring(0, peer.lastIndexOf(':')) : peer;
        return java.util.Optional.of(host + ":" + agent.info.getPort());
    }

    List<Task> completedTasks(FrameworkId only) {
        return completedTasks.stream()
                .filter(t -> only == null || t.getFrameworkId().getValue().equals(only.value()))
                .toList();
    }

    private AgentView agentView(AgentRecord agent) {
        AgentView.Builder v = AgentView.newBuilder()
                .setAgentInfo(agent.info.toBuilder().setId(agent.id.toProto()))
                .setState(switch (agent.state) {
                    case RECOVERED -> AgentView.State.RECOVERED;
                    case REGISTERED -> AgentView.State.REGISTERED;
                    case DRAINING -> AgentView.State.DRAINING;
                    case UNREACHABLE -> AgentView.State.UNREACHABLE;
                    case GONE -> AgentView.State.GONE;
                })
                .addAllTotalResources(agent.total.toProto())
                .addAllUsedResources(agent.used.toProto())
                .addAllOfferedResources(agent.offered.toProto())
                .setRegisteredTime(agent.registeredAt / 1000.0);
        if (agent.state == AgentRecord.State.UNREACHABLE) {
            v.setUnreachableTime(agent.unreachableAt / 1000.0);
        }
        return v.build();
    }

    private FrameworkView frameworkView(FrameworkRecord fw) {
        FrameworkView.Builder v = FrameworkView.newBuilder()
                .setFrameworkInfo(fw.info)
                .setState(switch (fw.state) {
                    case CONNECTED -> FrameworkView.State.CONNECTED;
                    case DISCONNECTED -> FrameworkView.State.DISCONNECTED;
                    case RECOVERED -> FrameworkView.State.RECOVERED;
                    case REMOVED -> FrameworkView.State.REMOVED;
                })
                .addAllUsedResources(fw.totalUsed().toProto())
                .addAllOfferedResources(fw.totalOffered().toProto())
                .setActiveTasks((int) fw.tasks.values().stream().filter(t -> !t.terminal()).count())
                .setRegisteredTime(fw.registeredAt / 1000.0)
                .setSuppressed(!fw.suppressedRoles.isEmpty() && fw.suppressedRoles.containsAll(fw.roles()));
        if (fw.state != FrameworkRecord.State.CONNECTED) {
            v.setDisconnectedTime(fw.disconnectedAt / 1000.0);
        }
        return v.build();
    }
}
