package io.mezzo.master.allocator;

import java.util.Comparator;
import java.util.TreeSet;

/**
 * Something DRF sorts: a role (its whole subtree), the frameworks subscribed to a role itself (its
 * "own leaf"), or one framework in one role (a {@link FrameworkRoleNode}, a "client"). Each lives
 * in its parent's sorted set while it is active.
 *
 * <p>The sort key is ({@link #share}, {@link #allocations}, {@link #name}). It is cached and changed
 * only by {@link DrfSorter#reposition}, which takes the node out of its set first, so a set is
 * never corrupted by a key changing under it; {@link #allocated} is not part of the key and is
 * updated at once.
 *
 * <p>Owner: {@link DrfSorter} (the role tree). Thread: the master's event loop.
 */
abstract class SortNode {

    /** Lowest weighted dominant share first, then fewest allocations, then name. */
    static final Comparator<SortNode> ORDER = (a, b) -> {
        int c = Double.compare(a.share, b.share);
        if (c != 0) {
            return c;
        }
        c = Long.compare(a.allocations, b.allocations);
        return c != 0 ? c : a.name.compareTo(b.name);
    };

    /**
     * Stage 1's order of the roles below their guarantee: the least met guarantee first (the lowest
     * {@link RoleNode#guaranteeMet}), then as {@link #ORDER}. When the free resources cannot meet
     * every guarantee, each role thus ends up with about the same fraction of its own.
     */
    static final Comparator<SortNode> HUNGRY_ORDER = (a, b) -> {
        int c = Double.compare(((RoleNode) a).guaranteeMet, ((RoleNode) b).guaranteeMet);
        return c != 0 ? c : ORDER.compare(a, b);
    };

    /** Unique among the siblings it is sorted with. */
    final String name;
    /** Scalars allocated (offered or used) to everything under this node. */
    long[] allocated;
    /** Cached key: dominant share of {@link #allocated} divided by {@link #weight()}. */
    double share;
    /** Cached key: allocations made to this node so far (monotonic, as in Mesos). */
    long allocations;
    /** Allocations made in the current agent's visit, added to the key when it is re-sorted. */
    int pendingAllocations;
    /** Marks the node as already queued for re-sorting after the current agent. */
    long touchStamp = -1;
    /** Whether the node is in {@link #container()} now. */
    boolean inSet;

    SortNode(String name, int width) {
        this.name = name;
        this.allocated = new long[width];
    }

    abstract double weight();

    /** The set this node is sorted in while active; null for the root. */
    abstract TreeSet<SortNode> container();

    void grow(int width) {
        allocated = Vectors.grow(allocated, width);
    }

    @Override
    public String toString() {
        return name + " share " + share;
    }
}
