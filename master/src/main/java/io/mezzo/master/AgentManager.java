package io.mezzo.master;

import io.grpc.Status;
import io.mezzo.common.clock.Clock;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.loop.FaultHandler;
import io.mezzo.common.resources.ResourceValidation;
import io.mezzo.common.resources.Resources;
import io.mezzo.ha.registry.RegistryOp;
import io.mezzo.master.validation.AcceptValidation;
import io.mezzo.master.validation.AgentValidation;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.RegistryAgent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Agents in the master: their records and lifecycle, REGISTER (admission), the stream that
 * carries them, PING/PONG liveness, UNREACHABLE (missed pings, or not back after a failover),
 * GONE (operator), draining, and the dynamic reservations the master sends them to checkpoint.
 * REREGISTER is {@link AgentReregistration}'s, which calls down into this class.
 *
 * <pre>
 *  REGISTER --validate--> registry write (admitted) --> REGISTERED, allocator learns the agent
 *  every --agent_ping_timeout: PING; an unanswered PING (or no stream) is a miss
 *     --max_agent_ping_timeouts misses --> registry write (unreachable) --> UNREACHABLE:
 *         offers rescinded, tasks TASK_UNREACHABLE (TASK_LOST to frameworks not PARTITION_AWARE)
 *  after a failover: RECOVERED agents not back within --agent_reregister_timeout --> UNREACHABLE
 *  operator MarkAgentGone --> registry write (gone) --> GONE: tasks gone, agent told to shut down
 * </pre>
 *
 * <p>Owner: {@link MasterCore}. Calls {@link OfferManager} and {@link TaskLifecycle} (what
 * happens to the tasks of a lost agent is theirs); is looked up by them through {@link
 * AgentLookup}. Thread: the master's event loop only. An illegal lifecycle transition is a
 * broken invariant and goes to the fault handler (the transition is not made).
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>An agent's state follows {@link AgentRecord.State#next()}.
 *   <li>Admission, unreachability and removal are durable before they take effect: a new leader
 *       knows every agent to wait for, and tells a gone agent to shut down.
 *   <li>An agent that is not REGISTERED and connected is not offerable in the allocator ({@link
 *       OfferManager#syncOfferable}), and its offers are rescinded when it stops being so.
 *   <li>Gone is final: once an agent's GONE record is being written ({@code markingGone}), nothing
 *       writes it as admitted or unreachable again (every unreachable marking and REREGISTER
 *       check). The registry commits writes in submission order, so the GONE record
 *       is the agent's last, across any number of failovers.
 * </ol>
 *
 * <p>State: {@code agents} (hard: {@code registry/agents/<id>} holds the admitted, unreachable
 * and gone agents with their info and times; connections, tasks, resources in use, reservations
 * and ping counters in each record are soft, rebuilt by REREGISTER); {@code recoveredAgentCount}
 * (soft: how many agents the registry held when this master was elected).
 */
final class AgentManager implements AgentLookup {

    private static final Logger LOG = LoggerFactory.getLogger(AgentManager.class);

    static final String TIMER_PING = "agent-ping";
    static final String TIMER_REREGISTER = "agent-reregister-timeout";

    private final MasterConfig config;
    private final EventLoop loop;
    private final Clock clock;
    private final FaultHandler faults;
    private final LeaderTerm term;
    private final Outbox out;
    private final OfferManager offers;
    private final TaskLifecycle tasks;
    /** Known agents, in admission order. Hard (registry), with soft parts (see the record). */
    private final Map<AgentId, AgentRecord> agents = new LinkedHashMap<>();
    private final String prefix;
    private long nextId = 1;
    /** How many agents the registry held when this master was elected (the removal limit's base). Soft. */
    private int recoveredAgentCount;
    /** How many agents are RECOVERED now (kept by {@link #recover} and {@link #transition}). Soft. */
    private int recoveringAgents;

    AgentManager(MasterConfig config, EventLoop loop, String idPrefix, LeaderTerm term, Outbox out,
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

    private AgentId newId() {
        return AgentId.of(prefix + "-S" + nextId++);
    }

    @Override
    public AgentRecord get(AgentId id) {
        return agents.get(id);
    }

    void add(AgentRecord agent) {
        agents.put(agent.id, agent);
    }

    @Override
    public Collection<AgentRecord> all() {
        return agents.values();
    }

    @Override
    public boolean recovering() {
        return recoveringAgents > 0;
    }

    /** Moves {@code agent} to {@code next}; returns false (and reports a fault) if not allowed. */
    boolean transition(AgentRecord agent, AgentRecord.State next) {
        if (!agent.state.next().contains(next)) {
            faults.handleFault("illegal agent transition " + agent.state + " -> " + next + " for " + agent.id, null);
            return false;
        }
        if (agent.state == AgentRecord.State.RECOVERED) {
            recoveringAgents--;
        }
        agent.state = next;
        return true;
    }

    /** The agent registered on this stream, if the stream is still its current one; else null. */
    AgentRecord registeredOn(AgentConnection conn) {
        AgentRecord agent = conn.agent == null ? null : agents.get(conn.agent);
        return agent == null || agent.connection != conn ? null : agent;
    }

    // ------------------------------------------------------------------------------------------
    // Leadership: recovery, suspension, stop
    // ------------------------------------------------------------------------------------------

    /**
     * Rebuilds the agents read from the registry: those expected back (RECOVERED), unreachable and
     * gone ones. Returns how many are expected back; arms --agent_reregister_timeout for them.
     */
    int recover(List<RegistryAgent> recovered) {
        for (RegistryAgent a : recovered) {
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
            agent.principal = a.getPrincipal();
            // Not connected to this master, as far as it knows, since its election.
            agent.connectionChangedAt = term.electedAt();
            add(agent);
            if (state == AgentRecord.State.RECOVERED) {
                recoveredAgentCount++;
                recoveringAgents++;
            }
        }
        return recoveredAgentCount;
    }

    /** Arms --agent_reregister_timeout for the recovered agents (none: nothing to wait for). */
    void awaitRecoveredAgents() {
        if (recoveredAgentCount > 0) {
            loop.schedule(TIMER_REREGISTER, config.agentReregisterTimeout(), this::reregisterTimeout);
        }
    }

    long count(AgentRecord.State state) {
        return agents.values().stream().filter(a -> a.state == state).count();
    }

    /** After a suspension nobody could answer pings: every agent starts with a clean slate. */
    void forgetMissedPings() {
        for (AgentRecord agent : agents.values()) {
            agent.missedPings = 0;
            agent.awaitingPong = false;
        }
    }

    /** Closes every agent stream with {@code status} (leadership paused or lost). */
    void closeStreams(Status status) {
        for (AgentRecord agent : agents.values()) {
            if (agent.connection != null) {
                agent.connection.out.fail(status);
                detach(agent);
                offers.syncOfferable(agent);
            }
        }
    }

    /** Cancels the ping and re-registration timers (leadership ends). */
    void cancelTimers() {
        loop.cancel(TIMER_PING);
        loop.cancel(TIMER_REREGISTER);
    }

    // ------------------------------------------------------------------------------------------
    // Registration and the agent's stream
    // ------------------------------------------------------------------------------------------

    /** REGISTER: a new agent, admitted once that is durable, then answered REGISTERED. */
    void register(AgentConnection conn, AgentMessage msg) {
        if (conn.agent != null || conn.registering) {
            out.rejectAgent(conn, "this stream is already registered as agent " + conn.agent);
            return;
        }
        AgentInfo info = msg.getRegister().getAgentInfo();
        String error = AgentValidation.validate(info);
        if (error != null) {
            out.rejectAgent(conn, "invalid REGISTER: " + error);
            return;
        }
        AgentId id = newId();
        MDC.put("agent", id.value());
        AgentInfo stored = info.toBuilder().setId(id.toProto()).build();
        double now = clock.seconds();
        conn.registering = true;
        String principal = conn.principal == null ? "" : conn.principal;
        term.persist(List.of(RegistryRecords.admitted(stored, now, principal)), "admission of agent " + id, () -> {
            MDC.put("agent", id.value());
            conn.registering = false;
            AgentRecord agent = new AgentRecord(id, stored, Resources.fromProto(info.getResourcesList()),
                    AgentRecord.State.REGISTERED);
            agent.dynamicReservations = agent.total.filter(AgentRecord::isDynamic);
            agent.registeredAt = (long) (now * 1000);
            agent.principal = principal;
            add(agent);
            if (conn.out.isClosed()) {
                agent.connectionChangedAt = clock.millis();
                LOG.info("Admitted agent {} at {}, whose stream closed meanwhile", id, info.getHostname());
                offers.agentAdded(agent);
                return;
            }
            attach(agent, conn);
            offers.agentAdded(agent);
            LOG.info("Registered agent {} at {} ({}) with {}", id, info.getHostname(), conn.peer, agent.total);
            offers.requestAllocation();
        }, reason -> {
            conn.registering = false;
            out.rejectAgent(conn, "agent " + id + " cannot be stored: " + reason);
        });
    }

    /** Makes {@code conn} the agent's stream, with a clean ping slate, and answers REGISTERED. */
    void attach(AgentRecord agent, AgentConnection conn) {
        agent.connection = conn;
        agent.connectionChangedAt = clock.millis();
        agent.lastHeardAt = clock.millis();
        agent.awaitingPong = false;
        agent.missedPings = 0;
        conn.agent = agent.id;
        conn.out.send(out.withEpoch(MasterMessage.newBuilder()
                .setType(MasterMessage.Type.REGISTERED)
                .setRegistered(MasterMessage.Registered.newBuilder()
                        .setAgentId(agent.id.toProto())
                        .setMasterInfo(term.masterInfo())
                        .setPingIntervalSeconds(config.agentPingInterval().toMillis() / 1000.0)
                        .setMaxPingTimeouts(config.maxAgentPingTimeouts()))));
    }

    /** The agent has no stream any more, since now (shown to operators as disconnected). */
    private void detach(AgentRecord agent) {
        agent.connection = null;
        agent.connectionChangedAt = clock.millis();
    }

    /** A message arrived on {@code conn}: if an agent is registered on it, it was heard from now. */
    void heardFrom(AgentConnection conn) {
        AgentRecord agent = registeredOn(conn);
        if (agent != null) {
            agent.lastHeardAt = clock.millis();
        }
    }

    /**
     * The agent's stream closed: no offers on it until it comes back; pings decide whether it is
     * unreachable. Called while not acting too (then only the stream is forgotten).
     */
    void onClosed(AgentConnection conn, String why) {
        if (conn.agent == null) {
            return;
        }
        AgentRecord agent = agents.get(conn.agent);
        if (agent == null || agent.connection != conn) {
            return;
        }
        MDC.put("agent", agent.id.value());
        detach(agent);
        if (!term.acting()) {
            return;
        }
        offers.rescindOffersOn(agent);
        offers.syncOfferable(agent);
        LOG.info("Agent {} at {} disconnected ({}); unreachable after {} missed pings unless it re-registers", agent.id,
                agent.info.getHostname(), why, config.maxAgentPingTimeouts());
    }

    // ------------------------------------------------------------------------------------------
    // Liveness: pings, unreachable, re-registration timeout
    // ------------------------------------------------------------------------------------------

    /** Starts the periodic PING of every registered agent. */
    void startPings() {
        loop.schedule(TIMER_PING, config.agentPingInterval(), () -> {
            pingAgents();
            startPings();
        });
    }

    void pong(AgentConnection conn, AgentMessage.Pong pong) {
        AgentRecord agent = registeredOn(conn);
        if (agent == null) {
            return;
        }
        if (pong.getSequence() == agent.pingSequence) {
            agent.awaitingPong = false;
            agent.missedPings = 0;
        }
    }

    private void pingAgents() {
        if (!term.acting()) {
            return;
        }
        for (AgentRecord agent : List.copyOf(agents.values())) {
            if (!agent.state.registered()) {
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
                out.sendToAgent(agent, MasterMessage.newBuilder()
                        .setType(MasterMessage.Type.PING)
                        .setPing(MasterMessage.Ping.newBuilder().setSequence(agent.pingSequence)));
            }
        }
    }

    /** Marks agents unreachable once that is durable (one registry write for all of them). */
    private void markUnreachable(List<AgentRecord> candidates, String reason) {
        double now = clock.seconds();
        // An agent being marked gone stays gone (invariant 4).
        List<AgentRecord> lost = candidates.stream().filter(a -> !a.markingGone).toList();
        if (lost.isEmpty()) {
            return;
        }
        List<RegistryOp> ops = new ArrayList<>();
        for (AgentRecord agent : lost) {
            agent.markingUnreachable = true;
            ops.add(RegistryRecords.unreachable(agent.info, agent.registeredAt / 1000.0, now, agent.principal));
        }
        term.persist(ops, lost.size() + " unreachable agents", () -> {
            List<RegistryOp> readmitted = new ArrayList<>();
            for (AgentRecord agent : lost) {
                agent.markingUnreachable = false;
                boolean cameBack = agent.connection != null && agent.missedPings < config.maxAgentPingTimeouts();
                boolean stillLost = agent.state == AgentRecord.State.RECOVERED
                        || agent.state.registered()
                                && !cameBack;
                if (stillLost) {
                    MDC.put("agent", agent.id.value());
                    applyUnreachable(agent, reason, (long) (now * 1000));
                    MDC.remove("agent");
                } else if (cameBack && agent.state != AgentRecord.State.UNREACHABLE && !agent.markingGone) {
                    // It answered while the write was on its way: it stays registered, so the registry
                    // must say so again, or the next leader would recover it unreachable (found by the
                    // simulator, seed 715).
                    readmitted.add(RegistryRecords.admitted(agent.info, agent.registeredAt / 1000.0));
                }
            }
            term.persist(readmitted, readmitted.size() + " agents that answered while marked unreachable", () -> {});
            tasks.answerHeld(lost.size() == 1 ? "agent " + lost.get(0).id + " was marked unreachable"
                    : lost.size() + " agents were marked unreachable");
        });
    }

    private void markUnreachable(AgentRecord agent, String reason) {
        if (!agent.markingUnreachable) {
            markUnreachable(List.of(agent), reason);
        }
    }

    private void applyUnreachable(AgentRecord agent, String reason, long at) {
        if (!transition(agent, AgentRecord.State.UNREACHABLE)) {
            return;
        }
        agent.unreachableAt = at;
        if (agent.connection != null) {
            agent.connection.out.fail(Status.UNAVAILABLE.withDescription("agent marked unreachable: " + reason));
            detach(agent);
        }
        offers.rescindOffersOn(agent);
        int count = tasks.tasksUnreachable(agent, reason);
        offers.removeFromAllocator(agent.id);
        LOG.warn("Marked agent {} at {} unreachable: {}; {} tasks are unreachable", agent.id, agent.info.getHostname(),
                reason, count);
        offers.requestAllocation();
    }

    /**
     * After a failover, agents that did not re-register within --agent_reregister_timeout are
     * unreachable, unless that would be more than --recovery_agent_removal_limit of them: then an
     * operator must look (a network or ZooKeeper problem is likelier than that many dead hosts).
     */
    private void reregisterTimeout() {
        if (!term.acting()) {
            loop.schedule(TIMER_REREGISTER, Duration.ofSeconds(1), this::reregisterTimeout);
            return;
        }
        List<AgentRecord> missing = agents.values().stream()
                .filter(a -> a.state == AgentRecord.State.RECOVERED && !a.markingGone)
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

    // ------------------------------------------------------------------------------------------
    // Operator: gone, draining
    // ------------------------------------------------------------------------------------------

    /**
     * Removes an agent for good (operator request): durable first; then its tasks are gone
     * (TASK_GONE, or TASK_LOST for frameworks that are not PARTITION_AWARE) and, if connected,
     * it is told to shut down. Answers through {@code done} with null or the reason it refused.
     */
    void markGone(AgentId id, Consumer<String> done) {
        AgentRecord agent = agents.get(id);
        if (!term.acting()) {
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
        // From here on nothing writes this agent as admitted or unreachable (invariant 4). A second
        // request while the first is in flight writes the same record again and applies once.
        agent.markingGone = true;
        term.persist(List.of(RegistryRecords.gone(agent.info, agent.registeredAt / 1000.0, now, agent.principal)), "agent " + id + " gone",
                () -> {
                    MDC.put("agent", id.value());
                    if (agent.state != AgentRecord.State.GONE) {
                        applyGone(agent);
                    }
                    done.accept(null);
                });
    }

    /**
     * Order matters: the offers go back and the tasks give their resources back before the
     * allocator forgets the agent (it refuses to forget an agent with resources still allocated),
     * and the agent's stream is closed, so that it is never offered again.
     */
    private void applyGone(AgentRecord agent) {
        AgentId id = agent.id;
        transition(agent, AgentRecord.State.GONE);
        offers.rescindOffersOn(agent);
        int count = tasks.tasksGone(agent);
        offers.removeFromAllocator(id);
        if (agent.connection != null) {
            out.shutdownAgent(agent.connection, id);
            detach(agent);
        }
        LOG.warn("Marked agent {} at {} gone; {} tasks are gone", id, agent.info.getHostname(), count);
        tasks.answerHeld("agent " + id + " was marked gone");
        offers.requestAllocation();
    }

    /**
     * Marks an agent draining, or back to registered: a draining agent is not offered, its
     * outstanding offers are rescinded, and its free resources no longer count as available (for
     * quota headroom); its tasks keep running. The hook for the drain and maintenance API. Returns
     * false when the agent is unknown or not in a state that can drain.
     */
    boolean setDraining(AgentId id, boolean draining) {
        AgentRecord agent = agents.get(id);
        AgentRecord.State from = draining ? AgentRecord.State.REGISTERED : AgentRecord.State.DRAINING;
        if (agent == null || agent.state != from) {
            return false;
        }
        transition(agent, draining ? AgentRecord.State.DRAINING : AgentRecord.State.REGISTERED);
        offers.rescindOffersOn(agent);
        offers.syncOfferable(agent);
        LOG.info("Agent {} at {} is {}", id, agent.info.getHostname(), draining ? "draining: no more offers" : "offered again");
        offers.requestAllocation();
        return true;
    }

    // ------------------------------------------------------------------------------------------
    // Dynamic reservations
    // ------------------------------------------------------------------------------------------

    /**
     * Applies the reservation changes of a valid ACCEPT to the agent (each turns {@code from} into
     * {@code to}, allocated to the framework's role) and sends the agent its new set to
     * checkpoint, before the RUN_TASKs of the same ACCEPT.
     */
    void convertReservations(AgentRecord agent, FrameworkId framework, String role,
            List<AcceptValidation.Conversion> conversions) {
        for (AcceptValidation.Conversion c : conversions) {
            agent.total = agent.total.minus(c.from()).plus(c.to());
            agent.dynamicReservations = agent.dynamicReservations
                    .plus(c.to().filter(AgentRecord::isDynamic)).minus(c.from().filter(AgentRecord::isDynamic));
            offers.convert(agent.id, framework, role, c.from(), c.to());
            LOG.info("Converted {} to {} on agent {} for framework {}", c.from(), c.to(), agent.id, framework);
        }
        if (!conversions.isEmpty()) {
            checkpointReservations(agent);
        }
    }

    /**
     * Sends the agent its full set of dynamic reservations to checkpoint (a replacement, not a
     * delta). Sent after every RESERVE/UNRESERVE and before the RUN_TASKs of the same ACCEPT, so
     * that tasks on new reservations reach an agent that has them.
     */
    void checkpointReservations(AgentRecord agent) {
        out.sendToAgent(agent, MasterMessage.newBuilder()
                .setType(MasterMessage.Type.CHECKPOINT_RESOURCES)
                .setCheckpointResources(MasterMessage.CheckpointResources.newBuilder()
                        .addAllResources(agent.dynamicReservations.toProto())));
        LOG.info("Sent agent {} its dynamic reservations to checkpoint: {}", agent.id, agent.dynamicReservations);
    }
}
