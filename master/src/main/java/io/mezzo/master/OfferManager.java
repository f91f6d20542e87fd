package io.mezzo.master;

import io.mezzo.common.clock.Clock;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.OfferId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.resources.Resources;
import io.mezzo.master.allocator.Allocation;
import io.mezzo.master.allocator.DrfAllocator;
import io.mezzo.master.allocator.RoleConfig;
import io.mezzo.master.allocator.RoleSummary;
import io.mezzo.master.validation.FilterValidation;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.Offer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Offers, from the allocator to the schedulers and back: the allocation cycles (periodic, and
 * coalesced requests), the outstanding offers and their timeouts, rescinds, DECLINE and its
 * refusal filters, REVIVE and SUPPRESS, and feeding the {@link DrfAllocator} every change of
 * agents, frameworks and allocations as it happens, so that a cycle copies nothing.
 *
 * <pre>
 *  "allocation" timer   -> allocate(full):        DrfAllocator.allocate(now, seed)
 *  requestAllocation()  -> allocate(incremental): DrfAllocator.allocateTouched(now, seed) when the
 *     (coalesced)            allocator says it is exact and few agents were touched, else a full cycle
 *        -> OfferRecords -> OFFERS per framework
 *  ACCEPT (MasterCore)  -> forget(offer): resources stay allocated to the framework's role
 *  DECLINE / timeout / rescind -> giveBack(offer[, refuseUntil]) -> DrfAllocator.recover
 * </pre>
 *
 * <p>Owner: {@link MasterCore}. Called by the other managers (never the reverse: agents and
 * frameworks are looked up through {@link AgentLookup} and {@link FrameworkLookup}). Thread: the
 * master's event loop only.
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>An agent's and a framework's {@code offered} are the sums of their outstanding offers;
 *       {@code byAgent} lists exactly the outstanding offers of each agent.
 *   <li>Offers exist only for agents that are registered and connected and for frameworks that
 *       are connected: the managers rescind them ({@link #rescindOffersOn}, {@link
 *       #rescindOffersOf}) before an agent or a framework stops being so, and the allocator is told
 *       ({@link #syncOfferable}, {@link #frameworkConnected}) so that it offers nothing new.
 *   <li>Offered resources are in exactly one place: an outstanding offer, or (used by an ACCEPT,
 *       given back, or never offered) the allocator.
 * </ol>
 *
 * <p>State, all soft (offers die with the master that made them; schedulers revive): the
 * outstanding {@code offers} and {@code byAgent}; the allocator's mirror of agents, frameworks,
 * allocations, suppression and DECLINE filters (rebuilt as agents re-register and frameworks
 * resubscribe; the weights and quotas it holds are hard state, see {@link RoleSettingsManager});
 * the seed source and cycle count; and the post-failover {@code recoveryPause}.
 */
final class OfferManager {

    private static final Logger LOG = LoggerFactory.getLogger(OfferManager.class);

    static final String TIMER_ALLOCATION = "allocation";
    static final String TIMER_ALLOCATION_NOW = "allocation-now";
    static final String TIMER_RECOVERY_PAUSE = "recovery-quota-pause";

    private final MasterConfig config;
    private final EventLoop loop;
    private final Clock clock;
    private final LeaderTerm term;
    private final Outbox out;
    private final MasterMetrics metrics;
    /** Read access to the agents; bound once by {@link #lookUpRecordsIn}. */
    private AgentLookup agents;
    /** Read access to the frameworks; bound once by {@link #lookUpRecordsIn}. */
    private FrameworkLookup frameworks;
    /** Outstanding offers. Soft. */
    private final Map<OfferId, OfferRecord> offers = new LinkedHashMap<>();
    /** Outstanding offers by agent, so that an agent's offers are found without scanning them all. Soft. */
    private final Map<AgentId, Set<OfferId>> byAgent = new HashMap<>();
    /**
     * Decides the offers. Fed incrementally with every change to agents, frameworks and
     * allocations (see "Allocator feeding"), so a cycle copies nothing. Soft state, rebuilt from
     * agents and frameworks as they come back; weights and quotas are hard state.
     */
    private final DrfAllocator allocator;
    /** Seeds of the cycles' shuffles, from the master's allocator seed (logged at start). */
    private final Random seeds;
    private final String prefix;
    private long nextId = 1;
    private long allocationCycles;
    /** Set while offers wait for agents to come back after a failover (quota guarantees only). Soft. */
    private boolean recoveryPause;
    /** How many agents the registry held when this master was elected (the pause's base). */
    private int recoveredAgentCount;
    /** The launch budget that paces offers; bound with the records. Soft. */
    private LaunchAdmission admission;

    OfferManager(MasterConfig config, EventLoop loop, String idPrefix, long allocatorSeed, LeaderTerm term, Outbox out,
            MasterMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
        this.loop = loop;
        this.clock = config.clock();
        this.term = term;
        this.out = out;
        this.prefix = idPrefix;
        this.allocator = new DrfAllocator(config.minAllocatable());
        this.seeds = new Random(allocatorSeed);
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
        this.admission = new LaunchAdmission(config.maxLaunchesInFlight(), agents);
    }

    /** The launch budget (TaskLifecycle reports launches and first updates to it). */
    LaunchAdmission admission() {
        return admission;
    }

    /** A task's agent sent its first update: allocate again if a pass was held back for it. */
    void launchSettled(TaskRecord task) {
        if (admission.settled(task)) {
            requestAllocation();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Allocation cycles
    // ------------------------------------------------------------------------------------------

    /** Up to this many touched agents a requested pass is incremental (when exact), whatever the cluster's size. */
    static final int INCREMENTAL_MIN_AGENTS = 64;

    /**
     * The most agents an incremental pass visits: beyond an eighth of the cluster a full cycle,
     * which walks every slot once instead of sorting the touched agents, costs about as much.
     */
    static int incrementalLimit(int offerableAgents) {
        return Math.max(INCREMENTAL_MIN_AGENTS, offerableAgents / 8);
    }

    /**
     * Starts the periodic allocation timer (leadership begins). The periodic cycle is always full:
     * it is the safety net that offers what expired DECLINE filters free and whatever an
     * incremental pass could not see.
     */
    void startAllocationTimer() {
        loop.schedule(TIMER_ALLOCATION, config.allocationInterval(), () -> {
            allocate(false);
            startAllocationTimer();
        });
    }

    /**
     * Asks for an allocation pass once the loop has nothing else to do: any number of requests
     * before it runs make one pass (a re-registration storm after a failover makes one, not one
     * per agent). The pass is incremental, over the agents touched since the last one, when they
     * are few and the allocator says such a pass offers what a full cycle would; a full cycle
     * otherwise (many agents changed, a framework subscribed or revived, quotas changed...).
     */
    void requestAllocation() {
        loop.whenIdle(TIMER_ALLOCATION_NOW, () -> allocate(true));
    }

    /**
     * After a failover, with quota guarantees, offering a half-returned cluster could hand out
     * what a guarantee needs: offers wait (bounded) for most of the {@code recoveredAgents}.
     * Without guarantees, offers start with the first agent.
     */
    void holdForRecovery(int recoveredAgents, RoleConfig roles) {
        recoveredAgentCount = recoveredAgents;
        recoveryPause = recoveredAgents > 0
                && roles.quotas().values().stream().anyMatch(q -> !q.guarantees().isEmpty());
        if (recoveryPause) {
            LOG.info("Holding offers until {}% of the {} recovered agents are back, at most {}s: roles have quota"
                    + " guarantees", Math.round(config.recoveryQuotaFraction() * 100), recoveredAgentCount,
                    config.recoveryQuotaTimeout().toSeconds());
            loop.schedule(TIMER_RECOVERY_PAUSE, config.recoveryQuotaTimeout(), this::requestAllocation);
        }
    }

    /** Cancels this manager's timers (leadership ends). */
    void cancelTimers() {
        for (String tag : new String[] {TIMER_ALLOCATION, TIMER_ALLOCATION_NOW, TIMER_RECOVERY_PAUSE}) {
            loop.cancel(tag);
        }
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
        if (back >= config.recoveryQuotaFraction() || now - term.electedAt() >= config.recoveryQuotaTimeout().toMillis()) {
            recoveryPause = false;
            loop.cancel(TIMER_RECOVERY_PAUSE);
            LOG.info("Offering again after the failover: {}% of the recovered agents are back",
                    Math.round(back * 100));
            return false;
        }
        return true;
    }

    /**
     * Runs an allocation pass and sends its offers. The allocator keeps its own incremental state,
     * so the work here is proportional to the offers made, not to the cluster.
     *
     * @param mayBeIncremental whether a pass over the touched agents will do when it is exact
     */
    private void allocate(boolean mayBeIncremental) {
        if (!term.acting()) {
            return;
        }
        long now = clock.millis();
        if (recoveryPaused(now)) {
            return;
        }
        int offerLimit = admission.offerLimit(!mayBeIncremental);
        if (offerLimit == 0) {
            LOG.debug("Allocation held back: {} launches in flight", admission.inFlight());
            return;
        }
        long seed = seeds.nextLong();
        allocationCycles++;
        int touched = allocator.touchedAgents();
        String fullBecause = !mayBeIncremental ? "periodic"
                : allocator.fullCycleReason() != null ? allocator.fullCycleReason()
                : touched > incrementalLimit(allocator.offerableAgents()) ? touched + " agents touched"
                : null;
        MasterMetrics.Timing cycle = metrics.allocationCycle(fullBecause != null);
        List<Allocation> allocations = fullBecause == null ? allocator.allocateTouched(now, seed, offerLimit)
                : allocator.allocate(now, seed, offerLimit);
        cycle.done(allocations.size());
        if (LOG.isDebugEnabled()) {
            LOG.debug("Allocation cycle {} (seed {}, {}): {} offers; {}", allocationCycles, seed,
                    fullBecause == null ? "incremental over " + touched + " touched agents" : "full: " + fullBecause,
                    allocations.size(), allocator);
        }
        if (allocations.size() > offerLimit) {
            // Quota's first stage is not paced: what it allocated beyond the limit goes back unfiltered.
            for (Allocation a : allocations.subList(offerLimit, allocations.size())) {
                allocator.recover(a.agent(), a.framework(), a.role(), a.resources(), 0);
            }
            allocations = allocations.subList(0, offerLimit);
        }
        if (allocations.isEmpty()) {
            return;
        }
        Map<FrameworkId, List<Offer>> byFramework = new LinkedHashMap<>();
        for (Allocation a : allocations) {
            AgentRecord agent = agents.get(a.agent());
            FrameworkRecord fw = frameworks.get(a.framework());
            Resources resources = a.resources();
            OfferRecord offer = new OfferRecord(newId(), fw.id, agent.id, a.role(), resources, now);
            add(offer, agent, fw);
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
        metrics.offersSent(allocations.size(), now - term.electedAt());
        byFramework.forEach((id, list) -> {
            FrameworkRecord fw = frameworks.get(id);
            out.sendEvent(fw, Event.newBuilder().setType(Event.Type.OFFERS)
                    .setOffers(Event.Offers.newBuilder().addAllOffers(list)).build());
            LOG.debug("Sent {} offers to framework {}", list.size(), id);
        });
    }

    // ------------------------------------------------------------------------------------------
    // Outstanding offers
    // ------------------------------------------------------------------------------------------

    private OfferId newId() {
        return OfferId.of(prefix + "-O" + nextId++);
    }

    OfferRecord get(OfferId id) {
        return offers.get(id);
    }

    Collection<OfferRecord> all() {
        return offers.values();
    }

    /** The agent's outstanding offers, oldest first (a copy). */
    List<OfferRecord> on(AgentId agent) {
        Set<OfferId> ids = byAgent.get(agent);
        return ids == null ? List.of() : ids.stream().map(offers::get).toList();
    }

    /** Records an offer and adds its resources to the agent's and framework's offered sums. */
    private void add(OfferRecord offer, AgentRecord agent, FrameworkRecord framework) {
        offers.put(offer.id(), offer);
        byAgent.computeIfAbsent(offer.agent(), a -> new LinkedHashSet<>()).add(offer.id());
        agent.offered = agent.offered.plus(offer.resources());
        framework.addOffered(offer.role(), offer.resources());
        framework.offers.add(offer.id());
    }

    /**
     * Forgets an offer whose resources stay allocated (an ACCEPT used them), taking its resources
     * off the agent's and framework's offered sums.
     */
    void forget(OfferRecord offer) {
        offers.remove(offer.id());
        Set<OfferId> ids = byAgent.get(offer.agent());
        if (ids != null && ids.remove(offer.id()) && ids.isEmpty()) {
            byAgent.remove(offer.agent());
        }
        AgentRecord agent = agents.get(offer.agent());
        if (agent != null) {
            agent.offered = agent.offered.minus(offer.resources());
        }
        FrameworkRecord framework = frameworks.get(offer.framework());
        if (framework != null) {
            framework.removeOffered(offer.role(), offer.resources());
            framework.offers.remove(offer.id());
        }
        if (config.offerTimeout() != null) {
            loop.cancel(offerTimeoutTag(offer.id()));
        }
    }

    /** Forgets an offer and gives its resources back to the allocator, unfiltered. */
    void giveBack(OfferRecord offer) {
        giveBack(offer, 0);
    }

    /**
     * Forgets an offer and gives its resources back to the allocator, which does not offer them to
     * the same framework role on that agent before {@code refuseUntil} (0: no filter).
     */
    void giveBack(OfferRecord offer, long refuseUntil) {
        forget(offer);
        allocator.recover(offer.agent(), offer.framework(), offer.role(), offer.resources(), refuseUntil);
    }

    /** Withdraws an offer and tells its framework. */
    void rescind(OfferRecord offer) {
        metrics.offerRescinded();
        giveBack(offer);
        FrameworkRecord fw = frameworks.get(offer.framework());
        if (fw != null) {
            out.sendEvent(fw, Event.newBuilder()
                    .setType(Event.Type.RESCIND)
                    .setRescind(Event.Rescind.newBuilder().setOfferId(offer.id().toProto()))
                    .build());
        }
    }

    void rescindOffersOn(AgentRecord agent) {
        for (OfferRecord offer : on(agent.id)) {
            rescind(offer);
        }
    }

    /** Gives back a framework's offers; tells it only when {@code notify}. */
    void rescindOffersOf(FrameworkRecord fw, boolean notify) {
        for (OfferId id : List.copyOf(fw.offers)) {
            OfferRecord offer = offers.get(id);
            if (offer != null) {
                if (notify) {
                    rescind(offer);
                } else {
                    giveBack(offer);
                }
            }
        }
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

    private static String offerTimeoutTag(OfferId id) {
        return "offer-timeout/" + id;
    }

    // ------------------------------------------------------------------------------------------
    // Scheduler calls: DECLINE, REVIVE, SUPPRESS
    // ------------------------------------------------------------------------------------------

    /**
     * DECLINE: the offers go back with a refusal filter, so the allocator does not offer those
     * resources to the same framework role on the same agent before the filter ends.
     */
    void decline(FrameworkRecord fw, Call.Decline decline) {
        String filterError = FilterValidation.validate(decline.getFilters());
        if (filterError != null) {
            out.refuse(fw, Call.Type.DECLINE, Event.Error.Code.INVALID_CALL, filterError);
            return;
        }
        Duration refuse = FilterValidation.refuseDuration(decline.getFilters());
        for (var protoId : decline.getOfferIdsList()) {
            OfferRecord offer = protoId.getValue().isEmpty() ? null : offers.get(OfferId.of(protoId));
            if (offer == null || !offer.framework().equals(fw.id)) {
                LOG.debug("Framework {} declined offer {} which is no longer outstanding", fw.id, protoId.getValue());
                continue;
            }
            giveBack(offer, refuseUntil(decline.getFilters()));
            metrics.offerDeclined();
            LOG.debug("Framework {} declined offer {} for {}s", fw.id, offer.id(), refuse.toMillis() / 1000.0);
        }
        requestAllocation();
    }

    /** The clock time a valid filter's refusal ends; 0 for none (refuse_seconds 0). */
    long refuseUntil(Filters filters) {
        Duration refuse = FilterValidation.refuseDuration(filters);
        return refuse.isZero() ? 0 : clock.millis() + Math.max(1, refuse.toMillis());
    }

    /** REVIVE: offers again for these roles (all of the framework's when empty), filters cleared. */
    void revive(FrameworkRecord fw, List<String> roles) {
        String error = rolesError(fw, roles);
        if (error != null) {
            out.refuse(fw, Call.Type.REVIVE, Event.Error.Code.INVALID_CALL, error);
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

    /** SUPPRESS: no more offers for these roles (all of the framework's when empty) until REVIVE. */
    void suppress(FrameworkRecord fw, List<String> roles) {
        String error = rolesError(fw, roles);
        if (error != null) {
            out.refuse(fw, Call.Type.SUPPRESS, Event.Error.Code.INVALID_CALL, error);
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

    // ------------------------------------------------------------------------------------------
    // Allocator feeding: the allocator mirrors agents (total, offerable), frameworks (roles,
    // connection, suppression) and allocations (offers and live tasks) as they change.
    // ------------------------------------------------------------------------------------------

    /** Tells the allocator whether the framework's scheduler is connected (offers go only to those). */
    void frameworkConnected(FrameworkRecord fw, boolean connected) {
        allocator.updateFramework(fw.id, fw.roles(), connected);
    }

    /** A new scheduler instance subscribed: connected, unsuppressed and without DECLINE filters. */
    void frameworkSubscribed(FrameworkRecord fw) {
        allocator.updateFramework(fw.id, fw.roles(), true);
        allocator.revive(fw.id, List.of());
    }

    void frameworkRemoved(FrameworkId id) {
        allocator.removeFramework(id);
    }

    /** A newly admitted agent, with nothing allocated on it. */
    void agentAdded(AgentRecord agent) {
        allocator.addAgent(agent.id, agent.total, agent.offerable());
    }

    /** Adds a (re-)registered agent to the allocator with the resources its live tasks hold. */
    void addToAllocator(AgentRecord agent) {
        allocator.addAgent(agent.id, agent.total, agent.offerable());
        for (Map<io.mezzo.common.id.TaskId, TaskRecord> byId : agent.tasks.values()) {
            for (TaskRecord task : byId.values()) {
                if (!task.resourcesRecovered && frameworks.get(task.framework) != null) {
                    allocator.addAllocation(agent.id, task.framework, task.role, task.resources);
                }
            }
        }
    }

    /** Test aid: the allocator recomputes its sums and compares ({@link DrfAllocator#checkInvariants()}). */
    void checkAllocatorInvariants() {
        allocator.checkInvariants();
    }

    /** The allocator forgets the agent and everything allocated on it (if it knew it). */
    void removeFromAllocator(AgentId id) {
        if (allocator.hasAgent(id)) {
            allocator.removeAgent(id);
        }
    }

    /** Tells the allocator whether the agent may be offered (registered, connected, not draining). */
    void syncOfferable(AgentRecord agent) {
        if (allocator.hasAgent(agent.id)) {
            allocator.setOfferable(agent.id, agent.offerable());
        }
    }

    /** A task's resources are free again (it ended or was lost); unfiltered. */
    void taskResourcesFreed(TaskRecord task) {
        if (allocator.hasAgent(task.agent)) {
            allocator.recover(task.agent, task.framework, task.role, task.resources, 0);
        }
    }

    /** What an ACCEPT did not use goes back, filtered for the framework role until {@code refuseUntil}. */
    void giveBackUnused(AgentId agent, FrameworkId framework, String role, Resources unused, long refuseUntil) {
        allocator.recover(agent, framework, role, unused, refuseUntil);
    }

    /** A RESERVE or UNRESERVE turned {@code from} into {@code to}, allocated to the framework role. */
    void convert(AgentId agent, FrameworkId framework, String role, Resources from, Resources to) {
        allocator.convert(agent, framework, role, from, to);
    }

    // Role settings, held by the allocator (RoleSettingsManager persists them before they apply).

    RoleConfig roleConfigInForce() {
        return allocator.roleConfig();
    }

    void putInForce(RoleConfig next) {
        allocator.setRoleConfig(next);
    }

    Set<String> scalarNames() {
        return allocator.scalarNames();
    }

    /** The scalars of every agent the allocator knows: what guarantees are checked against. */
    Resources clusterTotal() {
        return allocator.clusterTotal();
    }

    List<RoleSummary> roleSummaries() {
        return allocator.roles();
    }
}
