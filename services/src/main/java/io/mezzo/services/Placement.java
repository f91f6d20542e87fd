package io.mezzo.services;

import io.mezzo.common.resources.RangeSet;
import io.mezzo.common.resources.Resources;
import io.mezzo.services.ServiceDefinition.Constraint;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Whether one more instance of a service may go on an agent, and with which ports: resources left in
 * the offer, then every constraint against the instances already placed. Pure; the manager calls it
 * on its loop for each offer.
 */
final class Placement {

    private Placement() {}

    /** The ports for one instance of {@code def} out of {@code left} on {@code agent}, or null if it may not go there. */
    static List<Long> place(ServiceDefinition def, Resources left, AgentView agent, Collection<AgentView> placedOn,
            Collection<AgentView> known) {
        if (left.scalar(Resources.CPUS) < def.cpusMilli() || left.scalar(Resources.MEM) < def.memMilli()
                || left.scalar(Resources.DISK) < def.diskMilli()) {
            return null;
        }
        RangeSet ports = left.ranges(Resources.PORTS);
        if (ports.size() < def.ports()) {
            return null;
        }
        // GROUP_BY spreads over the values of the agents the other constraints allow.
        List<AgentView> eligible = known.stream().filter(a -> def.constraints().stream()
                .allMatch(c -> c.operator() == Constraint.Operator.UNIQUE || c.operator() == Constraint.Operator.GROUP_BY
                        || matches(c, a))).toList();
        for (Constraint c : def.constraints()) {
            if (!allows(c, agent, placedOn, eligible)) {
                return null;
            }
        }
        List<Long> out = new ArrayList<>();
        RangeSet picked = ports.first(def.ports());
        for (long[] r : ranges(picked)) {
            for (long p = r[0]; p <= r[1]; p++) {
                out.add(p);
            }
        }
        return out;
    }

    /** The resources one instance takes on an offer, with its ports. */
    static Resources resources(ServiceDefinition def, List<Long> ports) {
        Resources.Builder b = Resources.builder().scalar(Resources.CPUS, def.cpusMilli()).scalar(Resources.MEM, def.memMilli());
        if (def.diskMilli() > 0) {
            b.scalar(Resources.DISK, def.diskMilli());
        }
        if (!ports.isEmpty()) {
            List<long[]> rs = new ArrayList<>();
            ports.forEach(p -> rs.add(new long[] {p, p}));
            b.ranges(Resources.PORTS, RangeSet.of(rs));
        }
        return b.build();
    }

    static boolean allows(Constraint c, AgentView agent, Collection<AgentView> placedOn, Collection<AgentView> known) {
        String value = agent.field(c.field());
        return switch (c.operator()) {
            case EQUALS, LIKE -> matches(c, agent);
            case UNIQUE -> value != null && placedOn.stream().noneMatch(a -> value.equals(a.field(c.field())));
            case GROUP_BY -> {
                if (value == null) {
                    yield false;
                }
                Map<String, Integer> counts = new HashMap<>();
                known.forEach(a -> {
                    String v = a.field(c.field());
                    if (v != null) {
                        counts.putIfAbsent(v, 0);
                    }
                });
                placedOn.forEach(a -> {
                    String v = a.field(c.field());
                    if (v != null) {
                        counts.merge(v, 1, Integer::sum);
                    }
                });
                int min = counts.values().stream().mapToInt(Integer::intValue).min().orElse(0);
                yield counts.getOrDefault(value, 0) <= min;
            }
        };
    }

    static boolean matches(Constraint c, AgentView agent) {
        String value = agent.field(c.field());
        return switch (c.operator()) {
            case EQUALS -> c.value().equals(value);
            case LIKE -> DefinitionValidator.like(c.value(), value);
            default -> true;
        };
    }

    private static List<long[]> ranges(RangeSet set) {
        List<long[]> out = new ArrayList<>();
        set.toProto().getRangeList().forEach(r -> out.add(new long[] {r.getBegin(), r.getEnd()}));
        return out;
    }
}
