package io.mezzo.services;

import io.mezzo.services.ServiceDefinition.Constraint;
import java.math.BigDecimal;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a parsed definition against the agents the service scheduler has seen, before anything
 * runs: resources no agent has, ports no agent offers, constraints no known agent can meet. Pure
 * (a definition and the agents in, the first error or null out); with no agent seen yet only the
 * definition itself is checked, since nothing is known about the cluster.
 *
 * <p>Stateless; any thread. Called on the manager's loop with its view of the agents.
 */
public final class DefinitionValidator {

    private DefinitionValidator() {}

    /** The first reason {@code def} can never run on {@code agents}, or null when it may. */
    public static String validate(ServiceDefinition def, Collection<AgentView> agents) {
        if (def.upgrade().canaries() > def.instances() && def.instances() > 0) {
            return "upgradeStrategy.canaries (" + def.upgrade().canaries() + ") is more than instances ("
                    + def.instances() + ")";
        }
        if (agents.isEmpty()) {
            return null;
        }
        boolean fits = false;
        AgentView largest = null;
        for (AgentView a : agents) {
            if (largest == null || a.cpusMilli() + a.memMilli() > largest.cpusMilli() + largest.memMilli()) {
                largest = a;
            }
            if (a.cpusMilli() >= def.cpusMilli() && a.memMilli() >= def.memMilli() && a.diskMilli() >= def.diskMilli()
                    && a.ports() >= def.ports()) {
                fits = true;
            }
        }
        if (!fits) {
            return "no agent can hold one instance (cpus " + human(def.cpusMilli()) + ", mem "
                    + DefinitionJson.megabytes(def.memMilli()) + ", disk " + DefinitionJson.megabytes(def.diskMilli())
                    + ", " + def.ports() + " ports): the largest agent seen has cpus " + human(largest.cpusMilli())
                    + ", mem " + DefinitionJson.megabytes(largest.memMilli()) + ", disk "
                    + DefinitionJson.megabytes(largest.diskMilli()) + ", " + largest.ports() + " ports";
        }
        for (Constraint c : def.constraints()) {
            switch (c.operator()) {
                case EQUALS, LIKE -> {
                    if (agents.stream().noneMatch(a -> Placement.matches(c, a))) {
                        return "constraint [" + c.field() + ", " + c.operator() + ", " + c.value() + "]: no known agent"
                                + " has " + c.field() + (c.operator() == Constraint.Operator.EQUALS ? " = " : " matching ")
                                + c.value() + " (values seen: " + values(agents, c.field()) + ")";
                    }
                }
                case UNIQUE -> {
                    Set<String> distinct = new HashSet<>();
                    agents.stream().filter(a -> eligible(def, a)).map(a -> a.field(c.field()))
                            .filter(v -> v != null).forEach(distinct::add);
                    if (distinct.size() < def.instances()) {
                        return "constraint [" + c.field() + ", UNIQUE]: " + def.instances() + " instances need as many"
                                + " distinct values of " + c.field() + ", but the agents that could run them have "
                                + distinct.size() + " " + values(agents, c.field());
                    }
                }
                case GROUP_BY -> {
                    if (agents.stream().allMatch(a -> a.field(c.field()) == null)) {
                        return "constraint [" + c.field() + ", GROUP_BY]: no known agent has the attribute " + c.field();
                    }
                }
            }
        }
        return null;
    }

    /** Whether {@code a} could hold an instance, considering size and the EQUALS / LIKE constraints. */
    private static boolean eligible(ServiceDefinition def, AgentView a) {
        if (a.cpusMilli() < def.cpusMilli() || a.memMilli() < def.memMilli() || a.ports() < def.ports()) {
            return false;
        }
        for (Constraint c : def.constraints()) {
            if ((c.operator() == Constraint.Operator.EQUALS || c.operator() == Constraint.Operator.LIKE)
                    && !Placement.matches(c, a)) {
                return false;
            }
        }
        return true;
    }

    private static String values(Collection<AgentView> agents, String field) {
        Set<String> v = new java.util.TreeSet<>();
        agents.forEach(a -> {
            String x = a.field(field);
            if (x != null) {
                v.add(x);
            }
        });
        return v.toString();
    }

    static String human(long milli) {
        return BigDecimal.valueOf(milli, 3).stripTrailingZeros().toPlainString();
    }

    /** Compiled once per check; LIKE matches the whole value. */
    static boolean like(String regex, String value) {
        return value != null && Pattern.compile(regex).matcher(value).matches();
    }
}
