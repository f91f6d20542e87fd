package io.mezzo.master.allocator;

import io.mezzo.common.resources.Resources;
import java.util.ArrayList;
import java.util.List;

/**
 * The DECLINE filters one client holds on one agent: each declined (or unused) bag of resources
 * with the time it expires. A candidate offer is filtered when one unexpired bag contains it, as in
 * Mesos; a bigger offer (resources came back) passes.
 *
 * <p>Owner: the {@link AgentNode} it is filed under (and listed by its {@link FrameworkRoleNode}
 * for REVIVE).
 * Thread: the master's event loop.
 */
final class Refusal {

    /** One declined bag: its pieces and the clock time it stops filtering. */
    record Entry(List<Piece> pieces, long untilMillis) {}

    final List<Entry> entries = new ArrayList<>(1);

    /** Adds a declined bag, dropping older entries it contains and outlives (they add nothing). */
    void add(List<Piece> pieces, long until, int width) {
        Entry entry = new Entry(List.copyOf(pieces), until);
        entries.removeIf(e -> e.untilMillis() <= until && contains(entry.pieces(), e.pieces(), width));
        entries.add(entry);
    }

    private static boolean contains(List<Piece> big, List<Piece> small, int width) {
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

    /** Drops expired entries; true when none is left. */
    boolean expire(long now) {
        entries.removeIf(e -> e.untilMillis() <= now);
        return entries.isEmpty();
    }

    /**
     * True when an unexpired entry holds every candidate piece ({@code scalars[p]} / {@code
     * other[p]} for the pools {@code has[p]} of {@code agent}).
     */
    boolean covers(AgentNode agent, boolean[] has, long[][] scalars, Resources[] other, int width, long now) {
        for (Entry e : entries) {
            if (e.untilMillis() > now && covers(e, agent, has, scalars, other, width)) {
                return true;
            }
        }
        return false;
    }

    private static boolean covers(Entry e, AgentNode agent, boolean[] has, long[][] scalars,
            Resources[] other, int width) {
        for (int p = 0; p < agent.pools.length; p++) {
            if (!has[p]) {
                continue;
            }
            Piece match = null;
            for (Piece piece : e.pieces()) {
                if (piece.pool() == agent.pools[p]) {
                    match = piece;
                    break;
                }
            }
            if (match == null || !match.covers(scalars[p], other[p], width)) {
                return false;
            }
        }
        return true;
    }
}
