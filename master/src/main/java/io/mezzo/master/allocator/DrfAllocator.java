package io.mezzo.master.allocator;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.ReservationInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * Hierarchical, weighted Dominant Resource Fairness with quota and reservations: decides which
 * framework is offered which resources.
 *
 * <p>Stateful but pure: the master feeds it every change that matters (agents, frameworks, roles
 * subscribed and suppressed, resources allocated and given back, reservations, weights and quotas)
 * and asks it for a cycle with {@link #allocate(long, long)}, giving the time and a seed. It does
 * no I/O, reads no clock and logs nothing, so a cycle is a function of its state, the time and the
 * seed: replaying the same calls replays the same offers. See {@code README.md} in this package and
 * {@code docs/allocation.md} for the algorithm.
 *
 * <p>Owner: {@code MasterCore}. Thread: the master's event loop only (no locks). Illegal calls (a
 * resource given back twice, an unknown agent) throw {@link IllegalStateException} or {@link
 * IllegalArgumentException}, which the loop hands to its fault handler; the allocator is left
 * unchanged by a call that throws, except where noted.
 *
 * <p>Representation: resources live in per-agent {@link Pool}s of {@code long[]} scalar vectors
 * indexed by a {@link ScalarNames} table, one pool per reservation; the general-purpose {@link
 * Resources} type appears only at the edges (calls in, {@link Allocation#resources()} out). Roles
 * form a tree of {@link RoleNode}s whose children are kept in DRF order in {@link TreeSet}s; an
 * allocation or a recovery re-sorts the client and its ancestors, O(depth log n), and no cycle
 * re-sorts everything unless the cluster's total changed (an agent came or went) since the last.
 *
 * <p>Invariants (besides those of {@link RoleNode} and {@link Pool}):
 *
 * <ol>
 *   <li>An agent's resources are offered at most once: a cycle offers only what is free in its
 *       pools and takes it out at once.
 *   <li>Reserved resources are offered only to clients whose role is the reservation's role or in
 *       its subtree.
 *   <li>Unreserved allocations never take a role's consumed quota (or an ancestor's) above its
 *       limit, nor the unreserved free resources of offerable agents below the headroom the
 *       unsatisfied guarantees need (see {@link #capUnreserved}).
 *   <li>{@code total} is the sum of all agents' pools; {@code availHeadroom} the sum of the positive
 *       unreserved free scalars of offerable agents.
 * </ol>
 */
public final class DrfAllocator {

    private final ScalarNames names = new ScalarNames();
    /** Length of every scalar vector: {@code names.size()}. */
    private int width;
    private final List<Resources> minAllocatableBags;
    /** Minimum allocatable alternatives as vectors. */
    private long[][] minAllocatable;

    /** Sum of every agent's pools: the denominator of shares. */
    private long[] total;
    private double[] invTotal;
    /** The total changed since shares were last computed; the next cycle re-sorts everything once. */
    private boolean sharesDirty;
    /** Positive unreserved free scalars summed over offerable agents. */
    private long[] availHeadroom;
    private boolean anyGuarantee;
    private boolean anyLimit;

    private final Map<AgentId, AgentNode> agents = new HashMap<>();
    /** Offerable agents; a cycle visits them in an order shuffled from this one. */
    private final ArrayList<AgentNode> offerable = new ArrayList<>();
    private final RoleNode root;
    private final Map<String, RoleNode> roles = new HashMap<>();
    private final Map<FrameworkId, FrameworkEntry> frameworks = new HashMap<>();
    private RoleConfig config = RoleConfig.EMPTY;

    // State of the cycle in progress (loop thread only).
    private long cycle;
    private long now;
    private long stamp;
    private boolean inCycle;
    private final ArrayList<SortNode> touched = new ArrayList<>();
    private TreeSet<SortNode> hungry;
    private List<Allocation> out;

    // Scratch space for one candidate offer, reused to keep the hot path free of garbage.
    private long[][] candScalars = new long[0][];
    private Resources[] candOther = new Resources[0];
    private boolean[] candHas = new boolean[0];
    private long[] candSum;
    private long[] absorb;
    /** The agent being visited has enough unreserved resources free to make an offer on their own. */
    private boolean unreservedWorthy;

    /**
     * An empty allocator.
     *
     * @param minAllocatable offers smaller than all of these alternatives are not made (see {@link
     *     MinAllocatable}); empty for no minimum
     */
    public DrfAllocator(List<Resources> minAllocatable) {
        this.minAllocatableBags = List.copyOf(minAllocatable);
        this.width = names.size();
        this.root = new RoleNode(null, "", width);
        this.total = new long[width];
        this.invTotal = new double[width];
        this.availHeadroom = new long[width];
        this.candSum = new long[width];
        this.absorb = new long[width];
        for (Resources min : minAllocatableBags) {
            internAll(min);
        }
        buildMinAllocatable();
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
        if (agents.containsKey(id)) {
            throw new IllegalStateException("agent " + id + " is already known to the allocator");
        }
        internAll(total);
        AgentNode a = new AgentNode(id, width);
        for (Piece piece : split(a, total, true)) {
            Pool p = piece.pool();
            p.total = Arrays.copyOf(piece.scalars(), width);
            p.free = Arrays.copyOf(piece.scalars(), width);
            p.totalOther = piece.other();
            p.freeOther = piece.other();
            Vectors.add(this.total, p.total, width);
            if (!p.unreserved()) {
                addReserved(roleNode(p.role), p.total, 1);
            }
        }
        agents.put(id, a);
        sharesDirty = true;
        setOfferable(a, offerable);
    }

    /**
     * Removes an agent. Everything allocated on it must have been given back first ({@link
     * #recover}); otherwise this throws and changes nothing.
     */
    public void removeAgent(AgentId id) {
        AgentNode a = agent(id);
        for (Pool p : a.pools) {
            if (!p.allFree(width)) {
                throw new IllegalStateException("agent " + id + " is removed while resources of it are still allocated");
            }
        }
        setOfferable(a, false);
        for (Pool p : a.pools) {
            Vectors.subtract(total, p.total, width);
            if (!p.unreserved()) {
                RoleNode r = roleNode(p.role);
                addReserved(r, p.total, -1);
                prune(r);
            }
        }
        if (a.refusals != null) {
            a.refusals.keySet().forEach(c -> c.refusedOn.remove(a));
            a.refusals = null;
        }
        agents.remove(id);
        sharesDirty = true;
    }

    /** Whether cycles may offer the agent: false while it is disconnected, draining or in maintenance. */
    public void setOfferable(AgentId id, boolean offerable) {
        setOfferable(agent(id), offerable);
    }

    public boolean hasAgent(AgentId id) {
        return agents.containsKey(id);
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
        if (fe.connected && !connected) {
            // A scheduler that comes back is a new instance: it does not remember what it declined.
            fe.clients.values().forEach(this::clearRefusals);
        }
        fe.connected = connected;
        fe.roles = new LinkedHashSet<>(roles);
        fe.suppressed.retainAll(fe.roles);
        for (String role : fe.roles) {
            client(fe, role);
        }
        syncClients(fe);
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
        List<String> holding = new ArrayList<>();
        for (FrameworkRoleNode c : List.copyOf(fe.clients.values())) {
            if (!Vectors.isZero(c.allocated, width)) {
                holding.add(c.role.path);
                addAllocated(c, c.allocated.clone(), false, -1);
                repositionChain(c);
            }
            removeClient(c);
        }
        if (!holding.isEmpty()) {
            throw new IllegalStateException("framework " + id + " is removed while holding resources in roles " + holding);
        }
    }

    /** Stops offers to the framework in these roles (empty: all of its roles) until {@link #revive}. */
    public void suppress(FrameworkId id, Collection<String> roles) {
        FrameworkEntry fe = framework(id);
        fe.suppressed.addAll(roles.isEmpty() ? fe.roles : roles);
        fe.suppressed.retainAll(fe.roles);
        syncClients(fe);
    }

    /**
     * Resumes offers to the framework in these roles (empty: all of its roles) and clears its
     * DECLINE filters in them.
     */
    public void revive(FrameworkId id, Collection<String> roles) {
        FrameworkEntry fe = framework(id);
        Collection<String> which = roles.isEmpty() ? fe.roles : roles;
        fe.suppressed.removeAll(which);
        for (String role : which) {
            FrameworkRoleNode c = fe.clients.get(role);
            if (c != null) {
                clearRefusals(c);
            }
        }
        syncClients(fe);
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
        AgentNode a = agent(agentId);
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
            for (int r = 0; r < width; r++) {
                if (piece.scalars()[r] != 0) {
                    changeFree(a, pool, r, piece.scalars()[r]);
                }
            }
            if (!piece.other().isEmpty()) {
                pool.freeOther = pool.freeOther.plus(piece.other()).intersection(pool.totalOther);
            }
            addAllocated(c, piece.scalars(), pool.unreserved(), -1);
            unreserved |= pool.unreserved();
        }
        if (unreserved) {
            refreshNeeds(c.role);
        }
        repositionChain(c);
        if (refuseUntilMillis > 0 && !pieces.isEmpty()) {
            addRefusal(c, a, pieces, refuseUntilMillis);
        }
        dropIfUnused(c);
    }

    /**
     * Records resources a framework's role already holds on an agent, outside any offer: the tasks
     * an agent reports when it re-registers. An agent that reports more in use than it has is
     * over-committed: nothing of the scalars it lacks is offered until enough is given back.
     */
    public void addAllocation(AgentId agentId, FrameworkId frameworkId, String role, Resources resources) {
        AgentNode a = agent(agentId);
        FrameworkEntry fe = framework(frameworkId);
        internAll(resources);
        FrameworkRoleNode c = client(fe, role);
        boolean unreserved = false;
        for (Piece piece : split(a, resources, true)) {
            Pool pool = piece.pool();
            for (int r = 0; r < width; r++) {
                if (piece.scalars()[r] != 0) {
                    changeFree(a, pool, r, -piece.scalars()[r]);
                }
            }
            pool.freeOther = pool.freeOther.minusPresent(piece.other());
            addAllocated(c, piece.scalars(), pool.unreserved(), 1);
            unreserved |= pool.unreserved();
        }
        if (unreserved) {
            refreshNeeds(c.role);
        }
        repositionChain(c);
    }

    /**
     * Changes the reservation of resources a framework's role holds on an agent (an accepted
     * RESERVE or UNRESERVE): {@code from} leaves the agent's pools and {@code to} joins them, both
     * still allocated to the role. The names and amounts must match.
     */
    public void convert(AgentId agentId, FrameworkId frameworkId, String role, Resources from, Resources to) {
        AgentNode a = agent(agentId);
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
        for (Piece piece : gone) {
            Pool pool = piece.pool();
            Vectors.subtract(pool.total, piece.scalars(), width);
            Vectors.subtract(net, piece.scalars(), width);
            pool.totalOther = pool.totalOther.minus(piece.other());
            addAllocated(c, piece.scalars(), pool.unreserved(), -1);
            if (!pool.unreserved()) {
                addReserved(roleNode(pool.role), piece.scalars(), -1);
            }
        }
        for (Piece piece : made) {
            Pool pool = piece.pool();
            Vectors.add(pool.total, piece.scalars(), width);
            Vectors.add(net, piece.scalars(), width);
            pool.totalOther = pool.totalOther.plus(piece.other());
            addAllocated(c, piece.scalars(), pool.unreserved(), 1);
            if (!pool.unreserved()) {
                addReserved(roleNode(pool.role), piece.scalars(), 1);
            }
        }
        if (!Vectors.isZero(net, width)) {
            Vectors.add(total, net, width);
            sharesDirty = true;
        }
        refreshNeeds(c.role);
        repositionChain(c);
        for (Piece piece : gone) {
            if (!piece.pool().unreserved()) {
                prune(roleNode(piece.pool().role));
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
        RoleConfig old = config;
        config = next;
        Set<String> mentioned = new LinkedHashSet<>(next.weights().keySet());
        mentioned.addAll(next.quotas().keySet());
        mentioned.addAll(old.weights().keySet());
        mentioned.addAll(old.quotas().keySet());
        for (String path : mentioned) {
            RoleNode n = roleNode(path);
            n.weight = next.weight(path);
            Quota q = next.quota(path);
            n.guarantee = null;
            n.limit = null;
            if (!q.guarantees().isEmpty()) {
                n.guarantee = new long[width];
                q.guarantees().forEach((name, v) -> n.guarantee[names.indexOf(name)] = v);
            }
            if (!q.limits().isEmpty()) {
                n.limit = new long[width];
                Arrays.fill(n.limit, Long.MAX_VALUE);
                q.limits().forEach((name, v) -> n.limit[names.indexOf(name)] = v);
            }
            reposition(n);
            reposition(n.own);
        }
        anyGuarantee = false;
        anyLimit = false;
        for (RoleNode n : roles.values()) {
            anyGuarantee |= n.guarantee != null;
            anyLimit |= n.limit != null;
        }
        recomputeNeeds();
        for (String path : mentioned) {
            RoleNode n = roles.get(path);
            if (n != null) {
                prune(n);
            }
        }
    }

    public RoleConfig roleConfig() {
        return config;
    }

    // ------------------------------------------------------------------------------------------
    // The cycle
    // ------------------------------------------------------------------------------------------

    /**
     * Runs one allocation cycle: visits every offerable agent once per stage, in an order shuffled
     * by {@code seed}, and offers its free resources to the clients in DRF order. Stage 1 serves
     * roles below their quota guarantee, up to it; stage 2 serves everyone. The resources offered
     * are allocated to their clients when this returns.
     *
     * @param nowMillis the clock, for DECLINE filters
     * @param seed seeds the shuffle of the agents; log it to replay the cycle
     */
    public List<Allocation> allocate(long nowMillis, long seed) {
        cycle++;
        now = nowMillis;
        out = new ArrayList<>();
        if (root.activeClients == 0 || offerable.isEmpty()) {
            // Everyone suppressed or disconnected, or nothing to offer: nothing to sort or visit.
            return out;
        }
        if (sharesDirty) {
            resortAll();
        }
        AgentNode[] order = offerable.toArray(new AgentNode[0]);
        Random random = new Random(seed);
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            AgentNode t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        inCycle = true;
        try {
            if (anyGuarantee) {
                stageOne(order);
            }
            for (AgentNode a : order) {
                if (startVisit(a, false)) {
                    walk(root, a, null);
                    applyTouched();
                }
            }
        } finally {
            inCycle = false;
            touched.clear();
        }
        List<Allocation> result = out;
        out = null;
        return result;
    }

    /** Stage 1: roles below their guarantee, lowest share first, get unreserved resources up to it. */
    private void stageOne(AgentNode[] order) {
        hungry = new TreeSet<>(SortNode.ORDER);
        for (RoleNode r : roles.values()) {
            if (isHungry(r)) {
                r.inHungry = true;
                hungry.add(r);
            }
        }
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
                    if (isHungry(role) && walk(role, a, role)) {
                        break;
                    }
                }
                applyTouched();
            }
        } finally {
            hungry.forEach(h -> ((RoleNode) h).inHungry = false);
            hungry = null;
        }
    }

    private boolean isHungry(RoleNode r) {
        if (r.guarantee == null || r.activeClients == 0) {
            return false;
        }
        for (int i = 0; i < width; i++) {
            if (r.guarantee[i] > r.consumption(i)) {
                return true;
            }
        }
        return false;
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
        unreservedWorthy = any && allocatable(candSum);
        if (stageOne) {
            return unreservedWorthy;
        }
        for (int p = 1; p < a.pools.length; p++) {
            any |= addPositive(candSum, a.pools[p].free);
        }
        return any && allocatable(candSum);
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
        if (unreservedWorthy && (r.limit == null || !limitBlocks(r))) {
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

    /**
     * True when the role's limit leaves less room than every minimum allocatable alternative, so no
     * unreserved offer to its subtree could be worth making: a saturated cluster then skips roles
     * at their limit without looking at their frameworks.
     */
    private boolean limitBlocks(RoleNode r) {
        if (minAllocatable.length == 0) {
            return false;
        }
        for (long[] alternative : minAllocatable) {
            boolean fits = true;
            for (int i = 0; i < width && fits; i++) {
                long need = Vectors.at(alternative, i);
                fits = need == 0 || r.limit[i] == Long.MAX_VALUE || r.limit[i] - r.consumption(i) >= need;
            }
            if (fits) {
                return false;
            }
        }
        return true;
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
                if (positive && (anyGuarantee || anyLimit || hungry != null)) {
                    positive = capUnreserved(c, hungry, cs);
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
        if (!any || !allocatable(candSum)) {
            return false;
        }
        Refusal refusal = a.refusal(c);
        if (refusal != null) {
            if (refusal.expire(now)) {
                a.removeRefusal(c);
                c.refusedOn.remove(a);
            } else if (refusal.covers(a, candHas, candScalars, candOther, width, now)) {
                return false;
            }
        }
        commit(c, a);
        return true;
    }

    /**
     * Caps the unreserved scalars {@code cs} a client may take, in place; false when nothing is left.
     *
     * <ul>
     *   <li>Headroom: what stays free on offerable agents must cover the guarantees still unmet.
     *       Taking x leaves {@code availHeadroom - x}; it also lowers the headroom needed by up to
     *       {@code absorb} (what the client's own role chain still needs), so x may be at most {@code
     *       availHeadroom - requiredHeadroom + absorb}.
     *   <li>Stage 1: at most what the hungry role still lacks of each guaranteed scalar.
     *   <li>Limits: at most what every role of the chain has left under its limit.
     * </ul>
     */
    private boolean capUnreserved(FrameworkRoleNode c, RoleNode hungry, long[] cs) {
        if (anyLimit) {
            for (RoleNode n = c.role; !n.isRoot(); n = n.parent) {
                if (n.limit != null) {
                    for (int r = 0; r < width; r++) {
                        if (n.limit[r] != Long.MAX_VALUE) {
                            long room = n.limit[r] - n.consumption(r);
                            if (room < cs[r]) {
                                cs[r] = Math.max(0, room);
                            }
                        }
                    }
                }
            }
        }
        if (hungry != null) {
            for (int r = 0; r < width; r++) {
                if (hungry.guarantee[r] > 0) {
                    long lacking = hungry.guarantee[r] - hungry.consumption(r);
                    if (lacking < cs[r]) {
                        cs[r] = Math.max(0, lacking);
                    }
                }
            }
        }
        // With no unmet guarantee the headroom cannot bind: this agent's free resources are part of
        // the available headroom.
        if (anyGuarantee && !Vectors.isZero(root.childNeed, width)) {
            absorbOf(c.role);
            long[] required = root.childNeed;
            for (int r = 0; r < width; r++) {
                long cap = availHeadroom[r] - required[r] + absorb[r];
                if (cap < cs[r]) {
                    cs[r] = Math.max(0, cap);
                }
            }
        }
        if (hungry != null) {
            // Stage 1 is for guarantees: an agent without what the role lacks is left to stage 2.
            for (int r = 0; r < width; r++) {
                if (hungry.guarantee[r] > 0 && cs[r] > 0) {
                    return true;
                }
            }
            return false;
        }
        for (int r = 0; r < width; r++) {
            if (cs[r] > 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * How much of an allocation to a client of {@code role} reduces the headroom the cluster needs,
     * per scalar, into {@link #absorb}. Going up the chain, a role's need falls one for one with the
     * allocation until it reaches what its other children still need: {@code a = max(0, need -
     * max(childNeed - a_child, 0))}.
     */
    private void absorbOf(RoleNode role) {
        Arrays.fill(absorb, 0, width, 0);
        for (RoleNode n = role; !n.isRoot(); n = n.parent) {
            if (!n.guaranteeBelow) {
                Arrays.fill(absorb, 0, width, 0);
                continue;
            }
            for (int r = 0; r < width; r++) {
                long a = n.need[r] - Math.max(n.childNeed[r] - absorb[r], 0);
                absorb[r] = Math.max(a, 0);
            }
        }
    }

    private boolean allocatable(long[] sum) {
        if (minAllocatable.length == 0) {
            return true;
        }
        for (long[] alternative : minAllocatable) {
            boolean enough = true;
            for (int r = 0; r < width && enough; r++) {
                enough = sum[r] >= Vectors.at(alternative, r);
            }
            if (enough) {
                return true;
            }
        }
        return false;
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
            for (int r = 0; r < width; r++) {
                if (take[r] != 0) {
                    changeFree(a, pool, r, -take[r]);
                }
            }
            Resources other = candOther[p];
            if (!other.isEmpty()) {
                pool.freeOther = Resources.EMPTY;
            }
            allocation.add(new Piece(pool, take, other), width);
            addAllocated(c, take, pool.unreserved(), 1);
            unreserved |= pool.unreserved();
        }
        if (unreserved) {
            refreshNeeds(c.role);
        }
        touch(c);
        touch(c.role.own);
        for (RoleNode n = c.role; !n.isRoot(); n = n.parent) {
            touch(n);
        }
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

    private void touch(SortNode n) {
        n.pendingAllocations++;
        if (n.touchStamp != stamp) {
            n.touchStamp = stamp;
            touched.add(n);
        }
    }

    /** Re-sorts what the last agent's offers changed: O(log n) per client and ancestor touched. */
    private void applyTouched() {
        for (int i = 0; i < touched.size(); i++) {
            reposition(touched.get(i));
        }
        touched.clear();
        stamp++;
    }

    // ------------------------------------------------------------------------------------------
    // Sorting
    // ------------------------------------------------------------------------------------------

    /**
     * Takes the node out of its sorted sets, recomputes its key from its allocation and weight, and
     * puts it back: the only place a key changes.
     */
    void reposition(SortNode n) {
        TreeSet<SortNode> set = n.container();
        boolean wasHungry = n instanceof RoleNode r && r.inHungry;
        if (n.inSet) {
            set.remove(n);
        }
        if (wasHungry) {
            hungry.remove(n);
        }
        n.share = shareOf(n);
        n.allocations += n.pendingAllocations;
        n.pendingAllocations = 0;
        if (n.inSet) {
            set.add(n);
        }
        if (wasHungry) {
            RoleNode r = (RoleNode) n;
            if (isHungry(r)) {
                hungry.add(r);
            } else {
                r.inHungry = false;
            }
        }
    }

    private void repositionChain(FrameworkRoleNode c) {
        if (inCycle) {
            throw new IllegalStateException("the allocator was called back during a cycle");
        }
        reposition(c);
        reposition(c.role.own);
        for (RoleNode n = c.role; !n.isRoot(); n = n.parent) {
            reposition(n);
        }
    }

    private double shareOf(SortNode n) {
        long[] a = n.allocated;
        double max = 0;
        for (int i = 0; i < width; i++) {
            double f = a[i] * invTotal[i];
            if (f > max) {
                max = f;
            }
        }
        return max / n.weight();
    }

    /** Recomputes every share for a new cluster total and rebuilds the sorted sets: once per change. */
    private void resortAll() {
        for (int i = 0; i < width; i++) {
            invTotal[i] = total[i] > 0 ? 1.0 / total[i] : 0;
        }
        resort(root);
        sharesDirty = false;
    }

    private void resort(RoleNode n) {
        for (RoleNode child : n.children.values()) {
            resort(child);
        }
        n.active.clear();
        if (n.own != null) {
            n.own.active.clear();
            for (FrameworkRoleNode c : n.own.clients.values()) {
                c.share = shareOf(c);
                if (c.inSet) {
                    n.own.active.add(c);
                }
            }
            n.own.share = shareOf(n.own);
            if (n.own.inSet) {
                n.active.add(n.own);
            }
        }
        for (RoleNode child : n.children.values()) {
            if (child.inSet) {
                n.active.add(child);
            }
        }
        n.share = n.isRoot() ? 0 : shareOf(n);
    }

    private void addToSet(SortNode n) {
        if (!n.inSet) {
            n.container().add(n);
            n.inSet = true;
        }
    }

    private void removeFromSet(SortNode n) {
        if (n.inSet) {
            n.container().remove(n);
            n.inSet = false;
        }
    }

    // ------------------------------------------------------------------------------------------
    // Bookkeeping
    // ------------------------------------------------------------------------------------------

    private void setOfferable(AgentNode a, boolean on) {
        if (a.offerable == on) {
            return;
        }
        a.offerable = on;
        Pool u = a.pools[0];
        if (on) {
            a.offerableIndex = offerable.size();
            offerable.add(a);
        } else {
            int i = a.offerableIndex;
            AgentNode last = offerable.remove(offerable.size() - 1);
            if (last != a) {
                offerable.set(i, last);
                last.offerableIndex = i;
            }
            a.offerableIndex = -1;
        }
        for (int r = 0; r < width; r++) {
            long f = Math.max(0, u.free[r]);
            availHeadroom[r] += on ? f : -f;
        }
    }

    /** Changes one free scalar of a pool, keeping the available headroom in step. */
    private void changeFree(AgentNode a, Pool pool, int r, long delta) {
        long old = pool.free[r];
        long after = old + delta;
        pool.free[r] = after;
        if (a.offerable && pool.reservation == null) {
            availHeadroom[r] += Math.max(0, after) - Math.max(0, old);
        }
    }

    /** Adds ({@code sign} 1) or takes away (-1) a client's allocation on its whole chain. */
    private void addAllocated(FrameworkRoleNode c, long[] s, boolean unreserved, int sign) {
        addSigned(c.allocated, s, sign);
        addSigned(c.role.own.allocated, s, sign);
        for (RoleNode n = c.role; n != null; n = n.parent) {
            addSigned(n.allocated, s, sign);
            if (unreserved) {
                addSigned(n.allocUnreserved, s, sign);
            }
        }
    }

    private void addReserved(RoleNode role, long[] s, int sign) {
        for (RoleNode n = role; n != null; n = n.parent) {
            addSigned(n.reserved, s, sign);
        }
        refreshNeeds(role);
    }

    private void addSigned(long[] into, long[] s, int sign) {
        int n = Math.min(width, s.length);
        if (sign > 0) {
            for (int i = 0; i < n; i++) {
                into[i] += s[i];
            }
        } else {
            for (int i = 0; i < n; i++) {
                into[i] -= s[i];
            }
        }
    }

    /** Recomputes the needs of a role chain after its consumption changed: O(depth). */
    private void refreshNeeds(RoleNode from) {
        if (!anyGuarantee) {
            return;
        }
        for (RoleNode n = from; !n.isRoot(); n = n.parent) {
            if (!n.guaranteeBelow) {
                continue;
            }
            for (int r = 0; r < width; r++) {
                long own = n.guarantee == null ? 0 : n.guarantee[r] - n.consumption(r);
                long need = Math.max(0, Math.max(own, n.childNeed[r]));
                long d = need - n.need[r];
                if (d != 0) {
                    n.need[r] = need;
                    n.parent.childNeed[r] += d;
                }
            }
        }
    }

    /** Recomputes every role's need from scratch, after the quotas changed. */
    private void recomputeNeeds() {
        recomputeNeeds(root);
    }

    private void recomputeNeeds(RoleNode n) {
        Arrays.fill(n.childNeed, 0);
        boolean below = n.guarantee != null;
        for (RoleNode child : n.children.values()) {
            recomputeNeeds(child);
            below |= child.guaranteeBelow;
            Vectors.add(n.childNeed, child.need, width);
        }
        n.guaranteeBelow = below && !n.isRoot();
        for (int r = 0; r < width; r++) {
            long own = n.guarantee == null ? 0 : n.guarantee[r] - n.consumption(r);
            n.need[r] = n.guaranteeBelow ? Math.max(0, Math.max(own, n.childNeed[r])) : 0;
        }
    }

    private void addRefusal(FrameworkRoleNode c, AgentNode a, List<Piece> pieces, long until) {
        Refusal f = a.refusal(c);
        if (f == null) {
            f = new Refusal();
            a.putRefusal(c, f);
            c.refusedOn.add(a);
        }
        Refusal.Entry entry = new Refusal.Entry(List.copyOf(pieces), until);
        // An older filter that the new one contains and outlives adds nothing.
        f.entries.removeIf(e -> e.untilMillis() <= until && contains(entry.pieces(), e.pieces()));
        f.entries.add(entry);
    }

    private boolean contains(List<Piece> big, List<Piece> small) {
        for (Piece s : small) {
            Piece match = null;
            for (Piece b : big) {
                if (b.pool() == s.pool()) {
                    match = b;
                }
            }
            if (match == null || !match.covers(s.scalars(), s.other(), width)) {
                return false;
            }
        }
        return true;
    }

    private void clearRefusals(FrameworkRoleNode c) {
        for (AgentNode a : c.refusedOn) {
            a.removeRefusal(c);
        }
        c.refusedOn.clear();
    }

    // ------------------------------------------------------------------------------------------
    // Roles and clients
    // ------------------------------------------------------------------------------------------

    /** The role's node, created (with its ancestors) when missing. */
    private RoleNode roleNode(String path) {
        RoleNode n = roles.get(path);
        if (n != null) {
            return n;
        }
        int slash = path.lastIndexOf('/');
        RoleNode parent = slash < 0 ? root : roleNode(path.substring(0, slash));
        n = new RoleNode(parent, path, width);
        n.weight = config.weight(path);
        parent.children.put(path.substring(slash + 1), n);
        roles.put(path, n);
        n.share = shareOf(n);
        return n;
    }

    /** Forgets roles that hold nothing, are configured with nothing and have no clients or children. */
    private void prune(RoleNode n) {
        while (n != null && !n.isRoot() && n.children.isEmpty() && n.own.clients.isEmpty() && n.activeClients == 0
                && !config.weights().containsKey(n.path) && !config.quotas().containsKey(n.path)
                && Vectors.isZero(n.reserved, width) && Vectors.isZero(n.allocated, width)) {
            removeFromSet(n);
            n.parent.children.remove(n.path.substring(n.path.lastIndexOf('/') + 1));
            roles.remove(n.path);
            n = n.parent;
        }
    }

    private FrameworkRoleNode client(FrameworkEntry fe, String role) {
        FrameworkRoleNode c = fe.clients.get(role);
        if (c == null) {
            RoleNode node = roleNode(role);
            c = new FrameworkRoleNode(fe, node, width);
            node.own.clients.put(fe.id.value(), c);
            fe.clients.put(role, c);
            c.share = shareOf(c);
        }
        return c;
    }

    private FrameworkRoleNode existingClient(FrameworkId id, String role) {
        FrameworkEntry fe = framework(id);
        FrameworkRoleNode c = fe.clients.get(role);
        if (c == null) {
            throw new IllegalStateException("framework " + id + " holds nothing in role " + role);
        }
        return c;
    }

    /** Brings every client's activity in line with its framework's connection, roles and suppression. */
    private void syncClients(FrameworkEntry fe) {
        for (FrameworkRoleNode c : List.copyOf(fe.clients.values())) {
            boolean want = fe.wants(c.role.path);
            if (want != c.active) {
                setActive(c, want);
            }
            dropIfUnused(c);
        }
    }

    private void dropIfUnused(FrameworkRoleNode c) {
        if (!c.framework.roles.contains(c.role.path) && Vectors.isZero(c.allocated, width)
                && frameworks.get(c.framework.id) == c.framework) {
            removeClient(c);
        }
    }

    private void removeClient(FrameworkRoleNode c) {
        if (c.active) {
            setActive(c, false);
        }
        clearRefusals(c);
        c.role.own.clients.remove(c.framework.id.value());
        c.framework.clients.remove(c.role.path);
        prune(c.role);
    }

    /** Activates or deactivates a client, and its leaf and ancestors when their active count crosses 0. */
    private void setActive(FrameworkRoleNode c, boolean on) {
        c.active = on;
        OwnLeaf leaf = c.role.own;
        if (on) {
            addToSet(c);
            addToSet(leaf);
        } else {
            removeFromSet(c);
            if (leaf.active.isEmpty()) {
                removeFromSet(leaf);
            }
        }
        int d = on ? 1 : -1;
        for (RoleNode n = c.role; n != null; n = n.parent) {
            n.activeClients += d;
            if (!n.isRoot()) {
                if (n.activeClients > 0) {
                    addToSet(n);
                } else {
                    removeFromSet(n);
                }
            }
        }
    }

    private FrameworkEntry framework(FrameworkId id) {
        FrameworkEntry fe = frameworks.get(id);
        if (fe == null) {
            throw new IllegalStateException("framework " + id + " is not known to the allocator");
        }
        return fe;
    }

    private AgentNode agent(AgentId id) {
        AgentNode a = agents.get(id);
        if (a == null) {
            throw new IllegalStateException("agent " + id + " is not known to the allocator");
        }
        return a;
    }

    /** True when {@code role} is {@code ancestor} or in its subtree; no garbage, unlike string concatenation. */
    static boolean isSubrole(String role, String ancestor) {
        int n = ancestor.length();
        return role.startsWith(ancestor) && (role.length() == n || role.charAt(n) == '/');
    }

    // ------------------------------------------------------------------------------------------
    // Resource conversion and scalar vectors
    // ------------------------------------------------------------------------------------------

    /**
     * Splits a bag into one piece per reservation, each referring to the agent's pool for it.
     *
     * @param create whether missing pools are created (empty) or are an error
     */
    private List<Piece> split(AgentNode a, Resources bag, boolean create) {
        internAll(bag);
        Set<ReservationInfo> reservations = new LinkedHashSet<>();
        for (Resources.Key k : bag.keys()) {
            reservations.add(k.reservation());
        }
        List<Piece> pieces = new ArrayList<>(reservations.size());
        for (ReservationInfo res : reservations) {
            Resources part = bag.filter(k -> Objects.equals(k.reservation(), res));
            Pool pool = create ? a.poolOrCreate(res, width) : a.pool(res);
            if (pool == null) {
                throw new IllegalStateException("agent " + a.id + " has no resources reserved for role '" + res.getRole()
                        + "' (" + res.getType() + ")");
            }
            long[] s = new long[width];
            for (Resources.Key k : part.keys()) {
                long v = part.scalar(k);
                if (v > 0) {
                    s[names.indexOf(k.name())] += v;
                }
            }
            Resources scalars = part.scalarsOnly();
            pieces.add(new Piece(pool, s, scalars.equals(part) ? Resources.EMPTY : part.minus(scalars)));
        }
        return pieces;
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
        total = Vectors.grow(total, w);
        invTotal = Arrays.copyOf(invTotal, w);
        availHeadroom = Vectors.grow(availHeadroom, w);
        candSum = Vectors.grow(candSum, w);
        absorb = Vectors.grow(absorb, w);
        for (int i = 0; i < candScalars.length; i++) {
            candScalars[i] = Vectors.grow(candScalars[i], w);
        }
        for (AgentNode a : agents.values()) {
            for (Pool p : a.pools) {
                p.grow(w);
            }
        }
        root.grow(w);
        for (RoleNode n : roles.values()) {
            n.grow(w);
        }
        buildMinAllocatable();
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

    private void buildMinAllocatable() {
        minAllocatable = new long[minAllocatableBags.size()][];
        for (int i = 0; i < minAllocatable.length; i++) {
            long[] v = new long[width];
            Resources bag = minAllocatableBags.get(i);
            for (String name : bag.scalarNames()) {
                v[names.indexOf(name)] = bag.scalar(name);
            }
            minAllocatable[i] = v;
        }
    }

    private double dominant(long[] v, double[] inv) {
        double max = 0;
        for (int i = 0; i < width; i++) {
            max = Math.max(max, v[i] * inv[i]);
        }
        return max;
    }

    private Resources toResources(long[] v) {
        Resources.Builder b = Resources.builder();
        for (int i = 0; i < width; i++) {
            if (v[i] > 0) {
                b.scalar(names.name(i), v[i]);
            }
        }
        return b.build();
    }

    // ------------------------------------------------------------------------------------------
    // Views (operator API, tests)
    // ------------------------------------------------------------------------------------------

    /** Every role the allocator knows (with frameworks, reservations, settings or children), by path. */
    public List<RoleSummary> roles() {
        double[] inv = new double[width];
        for (int i = 0; i < width; i++) {
            inv[i] = total[i] > 0 ? 1.0 / total[i] : 0;
        }
        List<RoleSummary> list = new ArrayList<>();
        for (String path : new TreeSet<>(roles.keySet())) {
            RoleNode n = roles.get(path);
            long[] consumed = new long[width];
            for (int r = 0; r < width; r++) {
                consumed[r] = n.consumption(r);
            }
            List<FrameworkId> fws = new ArrayList<>();
            for (FrameworkRoleNode c : n.own.clients.values()) {
                if (c.framework.roles.contains(path)) {
                    fws.add(c.framework.id);
                }
            }
            list.add(new RoleSummary(path, n.weight, config.quota(path), toResources(n.allocated),
                    toResources(n.reserved), toResources(consumed), fws, dominant(n.allocated, inv) / n.weight));
        }
        return list;
    }

    /** Scalar resource names quotas may name: the standard ones and any an agent has offered. */
    public Set<String> scalarNames() {
        Set<String> out = new TreeSet<>(ScalarNames.STANDARD);
        for (int i = 0; i < width; i++) {
            if (total[i] > 0) {
                out.add(names.name(i));
            }
        }
        return out;
    }

    /** What is free on an agent (its pools' free resources, positive parts). Tests. */
    Resources free(AgentId id) {
        AgentNode a = agent(id);
        Resources.Builder b = Resources.builder();
        for (Pool p : a.pools) {
            for (int i = 0; i < width; i++) {
                if (p.free[i] > 0) {
                    b.scalar(names.name(i), p.reservation, p.free[i]);
                }
            }
            b.add(p.freeOther);
        }
        return b.build();
    }

    /** Roles below their guarantee headroom: the headroom unmet guarantees need, as scalars. Tests. */
    Resources requiredHeadroom() {
        return toResources(root.childNeed);
    }

    /**
     * Recomputes every derived sum from scratch and compares: a test aid (O(everything)).
     *
     * @throws IllegalStateException naming the first difference
     */
    void checkInvariants() {
        long[] sum = new long[width];
        long[] head = new long[width];
        Map<String, long[]> reservedByRole = new HashMap<>();
        for (AgentNode a : agents.values()) {
            for (Pool p : a.pools) {
                Vectors.add(sum, p.total, width);
                for (int r = 0; r < width; r++) {
                    check(p.free[r] <= p.total[r], "free above total on " + a.id);
                    if (a.offerable && p.unreserved()) {
                        head[r] += Math.max(0, p.free[r]);
                    }
                }
                check(p.totalOther.contains(p.freeOther), "free ranges outside the total on " + a.id);
                if (!p.unreserved()) {
                    for (RoleNode n = roles.get(p.role); n != null; n = n.parent) {
                        long[] v = reservedByRole.computeIfAbsent(n.path, k -> new long[width]);
                        Vectors.add(v, p.total, width);
                    }
                }
            }
            check(a.offerable == (a.offerableIndex >= 0) && (!a.offerable || offerable.get(a.offerableIndex) == a),
                    "offerable list out of step for " + a.id);
        }
        check(Arrays.equals(Arrays.copyOf(sum, width), Arrays.copyOf(total, width)), "cluster total out of step");
        check(Arrays.equals(head, Arrays.copyOf(availHeadroom, width)), "available headroom out of step: "
                + Arrays.toString(head) + " vs " + Arrays.toString(availHeadroom));
        checkNode(root, reservedByRole);
    }

    private long[] checkNode(RoleNode n, Map<String, long[]> reservedByRole) {
        long[] alloc = new long[width];
        int active = 0;
        for (RoleNode child : n.children.values()) {
            Vectors.add(alloc, checkNode(child, reservedByRole), width);
            active += child.activeClients;
            check(child.inSet == child.activeClients > 0 && n.active.contains(child) == child.inSet,
                    "set membership of role " + child.path);
        }
        if (n.own != null) {
            long[] own = new long[width];
            for (FrameworkRoleNode c : n.own.clients.values()) {
                Vectors.add(own, c.allocated, width);
                check(c.active == c.framework.wants(n.path) && c.inSet == c.active
                        && n.own.active.contains(c) == c.active, "client activity of " + c);
                active += c.active ? 1 : 0;
            }
            check(Arrays.equals(own, Arrays.copyOf(n.own.allocated, width)), "own allocation of " + n.path);
            Vectors.add(alloc, own, width);
        }
        check(active == n.activeClients, "active clients of role " + n.path);
        check(Arrays.equals(alloc, Arrays.copyOf(n.allocated, width)), "allocation of role " + n.path);
        long[] reserved = reservedByRole.getOrDefault(n.path, new long[width]);
        check(n.isRoot() || Arrays.equals(reserved, Arrays.copyOf(n.reserved, width)), "reservations of role " + n.path);
        return alloc;
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("allocator invariant broken: " + what);
        }
    }

    /** For logs and tests: agents, offerable agents, roles, frameworks. */
    @Override
    public String toString() {
        return "DrfAllocator{" + agents.size() + " agents (" + offerable.size() + " offerable), " + roles.size()
                + " roles, " + frameworks.size() + " frameworks}";
    }
}
