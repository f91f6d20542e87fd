package io.mezzo.master.allocator;

import java.util.Arrays;
import java.util.Collection;

/**
 * Quota arithmetic: each role's guarantee and limit, what its subtree consumes and still needs, the
 * free resources that count as headroom, and the cap these put on an unreserved offer ({@link
 * #capUnreserved}). {@link DrfAllocator} tells it every change of consumption and of free
 * resources; the vectors themselves live in the {@link RoleNode}s.
 *
 * <pre>
 *   need(role)   = max(0, guarantee - consumed, sum of children's needs)   per scalar
 *   required     = sum of the top-level roles' needs                       (root.childNeed)
 *   available    = positive unreserved free scalars of offerable agents
 *   surplus      = max(0, available - required)
 *   offer of x  &lt;= absorbable(client's role chain) + surplus
 *              and  every limit on the chain - consumed
 * </pre>
 *
 * <p>When the free resources cover the unmet guarantees ({@code available >= required}) this is
 * the rule "what stays free covers them": a role takes its own chain's need plus the surplus. When
 * they do not (the guarantees add up to more than the cluster has free, e.g. they were forced above
 * its total), there is no surplus and each role may still take up to what its own chain lacks, in
 * stage 1's order: the free resources go to unmet guarantees, never to roles without one, and never
 * sit idle while a role that lacks them wants them.
 *
 * <p>Owner: {@link DrfAllocator}. Thread: the master's event loop only. Pure: no I/O, no clock.
 *
 * <p>Invariants:
 *
 * <ol>
 *   <li>{@code available} is the sum of the positive unreserved free scalars of offerable agents
 *       (kept by {@link #offerableChanged} and {@link #freeChanged}).
 *   <li>Every role's {@code need} and {@code childNeed} follow the formula above (invariant 3 of
 *       {@link RoleNode}); a role with no guarantee in its subtree needs nothing.
 *   <li>{@link #anyGuarantee()} / {@link #anyLimit()}: some role has a guarantee / a limit. With
 *       neither, no offer is capped and the cycle skips this class altogether.
 * </ol>
 */
final class QuotaHeadroom {

    private final ScalarNames names;
    private final RoleNode root;
    private final MinAllocatable minimum;
    private int width;
    /** Positive unreserved free scalars summed over offerable agents. */
    private long[] available;
    private boolean anyGuarantee;
    private boolean anyLimit;
    /** Scratch for {@link #absorbOf}, reused so that capping an offer makes no garbage. */
    private long[] absorb;
    /** A limit or the headroom cut down an unreserved offer since {@link #resetHeldBack()}. */
    private boolean heldBack;

    QuotaHeadroom(ScalarNames names, RoleNode root, MinAllocatable minimum, int width) {
        this.names = names;
        this.root = root;
        this.minimum = minimum;
        this.width = width;
        this.available = new long[width];
        this.absorb = new long[width];
    }

    boolean anyGuarantee() {
        return anyGuarantee;
    }

    boolean anyLimit() {
        return anyLimit;
    }

    /**
     * Whether a limit or the headroom cut down an unreserved offer since the last full cycle: free
     * resources may then be held back on agents that an incremental pass does not visit.
     */
    boolean heldBack() {
        return heldBack;
    }

    /** A full cycle starts: it finds again what quota holds back. */
    void resetHeldBack() {
        heldBack = false;
    }

    // ------------------------------------------------------------------------------------------
    // Settings
    // ------------------------------------------------------------------------------------------

    /** Sets a role's guarantee and limit as vectors; {@link #rescan} must follow. */
    void setQuota(RoleNode n, Quota q) {
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
    }

    /** After quotas changed: which kinds exist, and every role's need from scratch. */
    void rescan(Collection<RoleNode> roles) {
        anyGuarantee = false;
        anyLimit = false;
        for (RoleNode n : roles) {
            anyGuarantee |= n.guarantee != null;
            anyLimit |= n.limit != null;
        }
        recomputeNeeds(root);
    }

    // ------------------------------------------------------------------------------------------
    // Consumption and needs
    // ------------------------------------------------------------------------------------------

    /** Adds ({@code sign} 1) or takes away (-1) a reservation for {@code role}: it counts as consumed. */
    void addReserved(RoleNode role, long[] s, int sign) {
        for (RoleNode n = role; n != null; n = n.parent) {
            Vectors.addSigned(n.reserved, s, sign, width);
        }
        refreshNeeds(role);
    }

    /** Recomputes the needs of a role chain after its consumption changed: O(depth). */
    void refreshNeeds(RoleNode from) {
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

    /** The headroom unmet guarantees need, per scalar (read only): the root's children's needs. */
    long[] required() {
        return root.childNeed;
    }

    // ------------------------------------------------------------------------------------------
    // Available headroom
    // ------------------------------------------------------------------------------------------

    /** An agent became offerable ({@code on}) or stopped being: its unreserved free pool counts or not. */
    void offerableChanged(Pool unreserved, boolean on) {
        for (int r = 0; r < width; r++) {
            long f = Math.max(0, unreserved.free[r]);
            available[r] += on ? f : -f;
        }
    }

    /** One free unreserved scalar of an offerable agent went from {@code old} to {@code after}. */
    void freeChanged(int r, long old, long after) {
        available[r] += Math.max(0, after) - Math.max(0, old);
    }

    // ------------------------------------------------------------------------------------------
    // Capping offers (the cycle's hot path: no garbage)
    // ------------------------------------------------------------------------------------------

    /**
     * True when the role's limit leaves less room than every minimum allocatable alternative, so no
     * unreserved offer to its subtree could be worth making: a saturated cluster then skips roles
     * at their limit without looking at their frameworks.
     */
    boolean limitBlocks(RoleNode r) {
        long[][] alternatives = minimum.vectors();
        if (alternatives.length == 0) {
            return false;
        }
        for (long[] alternative : alternatives) {
            boolean fits = true;
            for (int i = 0; i < width && fits; i++) {
                long need = Vectors.at(alternative, i);
                fits = need == 0 || r.limit[i] == Long.MAX_VALUE || r.limit[i] - r.consumption(i) >= need;
            }
            if (fits) {
                return false;
            }
        }
        heldBack = true;
        return true;
    }

    /**
     * Caps the unreserved scalars {@code cs} a client may take, in place; false when nothing is left.
     *
     * <ul>
     *   <li>Headroom: what stays free on offerable agents must cover the guarantees still unmet, as
     *       far as it can. Taking x lowers the headroom needed by up to {@code absorb} (what the
     *       client's own role chain still needs), so x may be at most {@code absorb + max(0,
     *       available - required)}: the chain's own need plus the surplus. When the free resources
     *       fall short of the unmet guarantees there is no surplus, and a role that lacks something
     *       may still take what it lacks (the shortfall does not grow), while a role that lacks
     *       nothing gets nothing of that scalar.
     *   <li>Stage 1 ({@code hungry} not null): at most what the hungry role still lacks of each
     *       guaranteed scalar, and nothing unless some of that is left.
     *   <li>Limits: at most what every role of the chain has left under its limit.
     * </ul>
     */
    boolean capUnreserved(FrameworkRoleNode c, RoleNode hungry, long[] cs) {
        if (anyLimit) {
            for (RoleNode n = c.role; !n.isRoot(); n = n.parent) {
                if (n.limit != null) {
                    for (int r = 0; r < width; r++) {
                        if (n.limit[r] != Long.MAX_VALUE) {
                            long room = n.limit[r] - n.consumption(r);
                            if (room < cs[r]) {
                                cs[r] = Math.max(0, room);
                                heldBack = true;
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
                long cap = absorb[r] + Math.max(0, available[r] - required[r]);
                if (cap < cs[r]) {
                    cs[r] = Math.max(0, cap);
                    heldBack = true;
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

    /** A new scalar name appeared: the vectors grow to {@code w} (the roles' grow with the tree). */
    void grow(int w) {
        width = w;
        available = Vectors.grow(available, w);
        absorb = Vectors.grow(absorb, w);
    }

    /**
     * Compares the available headroom with one recomputed from the agents (a test aid).
     *
     * @throws IllegalStateException when they differ
     */
    void checkAvailable(long[] recomputed) {
        DrfAllocator.check(Arrays.equals(recomputed, Arrays.copyOf(available, width)),
                "available headroom out of step: " + Arrays.toString(recomputed) + " vs " + Arrays.toString(available));
    }
}
