package io.mezzo.master.allocator;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.ReservationInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An agent as the allocator keeps it: its pools (unreserved first, then one per reservation),
 * whether it may be offered, and the DECLINE filters clients hold on it.
 *
 * <p>Owner: {@link AgentTable}. Thread: the master's event loop.
 */
final class AgentNode {

    final AgentId id;
    /** pools[0] is the unreserved pool (possibly empty); the others are reserved, one per reservation. */
    Pool[] pools;
    /** Registered, connected and not draining: visited by allocation cycles. */
    boolean offerable;
    /** Its place in the agent table, which places it in each cycle's order; -1 once removed. */
    int slot = -1;
    /** {@link AgentTable}'s pass mark when it was last touched: the next incremental pass visits it if current. */
    long touchedIn;
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

    /**
     * Splits a bag into one piece per reservation, each referring to this agent's pool for it. The
     * bag's scalar names must be in {@code names}.
     *
     * @param create whether missing pools are created (empty) or are an error
     */
    List<Piece> split(Resources bag, ScalarNames names, int width, boolean create) {
        Set<ReservationInfo> reservations = new LinkedHashSet<>();
        for (Resources.Key k : bag.keys()) {
            reservations.add(k.reservation());
        }
        List<Piece> pieces = new ArrayList<>(reservations.size());
        for (ReservationInfo res : reservations) {
            Resources part = bag.filter(k -> Objects.equals(k.reservation(), res));
            Pool pool = create ? poolOrCreate(res, width) : pool(res);
            if (pool == null) {
                throw new IllegalStateException("agent " + id + " has no resources reserved for role '" + res.getRole()
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

    /** What is free (its pools' free resources, positive parts). */
    Resources free(ScalarNames names, int width) {
        Resources.Builder b = Resources.builder();
        for (Pool p : pools) {
            for (int i = 0; i < width; i++) {
                if (p.free[i] > 0) {
                    b.scalar(names.name(i), p.reservation, p.free[i]);
                }
            }
            b.add(p.freeOther);
        }
        return b.build();
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

    /**
     * Whether an unexpired DECLINE filter of the client covers the candidate offer ({@code
     * scalars[p]} / {@code other[p]} of the pools {@code has[p]}); a filter found expired is
     * dropped.
     */
    boolean refuses(FrameworkRoleNode client, boolean[] has, long[][] scalars, Resources[] other, int width, long now) {
        Refusal refusal = refusal(client);
        if (refusal == null) {
            return false;
        }
        if (refusal.expire(now)) {
            removeRefusal(client);
            client.refusedOn.remove(this);
            return false;
        }
        return refusal.covers(this, has, scalars, other, width, now);
    }

    /**
     * Files a DECLINE filter: the client is not offered these pieces (or part of them) here until
     * {@code until}. An older filter of the client that the new one contains and outlives is
     * dropped.
     */
    void refuse(FrameworkRoleNode client, List<Piece> pieces, long until, int width) {
        Refusal f = refusal(client);
        if (f == null) {
            f = new Refusal();
            putRefusal(client, f);
            client.refusedOn.add(this);
        }
        f.add(pieces, until, width);
    }

    /** Drops every filter on this agent (it is going away). */
    void clearRefusals() {
        if (refusals != null) {
            refusals.keySet().forEach(c -> c.refusedOn.remove(this));
            refusals = null;
        }
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
