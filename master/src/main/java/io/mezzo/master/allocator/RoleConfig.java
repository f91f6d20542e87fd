package io.mezzo.master.allocator;

import java.util.Collections;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
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

    /**
     * What the guarantees add up to, per scalar: for each top-level role, the larger of its own
     * guarantee and the sum of its children's (recursively), summed. This is what the cluster
     * must hold to meet every guarantee at once.
     */
    public Map<String, Long> guaranteedInTotal() {
        Set<String> roles = new HashSet<>();
        for (String role : quotas.keySet()) {
            for (String r = role; r != null; r = parent(r)) {
                roles.add(r);
            }
        }
        Map<String, Long> total = new TreeMap<>();
        for (String top : roles) {
            if (parent(top) == null) {
                guaranteedBelow(top, roles).forEach((name, v) -> total.merge(name, v, Long::sum));
            }
        }
        total.values().removeIf(v -> v == 0);
        return total;
    }

    /** max(own guarantee, sum of the children's) per scalar, for a role's subtree. */
    private Map<String, Long> guaranteedBelow(String role, Set<String> roles) {
        Map<String, Long> children = new TreeMap<>();
        for (String r : roles) {
            if (role.equals(parent(r))) {
                guaranteedBelow(r, roles).forEach((name, v) -> children.merge(name, v, Long::sum));
            }
        }
        Map<String, Long> out = new TreeMap<>(children);
        quota(role).guarantees().forEach((name, v) -> out.merge(name, v, Math::max));
        return out;
    }

    private static String parent(String role) {
        int slash = role.lastIndexOf('/');
        return slash < 0 ? null : role.substring(0, slash);
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
