package io.mezzo.master.allocator;

import java.util.Arrays;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A role in the role tree ({@code eng} is the parent of {@code eng/web}); the root (path "") stands
 * for the whole cluster and is never sorted. {@link #allocated} and the quota vectors count the
 * whole subtree.
 *
 * <p>Owner: {@link DrfSorter} (the role tree). Thread: the master's event loop.
 *
 * <p>Invariants (checked by {@link DrfAllocator#checkInvariants()}):
 *
 * <ol>
 *   <li>{@code allocated} is the sum of the children's and the own leaf's; {@code allocUnreserved}
 *       and {@code reserved} are the subtree sums of unreserved allocations and of reservations.
 *   <li>{@code activeClients} counts the active clients of the subtree; the node is in its parent's
 *       {@code active} set exactly when it is positive.
 *   <li>{@code need = max(0, guarantee - consumption, childNeed)} per scalar, where consumption is
 *       {@code allocUnreserved + reserved} and {@code childNeed} the sum of the children's needs;
 *       the root's {@code childNeed} is the headroom the cluster must keep for guarantees.
 * </ol>
 */
final class RoleNode extends SortNode {

    final String path;
    final RoleNode parent;
    final TreeMap<String, RoleNode> children = new TreeMap<>();
    /** Active children (roles and the own leaf), in DRF order. */
    final TreeSet<SortNode> active = new TreeSet<>(ORDER);
    /** The frameworks subscribed to this role itself; null for the root. */
    final OwnLeaf own;
    int activeClients;
    double weight = 1.0;

    /** Quota guarantee in thousandths per scalar, or null; 0 means no guarantee for that scalar. */
    long[] guarantee;
    /** Quota limit in thousandths per scalar, or null; Long.MAX_VALUE means no limit for that scalar. */
    long[] limit;
    /** This role or a descendant has a guarantee, so {@link #need} may be non-zero. */
    boolean guaranteeBelow;
    long[] allocUnreserved;
    long[] reserved;
    long[] need;
    long[] childNeed;
    /** Member of stage 1's set of roles below their guarantee ({@link DrfSorter#sortHungry}). */
    boolean inHungry;
    /**
     * Stage 1's sort key while {@link #inHungry}: the fraction of its guarantee the subtree already
     * consumes, of the scalar it has most of (its dominant guaranteed scalar). Lowest first.
     */
    double guaranteeMet;

    RoleNode(RoleNode parent, String path, int width) {
        super(path, width);
        this.parent = parent;
        this.path = path;
        this.own = parent == null ? null : new OwnLeaf(this, width);
        this.allocUnreserved = new long[width];
        this.reserved = new long[width];
        this.need = new long[width];
        this.childNeed = new long[width];
    }

    boolean isRoot() {
        return parent == null;
    }

    /**
     * Below its quota guarantee for some scalar, with clients that want offers: stage 1 serves it.
     */
    boolean isHungry(int width) {
        if (guarantee == null || activeClients == 0) {
            return false;
        }
        for (int i = 0; i < width; i++) {
            if (guarantee[i] > consumption(i)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The fraction of the guarantee already consumed, of the guaranteed scalar where it is largest:
     * 0 when nothing is consumed, 1 or more when the guarantee is met.
     */
    double guaranteeMet(int width) {
        double met = 0;
        for (int i = 0; i < width; i++) {
            if (guarantee[i] > 0) {
                met = Math.max(met, consumption(i) / (double) guarantee[i]);
            }
        }
        return met;
    }

    /** Consumed quota of one scalar: unreserved allocations plus all reservations of the subtree. */
    long consumption(int i) {
        return allocUnreserved[i] + reserved[i];
    }

    @Override
    double weight() {
        return weight;
    }

    @Override
    TreeSet<SortNode> container() {
        return parent == null ? null : parent.active;
    }

    @Override
    void grow(int width) {
        super.grow(width);
        allocUnreserved = Vectors.grow(allocUnreserved, width);
        reserved = Vectors.grow(reserved, width);
        need = Vectors.grow(need, width);
        childNeed = Vectors.grow(childNeed, width);
        if (guarantee != null) {
            guarantee = Vectors.grow(guarantee, width);
        }
        if (limit != null) {
            int old = limit.length;
            limit = Vectors.grow(limit, width);
            Arrays.fill(limit, old, width, Long.MAX_VALUE);
        }
        if (own != null) {
            own.grow(width);
        }
    }
}
