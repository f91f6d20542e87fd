package io.mezzo.master.allocator;

import io.mezzo.common.id.AgentId;
import io.mezzo.proto.v1.ReservationInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An agent as the allocator keeps it: its pools (unreserved first, then one per reservation),
 * whether it may be offered, and the DECLINE filters clients hold on it.
 *
 * <p>Owner: {@link DrfAllocator}. Thread: the master's event loop.
 */
final class AgentNode {

    final AgentId id;
    /** pools[0] is the unreserved pool (possibly empty); the others are reserved, one per reservation. */
    Pool[] pools;
    /** Registered, connected and not draining: visited by allocation cycles. */
    boolean offerable;
    /** Position in the allocator's list of offerable agents; -1 when not offerable. */
    int offerableIndex = -1;
    /** Unexpired DECLINE filters by client; null when there are none (the common case). */
    Map<FrameworkRoleNode, Refusal> refusals;

    /** The cycle whose allocations {@link #cycleAllocations} holds. */
    long cycle = -1;
    /** Allocations made on this agent in the current cycle, so that a client gets one offer per agent. */
    final List<Allocation> cycleAllocations = new ArrayList<>(2);

    AgentNode(AgentId id, int width) {
        this.id = id;
        this.pools = new Pool[] {new Pool(null, width)};
    }

    /** The pool for exactly this reservation (null: unreserved), or null when the agent has none. */
    Pool pool(ReservationInfo reservation) {
        if (reservation == null) {
            return pools[0];
        }
        for (int i = 1; i < pools.length; i++) {
            if (Objects.equals(pools[i].reservation, reservation)) {
                return pools[i];
            }
        }
        return null;
    }

    /** The pool for this reservation, created empty when missing. */
    Pool poolOrCreate(ReservationInfo reservation, int width) {
        Pool p = pool(reservation);
        if (p == null) {
            p = new Pool(reservation, width);
            Pool[] more = Arrays.copyOf(pools, pools.length + 1);
            more[pools.length] = p;
            pools = more;
        }
        return p;
    }

    Refusal refusal(FrameworkRoleNode client) {
        return refusals == null ? null : refusals.get(client);
    }

    void putRefusal(FrameworkRoleNode client, Refusal refusal) {
        if (refusals == null) {
            refusals = new HashMap<>(4);
        }
        refusals.put(client, refusal);
    }

    void removeRefusal(FrameworkRoleNode client) {
        if (refusals != null) {
            refusals.remove(client);
            if (refusals.isEmpty()) {
                refusals = null;
            }
        }
    }

    @Override
    public String toString() {
        return id.value();
    }
}
