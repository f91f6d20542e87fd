package io.mezzo.master.allocator;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The quota of one role, in thousandths per scalar resource name: the {@code guarantees} are set
 * aside for the role's subtree before fair sharing; the {@code limits} are never exceeded by
 * unreserved allocations to it. A name absent from {@code limits} is not limited. Immutable.
 */
public record Quota(Map<String, Long> guarantees, Map<String, Long> limits) {

    /** No guarantee, no limit. */
    public static final Quota NONE = new Quota(Map.of(), Map.of());

    /** Copies the maps (sorted, unmodifiable). */
    public Quota {
        guarantees = Collections.unmodifiableMap(new TreeMap<>(guarantees));
        limits = Collections.unmodifiableMap(new TreeMap<>(limits));
    }

    /** True when the quota neither guarantees nor limits anything. */
    public boolean isEmpty() {
        return guarantees.isEmpty() && limits.isEmpty();
    }
}
