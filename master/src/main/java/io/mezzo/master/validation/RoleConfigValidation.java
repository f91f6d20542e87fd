package io.mezzo.master.validation;

import io.mezzo.common.resources.Roles;
import io.mezzo.common.resources.Scalars;
import io.mezzo.master.allocator.Quota;
import io.mezzo.master.allocator.RoleConfig;
import io.mezzo.proto.v1.QuotaConfig;
import io.mezzo.proto.v1.Value;
import io.mezzo.proto.v1.WeightInfo;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Pure checks of the operator's weight and quota updates. Each computes the whole configuration the
 * update would lead to and validates it as one, so a batch applies completely or not at all: the
 * caller persists and applies {@link Outcome#config()} only when {@link Outcome#error()} is null.
 */
public final class RoleConfigValidation {

    /** The largest weight accepted. */
    public static final double MAX_WEIGHT = 1_000_000;

    private RoleConfigValidation() {}

    /** The configuration an update leads to, or why it is refused (then config is null). */
    public record Outcome(RoleConfig config, String error) {
        static Outcome refused(String error) {
            return new Outcome(null, error);
        }
    }

    /** The configuration {@code current} becomes with these weights set. */
    public static Outcome withWeights(RoleConfig current, List<WeightInfo> weights) {
        Map<String, Double> updates = new TreeMap<>();
        for (int i = 0; i < weights.size(); i++) {
            WeightInfo w = weights.get(i);
            String roleError = Roles.validate(w.getRole());
            if (roleError != null) {
                return Outcome.refused("weights[" + i + "]: " + roleError);
            }
            if (updates.containsKey(w.getRole())) {
                return Outcome.refused("weights[" + i + "]: role '" + w.getRole() + "' is named twice");
            }
            double v = w.getWeight();
            if (Double.isNaN(v) || Double.isInfinite(v) || v <= 0 || v > MAX_WEIGHT) {
                return Outcome.refused("weights[" + i + "]: the weight of role '" + w.getRole()
                        + "' must be a positive finite number at most " + (long) MAX_WEIGHT + ", got " + v);
            }
            updates.put(w.getRole(), v);
        }
        return new Outcome(current.withWeights(updates), null);
    }

    /**
     * The configuration {@code current} becomes with these quotas set.
     *
     * @param scalarNames the scalar resource names a quota may name
     * @param clusterTotal the cluster's total per scalar name, in thousandths (absent: none)
     * @param force apply guarantees that over-commit the cluster (see {@link #overcommitError})
     */
    public static Outcome withQuotas(RoleConfig current, List<QuotaConfig> quotas, Set<String> scalarNames,
            Map<String, Long> clusterTotal, boolean force) {
        Map<String, Quota> updates = new TreeMap<>();
        for (int i = 0; i < quotas.size(); i++) {
            QuotaConfig q = quotas.get(i);
            String where = "quotas[" + i + "]";
            String role = q.getRole();
            String roleError = Roles.validate(role);
            if (roleError != null) {
                return Outcome.refused(where + ": " + roleError);
            }
            if (role.equals(Roles.DEFAULT)) {
                return Outcome.refused(where + ": role '*' cannot have a quota");
            }
            if (updates.containsKey(role)) {
                return Outcome.refused(where + ": role '" + role + "' is named twice");
            }
            String error = amountsError(where + " guarantees of role '" + role + "'", q.getGuaranteesMap(), scalarNames);
            if (error == null) {
                error = amountsError(where + " limits of role '" + role + "'", q.getLimitsMap(), scalarNames);
            }
            if (error != null) {
                return Outcome.refused(error);
            }
            for (Map.Entry<String, Value.Scalar> g : q.getGuaranteesMap().entrySet()) {
                Value.Scalar limit = q.getLimitsMap().get(g.getKey());
                if (limit != null && g.getValue().getMilli() > limit.getMilli()) {
                    return Outcome.refused(where + ": the guarantee of " + g.getKey() + " for role '" + role + "' ("
                            + Scalars.format(g.getValue().getMilli()) + ") is above its limit ("
                            + Scalars.format(limit.getMilli()) + ")");
                }
            }
            updates.put(role, new Quota(milli(q.getGuaranteesMap()), milli(q.getLimitsMap())));
        }
        RoleConfig next = current.withQuotas(updates);
        String error = hierarchyError(next);
        if (error == null && !force) {
            error = overcommitError(current, next, clusterTotal);
        }
        return error == null ? new Outcome(next, null) : Outcome.refused(error);
    }

    /**
     * Guarantees must fit the cluster, as in Mesos' quota handler: refused, unless forced, is an
     * update after which the guarantees add up ({@link RoleConfig#guaranteedInTotal()}) to more of
     * some scalar than the cluster's total, and to more than before. So lowering or removing
     * guarantees of an already over-committed cluster (agents left) is never refused. The message
     * names every such scalar with what is guaranteed, the total and the shortfall.
     */
    public static String overcommitError(RoleConfig current, RoleConfig next, Map<String, Long> clusterTotal) {
        Map<String, Long> before = current.guaranteedInTotal();
        List<String> over = new java.util.ArrayList<>();
        next.guaranteedInTotal().forEach((name, guaranteed) -> {
            long total = clusterTotal.getOrDefault(name, 0L);
            if (guaranteed > total && guaranteed > before.getOrDefault(name, 0L)) {
                over.add(name + " " + Scalars.format(guaranteed) + " guaranteed, the cluster has " + Scalars.format(total)
                        + " (short by " + Scalars.format(guaranteed - total) + ")");
            }
        });
        if (over.isEmpty()) {
            return null;
        }
        return "the guarantees would add up to more than the cluster's total: " + String.join("; ", over)
                + ". Set force to apply them anyway";
    }

    private static String amountsError(String what, Map<String, Value.Scalar> amounts, Set<String> scalarNames) {
        for (Map.Entry<String, Value.Scalar> e : new TreeMap<>(amounts).entrySet()) {
            if (!scalarNames.contains(e.getKey())) {
                return what + " name '" + e.getKey() + "', which is not a scalar resource of this cluster (known: "
                        + String.join(", ", new java.util.TreeSet<>(scalarNames)) + ")";
            }
            if (e.getValue().getMilli() < 0) {
                return what + " give a negative amount of " + e.getKey() + ": " + e.getValue().getMilli() + " thousandths";
            }
        }
        return null;
    }

    /**
     * A role's limit must hold what its subtree is guaranteed: for every role with a limit, the
     * guarantees below it, max(own, sum of the children's) at each level, fit under the limit.
     * (A child's limit above its parent's is allowed; the parent's applies as well.)
     */
    static String hierarchyError(RoleConfig config) {
        Set<String> roles = new HashSet<>();
        for (String role : config.quotas().keySet()) {
            for (String r = role; r != null; r = parent(r)) {
                roles.add(r);
            }
        }
        for (Map.Entry<String, Quota> e : config.quotas().entrySet()) {
            String role = e.getKey();
            for (Map.Entry<String, Long> limit : e.getValue().limits().entrySet()) {
                long needed = guaranteed(role, limit.getKey(), config, roles);
                if (needed > limit.getValue()) {
                    return "role '" + role + "' and its subroles are guaranteed " + Scalars.format(needed) + " "
                            + limit.getKey() + ", above the role's limit of " + Scalars.format(limit.getValue());
                }
            }
        }
        return null;
    }

    private static long guaranteed(String role, String name, RoleConfig config, Set<String> roles) {
        long children = 0;
        for (String r : roles) {
            if (role.equals(parent(r))) {
                children += guaranteed(r, name, config, roles);
            }
        }
        return Math.max(config.quota(role).guarantees().getOrDefault(name, 0L), children);
    }

    private static String parent(String role) {
        int slash = role.lastIndexOf('/');
        return slash < 0 ? null : role.substring(0, slash);
    }

    private static Map<String, Long> milli(Map<String, Value.Scalar> amounts) {
        Map<String, Long> out = new TreeMap<>();
        amounts.forEach((name, v) -> out.put(name, v.getMilli()));
        return out;
    }
}
