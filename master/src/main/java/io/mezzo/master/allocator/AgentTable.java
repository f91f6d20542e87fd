package io.mezzo.master.allocator;

import io.mezzo.common.id.AgentId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The agents as the allocator keeps them: by id, each in a slot that places it in every cycle's
 * seeded order ({@link VisitOrder}), which agents are offerable, which were touched since the last
 * pass, and their free resources. Every change of an unreserved free scalar of an offerable agent
 * goes through {@link #changeFree} or {@link #setOfferable}, which keep the quota's available
 * headroom in step.
 *
 * <pre>
 *   slots:   [agent-3][agent-1][ free ][agent-2] ...    an agent keeps its slot while it is known;
 *                                                       a freed slot is reused (last freed first)
 *   full cycle:   every offerable agent, in VisitOrder(seed) order        inOrder(seed)
 *   incremental:  the touched offerable agents, sorted by the same key    touchedInOrder(seed)
 * </pre>
 *
 * <p>Owner: {@link DrfAllocator}. Thread: the master's event loop only. Pure: no I/O, no clock.
 *
 * <p>Invariants:
 *
 * <ol>
 *   <li>Every known agent is in {@code slots} at its {@link AgentNode#slot}; {@code slotCount}
 *       bounds the slots in use, and the free slots below it are listed in {@code freeSlots}.
 *   <li>{@code offerableCount} counts the agents with {@link AgentNode#offerable} set.
 *   <li>{@link QuotaHeadroom}'s available headroom is the sum of the positive unreserved free
 *       scalars of the offerable agents.
 *   <li>{@code touched} lists exactly the agents whose {@link AgentNode#touchedIn} is {@code
 *       touchMark} (and may hold agents removed since, which are skipped).
 * </ol>
 */
final class AgentTable {

    private final Map<AgentId, AgentNode> byId = new HashMap<>();
    /** Agents by slot; null for a free slot. */
    private AgentNode[] slots = new AgentNode[16];
    /** Slots in use are below this. */
    private int slotCount;
    /** Free slots below {@code slotCount}, the last freed on top. */
    private int[] freeSlots = new int[16];
    private int freeSlotCount;
    private int offerableCount;
    /** Agents whose free resources grew, or that became offerable, since the last pass. */
    private final ArrayList<AgentNode> touched = new ArrayList<>();
    /**
     * The current pass's mark: an agent is touched when its {@link AgentNode#touchedIn} equals it.
     * A pass forgets every touch at once by moving on to the next mark, instead of visiting every
     * touched agent again (at 50,000 agents given back, that visit cost a full cycle 10%).
     */
    private long touchMark = 1;
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

    /** Adds a new agent (not offerable yet) in a free slot. */
    void add(AgentNode a) {
        byId.put(a.id, a);
        int slot;
        if (freeSlotCount > 0) {
            slot = freeSlots[--freeSlotCount];
        } else {
            slot = slotCount++;
            if (slot == slots.length) {
                slots = Arrays.copyOf(slots, slots.length * 2);
            }
        }
        slots[slot] = a;
        a.slot = slot;
    }

    /** Forgets an agent that is no longer offerable; its slot is free for the next agent. */
    void remove(AgentNode a) {
        byId.remove(a.id);
        slots[a.slot] = null;
        if (freeSlotCount == freeSlots.length) {
            freeSlots = Arrays.copyOf(freeSlots, freeSlots.length * 2);
        }
        freeSlots[freeSlotCount++] = a.slot;
        a.slot = -1;
    }

    int size() {
        return byId.size();
    }

    int offerableCount() {
        return offerableCount;
    }

    /** Whether cycles may offer the agent; its unreserved free resources count as headroom or not. */
    void setOfferable(AgentNode a, boolean on) {
        if (a.offerable == on) {
            return;
        }
        a.offerable = on;
        offerableCount += on ? 1 : -1;
        if (on) {
            touch(a);
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

    /** Marks an agent for the next incremental pass: something of it may be offerable now. */
    void touch(AgentNode a) {
        if (a.touchedIn != touchMark) {
            a.touchedIn = touchMark;
            touched.add(a);
        }
    }

    /** How many agents were touched since the last pass. */
    int touchedCount() {
        return touched.size();
    }

    /** The offerable agents in the order {@code seed} gives them; nothing stays touched. */
    AgentNode[] inOrder(long seed) {
        clearTouched();
        VisitOrder order = new VisitOrder(seed, slotCount);
        AgentNode[] out = new AgentNode[offerableCount];
        int n = 0;
        for (long place = 0, places = order.size(); place < places; place++) {
            int slot = order.slotAt(place);
            if (slot < slotCount) {
                AgentNode a = slots[slot];
                if (a != null && a.offerable) {
                    out[n++] = a;
                }
            }
        }
        return out;
    }

    /**
     * The touched agents that are still known and offerable, in the order a full cycle with this
     * {@code seed} would visit them; nothing stays touched.
     */
    AgentNode[] touchedInOrder(long seed) {
        VisitOrder order = new VisitOrder(seed, slotCount);
        int n = 0;
        long[] keys = new long[touched.size()];
        for (AgentNode a : touched) {
            if (a.slot >= 0 && a.offerable) {
                // The key is below 2^31 and the slot too: one long sorts both.
                keys[n++] = order.keyOf(a.slot) << 32 | a.slot;
            }
        }
        clearTouched();
        Arrays.sort(keys, 0, n);
        AgentNode[] out = new AgentNode[n];
        for (int i = 0; i < n; i++) {
            out[i] = slots[(int) keys[i]];
        }
        return out;
    }

    /** Forgets which agents were touched (a full cycle visits them all). */
    void clearTouched() {
        touchMark++;
        touched.clear();
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
     * Checks every pool, the slots and the counts, and sums the agents for the caller's checks (a test
     * aid, O(everything)).
     *
     * @param sum receives the sum of every pool's total
     * @param head receives the positive unreserved free scalars of offerable agents
     * @param reservedByRole receives every reservation, added to its role and each ancestor
     */
    void checkInvariants(DrfSorter sorter, long[] sum, long[] head, Map<String, long[]> reservedByRole) {
        int offerable = 0;
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
            DrfAllocator.check(a.slot >= 0 && a.slot < slotCount && slots[a.slot] == a, "slot out of step for " + a.id);
            offerable += a.offerable ? 1 : 0;
            DrfAllocator.check((a.touchedIn == touchMark) == touched.contains(a),
                    "touched list out of step for " + a.id);
        }
        DrfAllocator.check(offerable == offerableCount, "offerable count out of step");
        DrfAllocator.check(byId.size() + freeSlotCount == slotCount, "free slots out of step");
    }
}
