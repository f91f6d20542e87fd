package io.mezzo.master.allocator;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The operator's settings for roles: weights (default 1) and quotas (default none). Immutable:
 * an update computes a new config, which is validated as a whole, persisted, and only then given
 * to the allocator, so a rejected or failed update changes nothing.
 *
 * <p>Hard state: kept in memory by the master today; it moves into the registry with high
 * availability.
 *
 * @param weights roles whose weight is not 1
 * @param quotas roles with a non-empty quota
 */
public record RoleConfig(Map<String, Double> weights, Map<String, Quota> quotas) {

    /** Every role has weight 1 and no quota. */
    public static final RoleConfig EMPTY = new RoleConfig(Map.of(), Map.of());

    /** Copies the maps (sorted, unmodifiable). */
    public RoleConfig {
        weights = Collections.unmodifiableMap(new TreeMap<>(weights));
        quotas = Collections.unmodifiableMap(new TreeMap<>(quotas));
    }

    /** The weight of {@code role}: 1 unless set. */
    public double weight(String role) {
        return weights.getOrDefault(role, 1.0);
    }

    /** The quota of {@code role}: {@link Quota#NONE} unless set. */
    public Quota quota(String role) {
        return quotas.getOrDefault(role, Quota.NONE);
    }

    /** A config with these weights changed; a weight of 1 goes back to the default. */
    public RoleConfig withWeights(Map<String, Double> updates) {
        Map<String, Double> w = new TreeMap<>(weights);
        updates.forEach((role, weight) -> {
            if (weight == 1.0) {
                w.remove(role);
            } else {
                w.put(role, weight);
            }
        });
        return new RoleConfig(w, quotas);
    }

    /** A config with these quotas replaced; an empty quota removes the role's quota. */
    public RoleConfig withQuotas(Map<String, Quota> updates) {
        Map<String, Quota> q = new TreeMap<>(quotas);
        updates.forEach((role, quota) -> {
            if (quota.isEmpty()) {
                q.remove(role);
            } else {
                q.put(role, quota);
            }
        });
        return new RoleConfig(weights, q);
    }
}
