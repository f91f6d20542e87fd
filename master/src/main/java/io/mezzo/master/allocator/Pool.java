package io.mezzo.master.allocator;

import io.mezzo.common.resources.Resources;
import io.mezzo.common.resources.Roles;
import io.mezzo.proto.v1.ReservationInfo;

/**
 * The resources of one agent that share one reservation (or none): scalars as {@code long[]}
 * thousandths indexed by {@link ScalarNames}, and the rare non-scalar resources (port ranges, sets)
 * as a {@link Resources} bag that always moves as a whole. An agent has one unreserved pool, first,
 * and one pool per distinct reservation.
 *
 * <p>Owner: its {@link AgentNode}. Thread: the master's event loop.
 *
 * <p>Invariants:
 *
 * <ol>
 *   <li>{@code free[i] <= total[i]}; {@code free[i]} is negative only when an agent re-registered
 *       with tasks that use more than it has (nothing of that scalar is offered until they end).
 *   <li>{@code freeOther} is contained in {@code totalOther}.
 * </ol>
 */
final class Pool {

    /** The reservation; null for the unreserved pool. */
    final ReservationInfo reservation;
    /** The role that may use the pool: the reservation's role, or "*" when unreserved. */
    final String role;
    long[] total;
    long[] free;
    Resources totalOther = Resources.EMPTY;
    Resources freeOther = Resources.EMPTY;

    Pool(ReservationInfo reservation, int width) {
        this.reservation = reservation;
        this.role = reservation == null ? Roles.DEFAULT : reservation.getRole();
        this.total = new long[width];
        this.free = new long[width];
    }

    boolean unreserved() {
        return reservation == null;
    }

    /** True when something of the pool could be offered. */
    boolean hasFree(int width) {
        for (int i = 0; i < width; i++) {
            if (free[i] > 0) {
                return true;
            }
        }
        return !freeOther.isEmpty();
    }

    /** True when nothing of the pool is allocated. */
    boolean allFree(int width) {
        for (int i = 0; i < width; i++) {
            if (free[i] != total[i]) {
                return false;
            }
        }
        return freeOther.equals(totalOther);
    }

    void grow(int width) {
        total = Vectors.grow(total, width);
        free = Vectors.grow(free, width);
    }
}
