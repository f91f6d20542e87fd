package io.mezzo.master.allocator;

import io.mezzo.common.resources.Resources;

/**
 * Some of the resources of one pool: scalar thousandths (indexed by {@link ScalarNames}; a vector
 * may be shorter than the table when names were added later, missing entries are 0) and the
 * non-scalar part. Immutable once built.
 */
record Piece(Pool pool, long[] scalars, Resources other) {

    /** True when this piece holds at least {@code scalars} and {@code other} of the same pool. */
    boolean covers(long[] wanted, Resources wantedOther, int width) {
        for (int i = 0; i < width; i++) {
            if (Vectors.at(wanted, i) > Vectors.at(scalars, i)) {
                return false;
            }
        }
        return wantedOther.isEmpty() || other.contains(wantedOther);
    }
}
