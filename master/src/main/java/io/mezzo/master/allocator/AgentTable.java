package io.mezzo.master.allocator;

import io.mezzo.common.id.AgentId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * The agents as the allocator keeps them: by id, the offerable ones in a list that each cycle
 * shuffles, and their free resources. Every change of an unreserved free scalar of an offerable
 * agent goes through {@link #changeFree} or {@link #setOfferable}, which keep the quota's
 * available headroom in step.
 *
 * <p>Owner: {@link DrfAllocator}. Thread: the master's event loop only. Pure: no I/O, no clock.
 *
 * <p>Invariants:
 *
 * <ol>
 *   <li>{@code offerable} holds exactly the agents with {@link AgentNode#offerable} set, each at
 *       its {@link AgentNode#offerableIndex}; -1 for the others.
 *   <li>{@link QuotaHeadroom}'s available headroom is the sum of the positive unreserved free
 *       scalars of the offerable agents.
 * </ol>
 */
final class AgentTable {

    private final Map<AgentId, AgentNode> byId = new HashMap<>();
    /** Offerable agents; a cycle visits them in an order shuffled from this one. */
    private final ArrayList<AgentNode> offerable = new ArrayList<>();
    private final QuotaHeadroom quota;
    private int width;

    AgentTable(QuotaHeadroom quota, int width) {
        this.quota = quota;
        this.width = width;
    }

    /** The agent; throws when the allocator does not know it. */
    AgentNode get(AgentId id) {
        AgentNode a = byId.get(id);
        if (a == null) {
            throw new IllegalStateException("agent " + id + " is not known to the allocator");
        }
        return a;
    }

    boolean contains(AgentId id) {
        return byId.containsKey(id);
    }

    void add(AgentNode a) {
        byId.put(a.id, a);
    }

    /** Forgets an agent that is no longer offerable. */
    void remove(AgentNode a) {
        byId.remove(a.id);
    }

    int size() {
        return byId.size();
    }

    int offerableCount() {
        return offerable.size();
    }

    /** Whether cycles may offer the agent; its unreserved free resources count as headroom or not. */
    void setOfferable(AgentNode a, boolean on) {
        if (a.offerable == on) {
            return;
        }
        a.offerable = on;
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
        quota.offerableChanged(a.pools[0], on);
    }

    /** Adds ({@code sign} 1) or takes (-1) scalars to a pool's free ones, keeping the headroom in step. */
    void changeFree(AgentNode a, Pool pool, long[] s, int sign) {
        boolean counts = a.offerable && pool.reservation == null;
        for (int r = 0; r < width; r++) {
            if (s[r] != 0) {
                long old = pool.free[r];
                long after = old + sign * s[r];
                pool.free[r] = after;
                if (counts) {
                    quota.freeChanged(r, old, after);
                }
            }
        }
    }

    /** The offerable agents in the order {@code seed} shuffles them to (Fisher-Yates). */
    AgentNode[] shuffled(long seed) {
        AgentNode[] order = offerable.toArray(new AgentNode[0]);
        Random random = new Random(seed);
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            AgentNode t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** A new scalar name appeared: every pool grows to {@code w}. */
    void grow(int w) {
        width = w;
        for (AgentNode a : byId.values()) {
            for (Pool p : a.pools) {
                p.grow(w);
            }
        }
    }

    /**
     * Checks every pool and the offerable list, and sums the agents for the caller's checks (a test
     * aid, O(everything)).
     *
     * @param sum receives the sum of every pool's total
     * @param head receives the positive unreserved free scalars of offerable agents
     * @param reservedByRole receives every reservation, added to its role and each ancestor
     */
    void checkInvariants(DrfSorter sorter, long[] sum, long[] head, Map<String, long[]> reservedByRole) {
        for (AgentNode a : byId.values()) {
            for (Pool p : a.pools) {
                Vectors.add(sum, p.total, width);
                for (int r = 0; r < width; r++) {
                    DrfAllocator.check(p.free[r] <= p.total[r], "free above total on " + a.id);
                    if (a.offerable && p.unreserved()) {
                        head[r] += Math.max(0, p.free[r]);
                    }
                }
                DrfAllocator.check(p.totalOther.contains(p.freeOther), "free ranges outside the total on " + a.id);
                if (!p.unreserved()) {
                    for (RoleNode n = sorter.role(p.role); n != null; n = n.parent) {
                        long[] v = reservedByRole.computeIfAbsent(n.path, k -> new long[width]);
                        Vectors.add(v, p.total, width);
                    }
                }
            }
            boolean listed = a.offerable == (a.offerableIndex >= 0)
                    && (!a.offerable || offerable.get(a.offerableIndex) == a);
            DrfAllocator.check(listed, "offerable list out of step for " + a.id);
        }
    }
}
