package io.mezzo.master;

import io.grpc.Status;
import io.mezzo.common.clock.Clock;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.loop.FaultHandler;
import io.mezzo.ha.registry.RegistryOp;
import io.mezzo.master.auth.Action;
import io.mezzo.master.auth.AuthContext;
import io.mezzo.master.validation.FrameworkValidation;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.RegistryFramework;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Frameworks in the master: their records and lifecycle, SUBSCRIBE (new, resubscription,
 * failover to another stream), disconnection and the failover timeout that follows, TEARDOWN and
 * removal, heartbeats, and the ids of removed frameworks (so that a removed framework cannot come
 * back).
 *
 * <pre>
 *  SUBSCRIBE --validate--> registry write (new, changed, or back from away) --> CONNECTED, SUBSCRIBED
 *  stream closes --> DISCONNECTED, registry write --> "framework-failover/&lt;id&gt;" timer
 *     SUBSCRIBE before it fires --> CONNECTED again
 *     timer fires, TEARDOWN, or failover_timeout 0 --> tombstone written --> REMOVED:
 *         offers back, tasks killed and completed, SHUTDOWN_FRAMEWORK to their agents
 * </pre>
 *
 * <p>Owner: {@link MasterCore}. Calls {@link OfferManager} and {@link TaskLifecycle} (a removal
 * gives offers back and kills tasks); is looked up by them through {@link FrameworkLookup}. Thread: the master's event loop
 * only. An illegal lifecycle transition is a broken invariant and goes to the fault handler (the
 * transition is not made).
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>A framework's state follows {@link FrameworkRecord.State#next()}; {@code connection !=
 *       null} exactly while it is CONNECTED (see {@link FrameworkRecord}).
 *   <li>Registration, disconnection and removal are durable before they take effect: a new leader
 *       finds every framework with its failover deadline, and never lets a removed id back in.
 *   <li>A disconnected framework has a pending failover timer while this master acts.
 *   <li>At most {@link #MAX_REMOVED} removed ids are remembered; the registry forgets the oldest
 *       tombstone in the same write that adds a new one.
 *   <li>A removal is final: once a framework's tombstone is being written ({@code removing}) or
 *       written, nothing writes that framework as active again (every active record goes through
 *       {@link #activeRecord}, which refuses). The registry commits writes in submission order, so
 *       the tombstone is the last record of the framework, whatever raced with the removal (its
 *       stream closing, a SUBSCRIBE with its id, a suspension) and across any number of failovers.
 * </ol>
 *
 * <p>State: {@code frameworks} (hard: {@code registry/frameworks/<id>} holds the info with the
 * failover timeout and the registration and disconnection times; connections, offers, suppression
 * and tasks in each record are soft) and {@code removed} ids (hard: registry tombstones).
 */
final class FrameworkManager implements FrameworkLookup {

    private static final Logger LOG = LoggerFactory.getLogger(FrameworkManager.class);

    /** How many removed framework ids are remembered. */
    static final int MAX_REMOVED = 1_000;

    static final String TIMER_HEARTBEAT = "framework-heartbeat";

    private final MasterConfig config;
    private final EventLoop loop;
    private final Clock clock;
    private final FaultHandler faults;
    private final LeaderTerm term;
    private final Outbox out;
    private final OfferManager offers;
    private final TaskLifecycle tasks;
    /** Known frameworks, in subscription order. Hard (registry), with soft parts (see the record). */
    private final Map<FrameworkId, FrameworkRecord> frameworks = new LinkedHashMap<>();
    /** Removed framework ids, oldest first, at most MAX_REMOVED. Hard (registry tombstones). */
    private final Set<FrameworkId> removed = new LinkedHashSet<>();
    private final String prefix;
    private long nextId = 1;
    /** Told when a framework's stream is subscribed, and when it has none any more (disconnected, removed). */
    private Consumer<FrameworkRecord> onSubscribed = fw -> {};
    private Consumer<FrameworkId> onDetached = id -> {};

    FrameworkManager(MasterConfig config, EventLoop loop, String idPrefix, LeaderTerm term, Outbox out,
            OfferManager offers, TaskLifecycle tasks) {
        this.config = config;
        this.loop = loop;
        this.clock = config.clock();
        this.faults = config.faultHandler();
        this.prefix = idPrefix;
        this.term = term;
        this.out = out;
        this.offers = offers;
        this.tasks = tasks;
    }

    // ------------------------------------------------------------------------------------------
    // Records and lifecycle
    // ------------------------------------------------------------------------------------------

    /** Hooks for managers that keep per-stream state (the drain manager's maintenance notices). */
    void onStreams(Consumer<FrameworkRecord> subscribed, Consumer<FrameworkId> detached) {
        this.onSubscribed = subscribed;
        this.onDetached = detached;
    }

    FrameworkId newId() {
        FrameworkId id;
        do {
            id = FrameworkId.of(String.format("%s-%04d", prefix, nextId++));
        } while (frameworks.containsKey(id) || removed.contains(id));
        return id;
    }

    @Override
    public FrameworkRecord get(FrameworkId id) {
        return frameworks.get(id);
    }

    void add(FrameworkRecord framework) {
        frameworks.put(framework.id, framework);
    }

    @Override
    public Collection<FrameworkRecord> all() {
        return frameworks.values();
    }

    @Override
    public boolean isRemoved(FrameworkId id) {
        return removed.contains(id);
    }

    /**
     * The oldest removed id, forgotten now, if remembering one more would pass the bound; its
     * registry tombstone should go in the same write. Null otherwise.
     */
    private FrameworkId oldestRemovedIfFull() {
        if (removed.size() < MAX_REMOVED) {
            return null;
        }
        FrameworkId oldest = removed.iterator().next();
        removed.remove(oldest);
        return oldest;
    }

    /** Forgets a framework and remembers that its id is removed. */
    private void remove(FrameworkRecord framework) {
        transition(framework, FrameworkRecord.State.REMOVED);
        frameworks.remove(framework.id);
        removed.add(framework.id);
        if (removed.size() > MAX_REMOVED) {
            removed.remove(removed.iterator().next());
        }
    }

    /** Moves {@code framework} to {@code next}; returns false (and reports a fault) if not allowed. */
    boolean transition(FrameworkRecord framework, FrameworkRecord.State next) {
        if (!framework.state.next().contains(next)) {
            faults.handleFault(
                    "illegal framework transition " + framework.state + " -> " + next + " for " + framework.id, null);
            return false;
        }
        framework.state = next;
        return true;
    }

    // ------------------------------------------------------------------------------------------
    // Leadership: recovery, suspension, stop
    // ------------------------------------------------------------------------------------------

    /**
     * Rebuilds the frameworks read from the registry, with their failover timeouts counted from
     * their original disconnection. Returns the registry fixes to write: a framework connected to
     * the old leader lost its connection with it, now.
     */
    List<RegistryOp> recover(List<RegistryFramework> recovered) {
        List<RegistryOp> fixes = new ArrayList<>();
        // Tombstones oldest first, so that the bound forgets the oldest removals (invariant 4).
        recovered.stream()
                .filter(f -> f.getState() == RegistryFramework.State.REMOVED)
                .sorted(java.util.Comparator.comparingDouble(RegistryFramework::getRemovedTime))
                .forEach(f -> removed.add(FrameworkId.of(f.getInfo().getId())));
        for (RegistryFramework f : recovered) {
            FrameworkId id = FrameworkId.of(f.getInfo().getId());
            if (f.getState() == RegistryFramework.State.REMOVED || removed.contains(id)) {
                continue;
            }
            FrameworkRecord fw = new FrameworkRecord(id, f.getInfo(), FrameworkRecord.State.RECOVERED);
            fw.registeredAt = (long) (f.getRegisteredTime() * 1000);
            // A framework connected to the old leader lost its connection with it: now.
            fw.disconnectedAt = f.getDisconnectedTime() > 0 ? (long) (f.getDisconnectedTime() * 1000) : term.electedAt();
            if (f.getDisconnectedTime() <= 0) {
                fixes.addAll(activeRecord(fw, fw.disconnectedAt));
            }
            add(fw);
            // Known to the allocator (inactive) so that its tasks count against its share.
            offers.frameworkConnected(fw, false);
            armFailoverTimer(fw);
        }
        return fixes;
    }

    /**
     * After a suspension: schedulers were cut off by it, so their failover timeouts count from it.
     * Returns the disconnection times to write.
     */
    List<RegistryOp> rearmAfterSuspension() {
        List<RegistryOp> ops = new ArrayList<>();
        for (FrameworkRecord fw : frameworks.values()) {
            // A framework being removed stays removed (invariant 5): its removal applies once durable.
            if (fw.connection == null && !fw.removing && !loop.isScheduled(failoverTag(fw.id))) {
                if (fw.disconnectedAt == 0) {
                    fw.disconnectedAt = term.suspendedAt();
                }
                ops.addAll(activeRecord(fw, fw.disconnectedAt));
                armFailoverTimer(fw);
            }
        }
        return ops;
    }

    /**
     * The registry record of an active framework, disconnected at {@code disconnectedAt} (clock
     * millis; 0 while connected). Empty, and a broken invariant, for a framework whose removal is
     * being written or was written (invariant 5): callers check first.
     */
    private List<RegistryOp> activeRecord(FrameworkRecord fw, long disconnectedAt) {
        if (fw.removing || removed.contains(fw.id)) {
            faults.handleFault("framework " + fw.id + " is removed; its active record is not written again", null);
            return List.of();
        }
        return List.of(RegistryRecords.active(fw.info, fw.registeredAt / 1000.0, disconnectedAt / 1000.0));
    }

    /** Closes every scheduler stream with {@code status} (leadership paused or lost); offers go back. */
    void closeStreams(Status status) {
        for (FrameworkRecord fw : frameworks.values()) {
            offers.rescindOffersOf(fw, false);
            if (fw.connection != null) {
                tasks.dropHeldAnswers(fw);
                fw.connection.out.fail(status);
                fw.connection = null;
                if (fw.state == FrameworkRecord.State.CONNECTED) {
                    transition(fw, FrameworkRecord.State.DISCONNECTED);
                }
                offers.frameworkConnected(fw, false);
            }
        }
    }

    /** Starts the periodic HEARTBEAT to every connected scheduler. */
    void startHeartbeats() {
        loop.schedule(TIMER_HEARTBEAT, config.frameworkHeartbeatInterval(), () -> {
            Event heartbeat = Event.newBuilder().setType(Event.Type.HEARTBEAT).build();
            for (FrameworkRecord fw : term.acting() ? frameworks.values() : List.<FrameworkRecord>of()) {
                out.sendEvent(fw, heartbeat);
            }
            startHeartbeats();
        });
    }

    /** Cancels the heartbeat and every failover timer (leadership ends). */
    void cancelTimers() {
        loop.cancel(TIMER_HEARTBEAT);
        for (FrameworkRecord fw : frameworks.values()) {
            loop.cancel(failoverTag(fw.id));
        }
    }

    // ------------------------------------------------------------------------------------------
    // Subscription
    // ------------------------------------------------------------------------------------------

    /** SUBSCRIBE: validated, made durable (when new or changed), then answered SUBSCRIBED. */
    void subscribe(SchedulerConnection conn, Call call) {
        if (conn.framework != null) {
            FrameworkRecord fw = frameworks.get(conn.framework);
            if (fw != null && fw.connection == conn) {
                out.refuse(fw, call.getType(), Event.Error.Code.INVALID_CALL, "this stream is already subscribed as " + fw.id);
            }
            return;
        }
        if (!call.hasSubscribe()) {
            out.rejectStream(conn, call.getType(), "SUBSCRIBE call has no subscribe body");
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
            out.rejectStream(conn, call.getType(), "invalid SUBSCRIBE: " + error);
            return;
        }
        if (conn.subscribing) {
            out.rejectStream(conn, call.getType(), "SUBSCRIBE sent twice on one stream");
            return;
        }
        // Who the framework is: its authenticated principal, else the one it declares (no
        // authentication). It may not declare another one than it authenticated as.
        if (conn.principal != null && !info.getPrincipal().isEmpty() && !info.getPrincipal().equals(conn.principal)) {
            out.denyStream(conn, call.getType(), "framework_info.principal '" + info.getPrincipal()
                    + "' is not the authenticated principal '" + conn.principal + "'");
            return;
        }
        String principal = conn.principal != null ? conn.principal : info.getPrincipal();
        if (!principal.equals(info.getPrincipal())) {
            info = info.toBuilder().setPrincipal(principal).build();
        }
        for (String role : info.getRolesCount() == 0 ? List.of("*") : info.getRolesList()) {
            String denied = config.acls().deny(Action.REGISTER_FRAMEWORKS, principal.isEmpty() ? null : principal, role);
            if (denied != null) {
                out.denyStream(conn, call.getType(), denied);
                return;
            }
        }
        double now = clock.seconds();
        FrameworkId id;
        FrameworkInfo stored;
        double registeredTime = now;
        boolean needsWrite;
        if (info.hasId() && !info.getId().getValue().isEmpty()) {
            id = FrameworkId.of(info.getId());
            MDC.put("framework", id.value());
            if (removed.contains(id)) {
                LOG.info("Refused resubscription of removed framework {} from {}", id, conn.peer);
                conn.out.send(Outbox.errorEvent(Event.Error.Code.FRAMEWORK_REMOVED, call.getType(),
                        "framework " + id + " was removed; subscribe without an id to start afresh"));
                conn.out.complete();
                return;
            }
            FrameworkRecord known = frameworks.get(id);
            // A framework id belongs to the principal that registered it: never a takeover. An id
            // registered anonymously may be claimed once authentication is turned on.
            if (known != null && !known.info.getPrincipal().isEmpty() && !known.info.getPrincipal().equals(principal)) {
                out.denyStream(conn, call.getType(), AuthContext.describe(principal) + " may not subscribe as framework "
                        + id + ", which belongs to " + AuthContext.describe(known.info.getPrincipal()));
                return;
            }
            if (known != null && known.removing) {
                // Its tombstone is being written (invariant 5): never written as active again.
                LOG.info("Refused resubscription of framework {} from {}: it is being removed", id, conn.peer);
                conn.out.send(Outbox.errorEvent(Event.Error.Code.FRAMEWORK_REMOVED, call.getType(),
                        "framework " + id + " is being removed; subscribe without an id to start afresh"));
                conn.out.complete();
                return;
            }
            stored = info;
            if (known != null) {
                registeredTime = known.registeredAt / 1000.0;
            }
            // Persist what a new leader needs: a changed info, or that it is connected again.
            needsWrite = known == null || !known.info.equals(info) || known.disconnectedAt != 0;
        } else {
            id = newId();
            MDC.put("framework", id.value());
            stored = info.toBuilder().setId(id.toProto()).build();
            needsWrite = true;
        }
        conn.subscribing = true;
        FrameworkInfo finalInfo = stored;
        double finalRegistered = registeredTime;
        boolean isNew = !info.hasId() || info.getId().getValue().isEmpty();
        // Written directly, not through activeRecord: the new info is not the record's yet. The id
        // is neither removed nor being removed (checked above).
        term.persist(needsWrite ? List.of(RegistryRecords.active(stored, registeredTime, 0)) : List.of(),
                "framework " + id, () -> completeSubscribe(conn, call, id, finalInfo, finalRegistered, isNew),
                reason -> {
                    conn.subscribing = false;
                    out.rejectStream(conn, call.getType(), "framework " + id + " cannot be stored: " + reason);
                });
    }

    private void completeSubscribe(SchedulerConnection conn, Call call, FrameworkId id, FrameworkInfo info,
            double registeredTime, boolean isNew) {
        MDC.put("framework", id.value());
        conn.subscribing = false;
        FrameworkRecord fw = frameworks.get(id);
        if (fw != null && fw.removing) {
            conn.out.send(Outbox.errorEvent(Event.Error.Code.FRAMEWORK_REMOVED, call.getType(),
                    "framework " + id + " is being removed"));
            conn.out.complete();
            return;
        }
        if (fw == null) {
            fw = new FrameworkRecord(id, info, isNew ? FrameworkRecord.State.CONNECTED : FrameworkRecord.State.RECOVERED);
            fw.registeredAt = (long) (registeredTime * 1000);
            add(fw);
            if (!isNew) {
                LOG.info("Re-admitted framework {} ({}) unknown to this master", id, info.getName());
            }
        }
        if (fw.connection != null) {
            SchedulerConnection old = fw.connection;
            LOG.info("Framework {} failed over from {} to {}", id, old.peer, conn.peer);
            old.out.send(Outbox.errorEvent(Event.Error.Code.FRAMEWORK_FAILED_OVER, call.getType(),
                    "framework " + id + " subscribed again on another connection"));
            old.out.complete();
            tasks.dropHeldAnswers(fw);
            fw.connection = null;
            offers.rescindOffersOf(fw, false);
        }
        loop.cancel(failoverTag(id));
        fw.info = info;
        transition(fw, FrameworkRecord.State.CONNECTED);
        fw.connection = conn;
        fw.disconnectedAt = 0;
        fw.suppressedRoles.clear();
        conn.framework = fw.id;
        // A new scheduler instance starts unsuppressed and without DECLINE filters.
        offers.frameworkSubscribed(fw);
        conn.out.send(Event.newBuilder()
                .setType(Event.Type.SUBSCRIBED)
                .setSubscribed(Event.Subscribed.newBuilder()
                        .setFrameworkId(fw.id.toProto())
                        .setHeartbeatIntervalSeconds(config.frameworkHeartbeatInterval().toMillis() / 1000.0)
                        .setMasterInfo(term.masterInfo()))
                .build());
        LOG.info("Subscribed framework {} ({}) with roles {} from {}, failover timeout {}s, {} active tasks",
                fw.id, info.getName(), fw.roles(), conn.peer, info.getFailoverTimeout(), fw.tasks.size());
        if (conn.out.isClosed()) {
            // The scheduler went away while its subscription was being made durable.
            disconnect(fw, "stream closed during subscription");
            return;
        }
        onSubscribed.accept(fw);
        offers.requestAllocation();
    }

    // ------------------------------------------------------------------------------------------
    // Disconnection, failover timeout, removal
    // ------------------------------------------------------------------------------------------

    /** The scheduler's stream closed: the framework waits for its failover timeout, or goes at once. */
    void disconnect(FrameworkRecord fw, String why) {
        tasks.dropHeldAnswers(fw);
        fw.connection = null;
        onDetached.accept(fw.id);
        transition(fw, FrameworkRecord.State.DISCONNECTED);
        fw.disconnectedAt = clock.millis();
        offers.rescindOffersOf(fw, false);
        offers.frameworkConnected(fw, false);
        if (fw.removing) {
            // TEARDOWN then the stream closed before the tombstone was durable: the removal
            // stands, and nothing is written that could land after it (invariant 5).
            LOG.info("Framework {} disconnected ({}) while its removal is being made durable", fw.id, why);
            return;
        }
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
        term.persist(activeRecord(fw, fw.disconnectedAt), "disconnection of framework " + id, () -> {
                    FrameworkRecord now = frameworks.get(id);
                    if (now != null && now.connection == null) {
                        armFailoverTimer(now);
                    }
                });
        offers.requestAllocation();
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
        if (!term.acting()) {
            // Decided once this master acts again.
            loop.schedule(failoverTag(id), Duration.ofSeconds(1), () -> failoverExpired(id));
            return;
        }
        MDC.put("framework", id.value());
        removeFramework(fw, "failover timeout of " + fw.info.getFailoverTimeout() + "s expired");
    }

    /** Removes a framework for good (its failover timeout), once its tombstone is durable. */
    void removeFramework(FrameworkRecord fw, String reason) {
        removeFramework(fw, reason, false, () -> {});
    }

    /**
     * As {@link #removeFramework(FrameworkRecord, String)}; {@code done} runs once it applied (or at
     * once if under way). {@code byItsScheduler}: the framework's own TEARDOWN, confirmed with
     * TORN_DOWN on its stream; any other removal (an operator's) is an ERROR FRAMEWORK_REMOVED.
     */
    void removeFramework(FrameworkRecord fw, String reason, boolean byItsScheduler, Runnable done) {
        if (fw.removing) {
            done.run();
            return;
        }
        List<RegistryOp> ops = new ArrayList<>();
        ops.add(RegistryRecords.removed(fw.info, fw.registeredAt / 1000.0, clock.seconds()));
        FrameworkId evicted = oldestRemovedIfFull();
        if (evicted != null) {
            ops.add(RegistryRecords.forgetFramework(evicted.value()));
        }
        FrameworkId id = fw.id;
        fw.removing = true;
        term.persist(ops, "removal of framework " + id, () -> {
            FrameworkRecord still = frameworks.get(id);
            if (still != null) {
                applyRemoval(still, reason, byItsScheduler);
            }
            done.run();
        });
    }

    /** Applies a durable removal: offers go back, tasks are killed and forgotten. */
    private void applyRemoval(FrameworkRecord fw, String reason, boolean byItsScheduler) {
        // A separate loop event from the removal's start: its lines need the id again.
        MDC.put("framework", fw.id.value());
        tasks.dropHeldAnswers(fw);
        offers.rescindOffersOf(fw, false);
        loop.cancel(failoverTag(fw.id));
        if (fw.connection != null) {
            // The framework's own TEARDOWN is confirmed plainly; an operator's removal is an error to it.
            fw.connection.out.send(byItsScheduler
                    ? Event.newBuilder()
                            .setType(Event.Type.TORN_DOWN)
                            .setTornDown(Event.TornDown.newBuilder().setFrameworkId(fw.id.toProto()))
                            .build()
                    : Outbox.errorEvent(Event.Error.Code.FRAMEWORK_REMOVED, Call.Type.UNKNOWN,
                            "framework " + fw.id + " was removed: " + reason));
            fw.connection.out.complete();
            fw.connection = null;
        }
        int killed = tasks.killTasksOf(fw);
        remove(fw);
        onDetached.accept(fw.id);
        offers.frameworkRemoved(fw.id);
        LOG.info("Removed framework {} ({}): {}; killed {} tasks", fw.id, fw.info.getName(), reason, killed);
        offers.requestAllocation();
    }

    // ------------------------------------------------------------------------------------------
    // Frameworks learnt from agents
    // ------------------------------------------------------------------------------------------

    /**
     * A re-registering agent runs tasks of a framework this master does not know (it failed over
     * and the registry had not caught up, or the framework never subscribed here): keep it,
     * disconnected, for its failover timeout, waiting for its scheduler. Removed ids stay removed.
     */
    void recoverFromAgent(FrameworkInfo fi, AgentId agent) {
        if (fi.getId().getValue().isEmpty()) {
            return;
        }
        FrameworkId fid = FrameworkId.of(fi.getId());
        if (frameworks.get(fid) != null || removed.contains(fid)) {
            return;
        }
        FrameworkRecord fw = new FrameworkRecord(fid, fi, FrameworkRecord.State.RECOVERED);
        fw.registeredAt = clock.millis();
        fw.disconnectedAt = clock.millis();
        add(fw);
        offers.frameworkConnected(fw, false);
        loop.schedule(failoverTag(fid), Duration.ofMillis((long) (fi.getFailoverTimeout() * 1000)),
                () -> failoverExpired(fid));
        LOG.info("Recovered framework {} ({}) from agent {}; waiting {}s for its scheduler", fid, fi.getName(), agent,
                fi.getFailoverTimeout());
    }

    private static String failoverTag(FrameworkId id) {
        return "framework-failover/" + id;
    }
}
