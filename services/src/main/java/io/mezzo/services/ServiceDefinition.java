package io.mezzo.services;

import java.util.List;
import java.util.Map;

/**
 * One version of a service as its owner described it: what to run, how many, with which resources,
 * how to check it, where it may run and how a new version replaces the old one. Immutable; built by
 * {@link DefinitionJson#parse} (which refuses anything malformed) and checked against the cluster by
 * {@link DefinitionValidator}.
 *
 * <p>Scalars are fixed-point thousandths ({@code cpusMilli} 500 is 0.5 cpus, {@code memMilli} is
 * thousandths of a MB); durations are milliseconds.
 *
 * @param id service id: 1 to 63 lowercase letters, digits and dashes, starting with a letter
 * @param cmd shell command, or null when {@code args} is given
 * @param args argv, or empty when {@code cmd} is given
 * @param instances how many instances to keep healthy (0 to 1000)
 * @param ports how many ports each instance gets from its offer (PORT0..PORTn-1)
 * @param killGraceMillis SIGTERM to SIGKILL when an instance is stopped
 */
public record ServiceDefinition(
        String id,
        String cmd,
        List<String> args,
        int instances,
        long cpusMilli,
        long memMilli,
        long diskMilli,
        int ports,
        Map<String, String> env,
        List<String> fetch,
        HealthSpec healthCheck,
        List<Constraint> constraints,
        long killGraceMillis,
        String role,
        UpgradeStrategy upgrade,
        BackoffSpec backoff) {

    /** Copies the collections. */
    public ServiceDefinition {
        args = List.copyOf(args);
        env = Map.copyOf(env);
        fetch = List.copyOf(fetch);
        constraints = List.copyOf(constraints);
    }

    /** This definition with another instance count. */
    public ServiceDefinition withInstances(int n) {
        return new ServiceDefinition(id, cmd, args, n, cpusMilli, memMilli, diskMilli, ports, env, fetch, healthCheck,
                constraints, killGraceMillis, role, upgrade, backoff);
    }

    /** The health check, run by the agent next to every instance. */
    public record HealthSpec(
            Type type,
            String path,
            int portIndex,
            String command,
            long delayMillis,
            long intervalMillis,
            long timeoutMillis,
            long gracePeriodMillis,
            int consecutiveFailures) {

        /** Check kinds, as the agent runs them. */
        public enum Type { HTTP, TCP, COMMAND }
    }

    /**
     * Where instances may run. {@code field} is {@code hostname} or an agent attribute.
     *
     * @param value the value for EQUALS / LIKE (a regex matched against the whole value); null otherwise
     */
    public record Constraint(String field, Operator operator, String value) {

        /** Constraint operators (Marathon's names). */
        public enum Operator {
            /** At most one instance per distinct value (per host for {@code hostname}). */
            UNIQUE,
            /** Spread instances evenly over the field's values (racks, zones). */
            GROUP_BY,
            /** Only where the field equals the value. */
            EQUALS,
            /** Only where the field matches the regex. */
            LIKE
        }
    }

    /**
     * How a new version replaces the old.
     *
     * @param maxParallel most new instances starting (not yet healthy) at a time
     * @param minHealthyFraction minimum healthy instances as a fraction of {@code instances}, or -1
     *     when {@link #minHealthyCount} is given
     * @param minHealthyCount minimum healthy instances as a count, or -1
     * @param maxSurge instances allowed above {@code instances} during a deploy
     * @param canaries new instances started beside the old before the rest (0: plain rolling)
     * @param autoPromoteAfterMillis canaries healthy this long promote themselves; -1: manual promotion
     * @param autoRevert roll back by itself when the deploy fails
     * @param progressDeadlineMillis a deploy with no new healthy instance for this long has failed
     */
    public record UpgradeStrategy(
            int maxParallel,
            double minHealthyFraction,
            int minHealthyCount,
            int maxSurge,
            int canaries,
            long autoPromoteAfterMillis,
            boolean autoRevert,
            long progressDeadlineMillis) {

        /** The minimum healthy count for {@code instances} instances. */
        public int minHealthy(int instances) {
            if (minHealthyCount >= 0) {
                return Math.min(minHealthyCount, instances);
            }
            // Fractions round up: 0.5 of 3 keeps 2 healthy.
            return (int) Math.min(instances, Math.ceil(minHealthyFraction * instances - 1e-9));
        }
    }

    /**
     * Restart backoff: the n-th consecutive failure waits {@code initial * 2^(n-1)} up to {@code max};
     * {@code crashLoopLimit} consecutive failures mark the service failed.
     */
    public record BackoffSpec(long initialMillis, long maxMillis, int crashLoopLimit) {

        /** The delay before relaunching after {@code failures} consecutive failures (1 or more). */
        public long delayMillis(int failures) {
            long d = initialMillis;
            for (int i = 1; i < failures && d < maxMillis; i++) {
                d *= 2;
            }
            return Math.min(d, maxMillis);
        }
    }
}
