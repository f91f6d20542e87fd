package io.mezzo.master.allocator;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.resources.Resources;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Hierarchical, weighted Dominant Resource Fairness with quota and reservations: decides which
 * framework is offered which resources.
 *
 * <p>Stateful but pure: the master feeds it every change that matters (agents, frameworks, roles
 * subscribed and suppressed, resources allocated and given back, reservations, weights and quotas)
 * and asks it for a full cycle with {@link #allocate(long, long)}, or for an incremental pass over
 * the agents touched since the last one with {@link #allocateTouched(long, long)}, giving the time
 * and a seed. It does no I/O, reads no clock and logs nothing, so a pass is a function of its
 * state, the time and the seed: replaying the same calls replays the same offers. See {@code
 * README.md} in this package and {@code docs/allocation.md} for the algorithm.
 *
 * <p>Owner: {@code OfferManager}. Thread: the master's event loop only (no locks). Illegal calls (a
 * resource given back twice, an unknown agent) throw {@link IllegalStateException} or {@link
 * IllegalArgumentException}, which the loop hands to its fault handler; the allocator is left
 * unchanged by a call that throws, except where noted.
 *
 * <p>This class is the public entry point and runs the cycle. It keeps the frameworks itself and
 * delegates, as Mesos splits its allocator from its sorter: the order of roles and clients to a
 * {@link DrfSorter} (role tree, shares, re-sorting), the quota arithmetic to a {@link
 * QuotaHeadroom} (needs, headroom, limits) and the agents and their free pools to an {@link
 * AgentTable}:
 *
 * <pre>
 *   allocate(now, seed)                full: every offerable agent, in VisitOrder(seed)
 *   allocateTouched(now, seed)         incremental: the touched agents, in the same relative order
 *     (either way, over the agents of the pass:)
 *     stage 1, if any guarantee: for each agent, for each hungry role (sorter.sortHungry())
 *         walk(role) ... tryAllocate, capped by QuotaHeadroom at what the role lacks
 *     stage 2: for each agent: startVisit (enough free?) -> walk(root) in DRF order
 *         tryAllocate(client): candidate = free pools it may use, capUnreserved, min allocatable,
 *                              DECLINE filter -> commit (pools, sorter.allocated, needs, touch)
 *         sorter.applyTouched(): re-sort what got something, O(depth log n) each
 * </pre>
 *
 * <p>Representation: resources live in per-agent {@link Pool}s of {@code long[]} scalar vectors
 * indexed by a {@link ScalarNames} table, one pool per reservation; the general-purpose {@link
 * Resources} type appears only at the edges (calls in, {@link Allocation#resources()} out).
 *
 * <p>Invariants (besides those of {@link DrfSorter}, {@link QuotaHeadroom}, {@link AgentTable},
 * {@link RoleNode} and {@link Pool}):
 *
 * <ol>
 *   <li>An agent's resources are offered at most once: a cycle offers only what is free in its
 *       pools and takes it out at once.
 *   <li>Reserved resources are offered only to clients whose role is the reservation's role or in
 *       its subtree.
 *   <li>Unreserved allocations never take a role's consumed quota (or an ancestor's) above its
 *       limit, nor the unreserved free resources of offerable agents below the headroom the
 *       unsatisfied guarantees need (see {@link QuotaHeadroom#capUnreserved}).
 *   <li>The sorter's total is the sum of all agents' pools.
 *   <li>Every vector (pools, nodes, scratch) is {@code width = names.size()} long.
 *   <li>When {@link #fullCycleReason()} is null, an incremental pass at the time of the last pass
 *       offers exactly what a full cycle with the same seed would: every agent it does not visit
 *       had nothing that any active client could take at its last visit, and nothing since has
 *       made more of it takeable (a client activated, a filter cleared, weights or quotas set,
 *       or, while quota held resources back, the headroom or a limit moved).
 * </ol>
 */
public final class DrfAllocator {

    private final ScalarNames names = new ScalarNames();
    /** Length of every scalar vector: {@code names.size()}. */
    private int width;
    private final MinAllocatable minimum;
    private final DrfSorter sorter;
    private final QuotaHeadroom quota;

    private final AgentTable agents;
    private final Map<FrameworkId, FrameworkEntry> frameworks = new HashMap<>();

    // State of the cycle in progress (loop thread only).
    private long cycle;
    private long now;
    private boolean inCycle;
    private List<Allocation> out;

    /**
     * Why the next pass must be a full cycle; null while an incremental pass offers what a full one
     * would (invariant 6).
     */
    private String fullCycleReason = "no full cycle has run yet";

    // Scratch space for one candidate offer, reused to keep the hot path free of garbage.
    private long[][] candScalars = new long[0][];
    private Resources[] candOther = new Resources[0];
    private boolean[] candHas = new boolean[0];
    private long[] candSum;
    /** The agent being visited has enough unreserved resources free to make an offer on their own. */
    private boolean unreservedWorthy;

    /**
     * An empty allocator.
     *
     * @param minAllocatable offers smaller than all of these alternatives are not made (see {@link
     *     MinAllocatable}); empty for no minimum
     */
    public DrfAllocator(List<Resources> minAllocatable) {
        this.minimum = new MinAllocatable(minAllocatable);
        for (Resources min : minimum.alternatives()) {
            for (String name : min.scalarNames()) {
                names.intern(name);
            }
        }
        this.width = names.size();
        this.sorter = new DrfSorter(width);
        this.quota = new QuotaHeadroom(names, sorter.root, minimum, width);
        this.agents = new AgentTable(quota, width);
        this.candSum = new long[width];
        minimum.rebuild(names, width);
    }

    // ------------------------------------------------------------------------------------------
    // Agents
    // ------------------------------------------------------------------------------------------

    /**
     * Adds an agent with all of {@code total} free. Resources already in use there are added with
     * {@link #addAllocation} afterwards.
     *
     * @param offerable whether cycles may offer it (registered, connected and not draining)
     */
    public void addAgent(AgentId id, Resources total, boolean offerable) {
        if (agents.contains(id)) {
            throw new IllegalStateException("agent " + id + " is already known to the allocator");
        }
        internAll(total); // before the node: a new name grows only the vectors already known
        AgentNode a = new AgentNode(id, width);
        for (Piece piece : split(a, total, true)) {
            Pool p = piece.pool();
            p.total = Arrays.copyOf(piece.scalars(), width);
            p.free = Arrays.copyOf(piece.scalars(), width);
            p.totalOther = piece.other();
            p.freeOther = piece.other();
            sorter.addTotal(p.total, 1);
            if (!p.unreserved()) {
                quota.addReserved(sorter.roleNode(p.role), p.total, 1);
            }
        }
        agents.add(a);
        sorter.totalChanged();
        agents.setOfferable(a, offerable);
        quotaMoved("added agent", id);
    }

    /**
     * Removes an agent. Everything allocated on it must have been given back first ({@link
     * #recover}); otherwise this throws and changes nothing.
     */
    public void removeAgent(AgentId id) {
        AgentNode a = agents.get(id);
        for (Pool p : a.pools) {
            if (!p.allFree(width)) {
                throw new IllegalStateException("agent " + id + " is removed while resources of it are still allocated");
            }
        }
        agents.setOfferable(a, false);
        for (Pool p : a.pools) {
            sorter.addTotal(p.total, -1);
            if (!p.unreserved()) {
                RoleNode r = sorter.roleNode(p.role);
                quota.addReserved(r, p.total, -1);
                sorter.prune(r);
            }
        }
        a.clearRefusals();
        agents.remove(a);
        sorter.totalChanged();
        quotaMoved("removed agent", id);
    }

    /** Whether cycles may offer the agent: false while it is disconnected, draining or in maintenance. */
    public void setOfferable(AgentId id, boolean offerable) {
        AgentNode a = agents.get(id);
        if (offerable && !a.offerable) {
            agents.setOfferable(a, true);
            quotaMoved("made offerable agent", id);
        } else {
            agents.setOfferable(a, offerable);
        }
    }

    public boolean hasAgent(AgentId id) {
        return agents.contains(id);
    }

    // ------------------------------------------------------------------------------------------
    // Frameworks
    // ------------------------------------------------------------------------------------------

    /**
     * Adds a framework or updates its roles and connection. A connected framework is offered
     * resources in each of its roles it has not suppressed. A role it leaves keeps its allocations
     * until they are given back.
     */
    public void updateFramework(FrameworkId id, Collection<String> roles, boolean connected) {
        FrameworkEntry fe = frameworks.computeIfAbsent(id, FrameworkEntry::new);
        fe.update(roles, connected);
        for (String role : fe.roles) {
            sorter.client(fe, role);
        }
        if (sorter.sync(fe)) {
            needFullCycle("framework " + id + " wants offers in a new role or reconnected");
        }
    }

    /**
     * Removes a framework. Everything allocated to it must have been given back first; otherwise its
     * allocations are dropped from the role shares (the agents keep them allocated) and this throws.
     */
    public void removeFramework(FrameworkId id) {
        FrameworkEntry fe = frameworks.remove(id);
        if (fe == null) {
            return;
        }
        fe.removed = true;
        List<String> holding = new ArrayList<>();
        for (FrameworkRoleNode c : List.copyOf(fe.clients.values())) {
            if (!Vectors.isZero(c.allocated, width)) {
                holding.add(c.role.path);
                sorter.allocated(c, c.allocated.clone(), false, -1);
                repositionChain(c);
            }
            sorter.removeClient(c);
        }
        if (!holding.isEmpty()) {
            throw new IllegalStateException("framework " + id + " is removed while holding resources in roles " + holding);
        }
    }

    /** Stops offers to the framework in these roles (empty: all of its roles) until {@link #revive}. */
    public void suppress(FrameworkId id, Collection<String> roles) {
        FrameworkEntry fe = framework(id);
        fe.suppress(roles);
        sorter.sync(fe);
    }

    /**
     * Resumes offers to the framework in these roles (empty: all of its roles) and clears its
     * DECLINE filters in them.
     */
    public void revive(FrameworkId id, Collection<String> roles) {
        FrameworkEntry fe = framework(id);
        fe.revive(roles);
        sorter.sync(fe);
        needFullCycle("framework " + id + " revived");
    }

    // ------------------------------------------------------------------------------------------
    // Allocations outside cycles
    // ------------------------------------------------------------------------------------------

    /**
     * Gives back resources allocated to a framework's role on an agent: a declined, rescinded or
     * unused offer, or the resources of a task that ended.
     *
     * @param refuseUntilMillis when positive, the framework is not offered these resources (or any
     *     part of them) in this role on this agent until this clock time: a DECLINE filter
     * @throws IllegalStateException when more is given back than is allocated
     */
    public void recover(AgentId agentId, FrameworkId frameworkId, String role, Resources resources,
            long refuseUntilMillis) {
        AgentNode a = agents.get(agentId);
        FrameworkRoleNode c = existingClient(frameworkId, role);
        List<Piece> pieces = split(a, resources, false);
        for (Piece piece : pieces) {
            long[] s = piece.scalars();
            for (int r = 0; r < width; r++) {
                if (s[r] > 0 && (piece.pool().free[r] + s[r] > piece.pool().total[r] || c.allocated[r] < s[r])) {
                    throw new IllegalStateException("recovering " + resources + " on agent " + agentId + " for "
                            + frameworkId + "/" + role + ": more " + names.name(r) + " than is allocated");
                }
            }
        }
        boolean unreserved = false;
        for (Piece piece : pieces) {
            Pool pool = piece.pool();
            agents.changeFree(a, pool, piece.scalars(), 1);
            if (!piece.other().isEmpty()) {
                pool.freeOther = pool.freeOther.plus(piece.other()).intersection(pool.totalOther);
            }
            sorter.allocated(c, piece.scalars(), pool.unreserved(), -1);
            unreserved |= pool.unreserved();
        }
        if (unreserved) {
            quota.refreshNeeds(c.role);
            quotaMoved("unreserved resources given back on agent", agentId);
        }
        repositionChain(c);
        if (refuseUntilMillis > 0 && !pieces.isEmpty()) {
            a.refuse(c, pieces, refuseUntilMillis, width);
        }
        agents.touch(a);
        sorter.dropIfUnused(c);
    }

    /**
     * Records resources a framework's role already holds on an agent, outside any offer: the tasks
     * an agent reports when it re-registers. An agent that reports more in use than it has is
     * over-committed: nothing of the scalars it lacks is offered until enough is given back.
     */
    public void addAllocation(AgentId agentId, FrameworkId frameworkId, String role, Resources resources) {
        AgentNode a = agents.get(agentId);
        FrameworkEntry fe = framework(frameworkId);
        internAll(resources);
        FrameworkRoleNode c = sorter.client(fe, role);
        boolean unreserved = false;
        for (Piece piece : split(a, resources, true)) {
            Pool pool = piece.pool();
            agents.changeFree(a, pool, piece.scalars(), -1);
            pool.freeOther = pool.freeOther.minusPresent(piece.other());
            sorter.allocated(c, piece.scalars(), pool.unreserved(), 1);
            unreserved |= pool.unreserved();
        }
        if (unreserved) {
            quota.refreshNeeds(c.role);
        }
        quotaMoved("an allocation added on agent", agentId);
        repositionChain(c);
    }

    /**
     * Changes the reservation of resources a framework's role holds on an agent (an accepted
     * RESERVE or UNRESERVE): {@code from} leaves the agent's pools and {@code to} joins them, both
     * still allocated to the role. The names and amounts must match.
     */
    public void convert(AgentId agentId, FrameworkId frameworkId, String role, Resources from, Resources to) {
        AgentNode a = agents.get(agentId);
        FrameworkRoleNode c = existingClient(frameworkId, role);
        internAll(to);
        List<Piece> gone = split(a, from, false);
        for (Piece piece : gone) {
            Pool pool = piece.pool();
            for (int r = 0; r < width; r++) {
                if (piece.scalars()[r] > pool.total[r] - pool.free[r]) {
                    throw new IllegalStateException("converting " + from + " on agent " + agentId + ": more "
                            + names.name(r) + " than is allocated there");
                }
            }
            if (!pool.totalOther.contains(piece.other())) {
                throw new IllegalStateException("converting " + from + " on agent " + agentId + ": it does not have "
                        + piece.other());
            }
        }
        List<Piece> made = split(a, to, true);
        long[] net = new long[width];
        moveReservation(c, gone, net, -1);
        moveReservation(c, made, net, 1);
        if (!Vectors.isZero(net, width)) {
            sorter.addTotal(net, 1);
            sorter.totalChanged();
        }
        quota.refreshNeeds(c.role);
        quotaMoved("a reservation changed on agent", agentId);
        repositionChain(c);
        for (Piece piece : gone) {
            if (!piece.pool().unreserved()) {
                sorter.prune(sorter.roleNode(piece.pool().role));
            }
        }
    }

    /** Half of {@link #convert}: pieces leave ({@code sign} -1) or join (1) their pools' totals. */
    private void moveReservation(FrameworkRoleNode c, List<Piece> pieces, long[] net, int sign) {
        for (Piece piece : pieces) {
            Pool pool = piece.pool();
            Vectors.addSigned(pool.total, piece.scalars(), sign, width);
            Vectors.addSigned(net, piece.scalars(), sign, width);
            pool.totalOther = sign > 0 ? pool.totalOther.plus(piece.other()) : pool.totalOther.minus(piece.other());
            sorter.allocated(c, piece.scalars(), pool.unreserved(), sign);
            if (!pool.unreserved()) {
                quota.addReserved(sorter.roleNode(pool.role), piece.scalars(), sign);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Weights and quotas
    // ------------------------------------------------------------------------------------------

    /** Applies a validated configuration of weights and quotas. */
    public void setRoleConfig(RoleConfig next) {
        for (Quota q : next.quotas().values()) {
            q.guarantees().keySet().forEach(this::intern);
            q.limits().keySet().forEach(this::intern);
        }
        RoleConfig old = sorter.config();
        sorter.setConfig(next);
        Set<String> mentioned = new LinkedHashSet<>(next.weights().keySet());
        mentioned.addAll(next.quotas().keySet());
        mentioned.addAll(old.weights().keySet());
        mentioned.addAll(old.quotas().keySet());
        for (String path : mentioned) {
            RoleNode n = sorter.roleNode(path);
            n.weight = next.weight(path);
            quota.setQuota(n, next.quota(path));
            sorter.reposition(n);
            sorter.reposition(n.own);
        }
        quota.rescan(sorter.roles());
        for (String path : mentioned) {
            RoleNode n = sorter.role(path);
            if (n != null) {
                sorter.prune(n);
            }
        }
        needFullCycle("weights or quotas changed");
    }

    public RoleConfig roleConfig() {
        return sorter.config();
    }

    // ------------------------------------------------------------------------------------------
    // The cycle
    // ------------------------------------------------------------------------------------------

    /**
     * Runs one full allocation cycle: visits every offerable agent once per stage, in the order
     * {@code seed} gives them ({@link VisitOrder}), and offers its free resources to the clients in
     * DRF order. Stage 1 serves roles below their quota guarantee, up to it; stage 2 serves everyone.
     * The resources offered are allocated to their clients when this returns.
     *
     * @param nowMillis the clock, for DECLINE filters
     * @param seed seeds the order of the agents; log it to replay the cycle
     */
    public List<Allocation> allocate(long nowMillis, long seed) {
        return allocate(nowMillis, seed, Integer.MAX_VALUE);
    }

    /**
     * A full cycle that stops visiting agents once it made {@code maxAllocations} allocations
     * (the master's admission control paces offers); the agents it did not visit keep their free
     * resources, and the next pass is a full cycle ({@link #fullCycleReason()}).
     */
    public List<Allocation> allocate(long nowMillis, long seed, int maxAllocations) {
        fullCycleReason = null;
        quota.resetHeldBack();
        begin(nowMillis);
        if (!sorter.anyActive() || agents.offerableCount() == 0) {
            // Everyone suppressed or disconnected, or nothing to offer: nothing to sort or visit,
            // and nothing held back that a later change could free without a full cycle.
            agents.clearTouched();
            return end();
        }
        sorter.resortIfTotalChanged();
        return run(agents.inOrder(seed), maxAllocations);
    }

    /**
     * Runs an incremental pass: the stages of {@link #allocate(long, long)} over only the agents
     * touched since the last pass (resources given back on them, or added, or made offerable), in
     * the order a full cycle with {@code seed} would visit them. Its cost is proportional to those
     * agents and the clients their walk looks at, not to the cluster. While {@link
     * #fullCycleReason()} is null it offers exactly what a full cycle would; otherwise it offers a
     * subset of what it could (never anything a full cycle could not), and the caller should run
     * a full cycle.
     */
    public List<Allocation> allocateTouched(long nowMillis, long seed) {
        return allocateTouched(nowMillis, seed, Integer.MAX_VALUE);
    }

    /** An incremental pass that stops at {@code maxAllocations}, as {@link #allocate(long, long, int)} does. */
    public List<Allocation> allocateTouched(long nowMillis, long seed, int maxAllocations) {
        begin(nowMillis);
        if (!sorter.anyActive() || agents.offerableCount() == 0) {
            agents.clearTouched();
            return end();
        }
        sorter.resortIfTotalChanged();
        return run(agents.touchedInOrder(seed), maxAllocations);
    }

    /** How many agents the next incremental pass would visit (at most). */
    public int touchedAgents() {
        return agents.touchedCount();
    }

    /** How many agents cycles may offer. */
    public int offerableAgents() {
        return agents.offerableCount();
    }

    /**
     * Why the next pass should be a full cycle (for the caller's choice and its logs); null when an
     * incremental pass over the touched agents offers exactly what a full cycle would.
     */
    public String fullCycleReason() {
        return fullCycleReason;
    }

    private void begin(long nowMillis) {
        cycle++;
        now = nowMillis;
        out = new ArrayList<>();
    }

    private List<Allocation> end() {
        List<Allocation> result = out;
        out = null;
        return result;
    }

    /** Both stages over the agents of a pass, in their order. */
    private List<Allocation> run(AgentNode[] order, int maxAllocations) {
        inCycle = true;
        try {
            if (quota.anyGuarantee()) {
                stageOne(order);
            }
            for (AgentNode a : order) {
                if (out.size() >= maxAllocations) {
                    // Paced: the agents not visited were un-touched with the rest; only a full cycle sees them.
                    needFullCycle("the last pass stopped at " + maxAllocations + " offers");
                    break;
                }
                if (startVisit(a, false)) {
                    walk(sorter.root, a, null);
                    sorter.applyTouched();
                }
            }
        } finally {
            inCycle = false;
            sorter.clearTouched();
        }
        return end();
    }

    /** Something may have become offerable on agents an incremental pass would not visit. */
    private void needFullCycle(String reason) {
        if (fullCycleReason == null) {
            fullCycleReason = reason;
        }
    }

    /**
     * The headroom, a need or a limit's room may have moved: if quota held resources back since
     * the last full cycle, some of them may be offerable now, on any agent.
     */
    private void quotaMoved(String what, AgentId agent) {
        if (quota.heldBack() && fullCycleReason == null) {
            // Built only here: the common case (nothing held back) makes no garbage.
            fullCycleReason = what + " " + agent + " while quota held resources back";
        }
    }

    /** Stage 1: roles below their guarantee, lowest share first, get unreserved resources up to it. */
    private void stageOne(AgentNode[] order) {
        TreeSet<SortNode> hungry = sorter.sortHungry();
        try {
            for (AgentNode a : order) {
                if (hungry.isEmpty()) {
                    break;
                }
                if (!startVisit(a, true)) {
                    continue;
                }
                for (SortNode h : hungry) {
                    RoleNode role = (RoleNode) h;
                    if (role.isHungry(width) && walk(role, a, role)) {
                        break;
                    }
                }
                sorter.applyTouched();
            }
        } finally {
            sorter.dropHungry();
        }
    }

    /**
     * Offers agent {@code a} to the active clients under {@code node}, in DRF order. In stage 1
     * ({@code hungry != null}) only unreserved resources, capped at the hungry role's guarantee, are
     * offered. Returns true when the agent has nothing left for this stage.
     */
    private boolean walk(RoleNode node, AgentNode a, RoleNode hungry) {
        for (SortNode child : node.active) {
            if (child instanceof OwnLeaf leaf) {
                for (SortNode c : leaf.active) {
                    if (tryAllocate((FrameworkRoleNode) c, a, hungry) && !startVisit(a, hungry != null)) {
                        return true;
                    }
                }
            } else {
                RoleNode r = (RoleNode) child;
                if (mayUse(r, a, hungry) && walk(r, a, hungry)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Looks at what is free on the agent for this stage: false when nothing worth an offer is left
     * (no scalar, or less than the minimum allocatable in total), so that slivers and ports alone
     * never make a cycle walk every client. Sets {@link #unreservedWorthy} for {@link #mayUse}.
     */
    private boolean startVisit(AgentNode a, boolean stageOne) {
        Arrays.fill(candSum, 0, width, 0);
        Pool u = a.pools[0];
        boolean any = addPositive(candSum, u.free);
        unreservedWorthy = any && minimum.metBy(candSum, width);
        if (stageOne) {
            return unreservedWorthy;
        }
        for (int p = 1; p < a.pools.length; p++) {
            any |= addPositive(candSum, a.pools[p].free);
        }
        return any && minimum.metBy(candSum, width);
    }

    private boolean addPositive(long[] into, long[] free) {
        boolean any = false;
        for (int r = 0; r < width; r++) {
            if (free[r] > 0) {
                into[r] += free[r];
                any = true;
            }
        }
        return any;
    }

    /** Whether anything left on the agent could go to the subtree of {@code r}. */
    private boolean mayUse(RoleNode r, AgentNode a, RoleNode hungry) {
        if (unreservedWorthy && (r.limit == null || !quota.limitBlocks(r))) {
            return true;
        }
        if (hungry != null) {
            return false;
        }
        for (int p = 1; p < a.pools.length; p++) {
            Pool pool = a.pools[p];
            if ((isSubrole(r.path, pool.role) || isSubrole(pool.role, r.path)) && pool.hasFree(width)) {
                return true;
            }
        }
        return false;
    }

    /** Offers the client what it may take of the agent, if that is worth an offer and not filtered. */
    private boolean tryAllocate(FrameworkRoleNode c, AgentNode a, RoleNode hungry) {
        Pool[] pools = a.pools;
        if (candHas.length < pools.length) {
            growScratch(pools.length);
        }
        boolean any = false;
        Arrays.fill(candSum, 0, width, 0);
        for (int p = 0; p < pools.length; p++) {
            Pool pool = pools[p];
            candHas[p] = false;
            long[] cs = candScalars[p];
            if (p == 0) {
                boolean positive = false;
                for (int r = 0; r < width; r++) {
                    long f = pool.free[r];
                    cs[r] = f > 0 ? f : 0;
                    positive |= f > 0;
                }
                if (positive && (quota.anyGuarantee() || quota.anyLimit() || hungry != null)) {
                    positive = quota.capUnreserved(c, hungry, cs);
                }
                if (!positive) {
                    continue;
                }
            } else if (hungry != null || !isSubrole(c.role.path, pool.role) || !pool.hasFree(width)) {
                continue;
            } else {
                for (int r = 0; r < width; r++) {
                    long f = pool.free[r];
                    cs[r] = f > 0 ? f : 0;
                }
            }
            candHas[p] = true;
            candOther[p] = pool.freeOther;
            Vectors.add(candSum, cs, width);
            any = true;
        }
        if (!any || !minimum.metBy(candSum, width)) {
            return false;
        }
        if (a.refusals != null && a.refuses(c, candHas, candScalars, candOther, width, now)) {
            return false;
        }
        commit(c, a);
        return true;
    }

    /** Allocates the current candidate to the client; its sort position is updated after the agent. */
    private void commit(FrameworkRoleNode c, AgentNode a) {
        Allocation allocation = allocationFor(c, a);
        boolean unreserved = false;
        for (int p = 0; p < a.pools.length; p++) {
            if (!candHas[p]) {
                continue;
            }
            Pool pool = a.pools[p];
            long[] take = Arrays.copyOf(candScalars[p], width);
            agents.changeFree(a, pool, take, -1);
            Resources other = candOther[p];
            if (!other.isEmpty()) {
                pool.freeOther = Resources.EMPTY;
            }
            allocation.add(new Piece(pool, take, other), width);
            sorter.allocated(c, take, pool.unreserved(), 1);
            unreserved |= pool.unreserved();
        }
        if (unreserved) {
            quota.refreshNeeds(c.role);
        }
        sorter.touch(c);
    }

    /** The client's allocation on this agent in this cycle, so that stage 1 and 2 make one offer. */
    private Allocation allocationFor(FrameworkRoleNode c, AgentNode a) {
        if (a.cycle != cycle) {
            a.cycle = cycle;
            a.cycleAllocations.clear();
        }
        for (Allocation x : a.cycleAllocations) {
            if (x.framework().equals(c.framework.id) && x.role().equals(c.role.path)) {
                return x;
            }
        }
        Allocation x = new Allocation(c.framework.id, c.role.path, a.id, names);
        a.cycleAllocations.add(x);
        out.add(x);
        return x;
    }

    // ------------------------------------------------------------------------------------------
    // Bookkeeping
    // ------------------------------------------------------------------------------------------

    /** Re-sorts a client and its chain after a change outside a cycle. */
    private void repositionChain(FrameworkRoleNode c) {
        if (inCycle) {
            throw new IllegalStateException("the allocator was called back during a cycle");
        }
        sorter.repositionChain(c);
    }

    private FrameworkRoleNode existingClient(FrameworkId id, String role) {
        FrameworkEntry fe = framework(id);
        FrameworkRoleNode c = fe.clients.get(role);
        if (c == null) {
            throw new IllegalStateException("framework " + id + " holds nothing in role " + role);
        }
        return c;
    }

    private FrameworkEntry framework(FrameworkId id) {
        FrameworkEntry fe = frameworks.get(id);
        if (fe == null) {
            throw new IllegalStateException("framework " + id + " is not known to the allocator");
        }
        return fe;
    }

    /** True when {@code role} is {@code ancestor} or in its subtree; no garbage, unlike string concatenation. */
    static boolean isSubrole(String role, String ancestor) {
        int n = ancestor.length();
        return role.startsWith(ancestor) && (role.length() == n || role.charAt(n) == '/');
    }

    // ------------------------------------------------------------------------------------------
    // Scalar names and vectors
    // ------------------------------------------------------------------------------------------

    /** Splits a bag into one piece per reservation of the agent's pools, interning new names first. */
    private List<Piece> split(AgentNode a, Resources bag, boolean create) {
        internAll(bag);
        return a.split(bag, names, width, create);
    }

    private void internAll(Resources bag) {
        for (String name : bag.scalarNames()) {
            intern(name);
        }
    }

    private void intern(String name) {
        names.intern(name);
        if (names.size() != width) {
            growAll(names.size());
        }
    }

    /** A new scalar name appeared (rare: a custom resource): every vector grows by one. */
    private void growAll(int w) {
        width = w;
        sorter.grow(w);
        quota.grow(w);
        candSum = Vectors.grow(candSum, w);
        for (int i = 0; i < candScalars.length; i++) {
            candScalars[i] = Vectors.grow(candScalars[i], w);
        }
        agents.grow(w);
        minimum.rebuild(names, w);
    }

    private void growScratch(int pools) {
        candScalars = Arrays.copyOf(candScalars, pools);
        for (int i = 0; i < pools; i++) {
            if (candScalars[i] == null || candScalars[i].length < width) {
                candScalars[i] = new long[width];
            }
        }
        candOther = Arrays.copyOf(candOther, pools);
        candHas = Arrays.copyOf(candHas, pools);
    }

    // ------------------------------------------------------------------------------------------
    // Views (operator API, tests)
    // ------------------------------------------------------------------------------------------

    /** Every role the allocator knows (with frameworks, reservations, settings or children), by path. */
    public List<RoleSummary> roles() {
        return sorter.summaries(names);
    }

    /** Scalar resource names quotas may name: the standard ones and any an agent has offered. */
    public Set<String> scalarNames() {
        Set<String> out = new TreeSet<>(ScalarNames.STANDARD);
        long[] total = sorter.total();
        for (int i = 0; i < width; i++) {
            if (total[i] > 0) {
                out.add(names.name(i));
            }
        }
        return out;
    }

    /**
     * The cluster's total: the scalars of every agent the allocator knows (registered, draining
     * and disconnected ones included; reserved resources included), the denominator of shares.
     */
    public Resources clusterTotal() {
        return names.toResources(sorter.total(), width);
    }

    /** What is free on an agent (its pools' free resources, positive parts). Tests. */
    Resources free(AgentId id) {
        return agents.get(id).free(names, width);
    }

    /** Roles below their guarantee headroom: the headroom unmet guarantees need, as scalars. Tests. */
    Resources requiredHeadroom() {
        return names.toResources(quota.required(), width);
    }

    /**
     * Recomputes every derived sum from scratch and compares: a test aid (O(everything)).
     *
     * @throws IllegalStateException naming the first difference
     */
    public void checkInvariants() {
        long[] sum = new long[width];
        long[] head = new long[width];
        Map<String, long[]> reservedByRole = new HashMap<>();
        agents.checkInvariants(sorter, sum, head, reservedByRole);
        check(Arrays.equals(sum, Arrays.copyOf(sorter.total(), width)), "cluster total out of step");
        quota.checkAvailable(head);
        sorter.checkInvariants(reservedByRole);
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("allocator invariant broken: " + what);
        }
    }

    /** For logs and tests: agents, offerable agents, roles, frameworks. */
    @Override
    public String toString() {
        return "DrfAllocator{" + agents.size() + " agents (" + agents.offerableCount() + " offerable), "
                + sorter.roleCount() + " roles, " + frameworks.size() + " frameworks}";
    }
}
