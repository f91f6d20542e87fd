package io.mezzo.sim;

import com.google.protobuf.InvalidProtocolBufferException;
import io.mezzo.proto.v1.RegistryFramework;
import java.util.List;
import java.util.Map;

/**
 * Runs one seed: a cluster of two masters, three agents and two frameworks, seeded faults for {@link
 * #FAULT_PHASE_MILLIS} of virtual time, then quiescence (every process back, no new launches), a
 * comparison of the views, a wind-down in which the frameworks kill what still runs, and the final
 * checks. The invariants of {@link Invariants} are checked after every step.
 *
 * <pre>
 *   0 s ............ 30 s ................. 70 s .................................. 95 s
 *   faults + launches | quiescence (no faults,  | views     | unreachable agents   | end checks
 *                     |  no launches)           | compared  | marked gone; frame-  |
 *                     |                         |           | works kill the rest  |
 * </pre>
 *
 * <p>Thread: the caller's (one thread for the whole cluster).
 */
public final class Simulation {

    static final long FAULT_PHASE_MILLIS = 30_000;
    static final long QUIESCE_MILLIS = 40_000;
    static final long WIND_DOWN_MILLIS = 25_000;
    /** Steps after which a run is declared stuck (a livelock is a failure too). */
    static final long MAX_STEPS = 2_000_000;

    /** The outcome of one seed. */
    public record Result(long seed, List<String> violations, List<String> trace, long steps, long launched,
            String faults) {
        public boolean passed() {
            return violations.isEmpty();
        }
    }

    private Simulation() {}

    /** Runs {@code seed}, keeping the last {@code traceLines} lines of its trace. */
    public static Result run(long seed, int traceLines) {
        World world = new World(seed, traceLines);
        Cluster cluster = new Cluster(world, 2, 3, 2);
        Faults faults = new Faults(cluster);
        Invariants invariants = cluster.invariants;
        world.trace("seed " + seed + ", faults " + faults.enabled);
        faults.schedule(FAULT_PHASE_MILLIS);
        long quiesceAt = SimClock.START + FAULT_PHASE_MILLIS;
        long compareAt = quiesceAt + QUIESCE_MILLIS;
        long endAt = compareAt + WIND_DOWN_MILLIS;
        try {
            runUntil(world, cluster, invariants, quiesceAt);
            world.trace("quiescence: no more faults or launches");
            for (SimFramework f : cluster.frameworks) {
                f.stopLaunching();
                if (!f.up() && !f.removed()) {
                    f.start();
                }
            }
            runUntil(world, cluster, invariants, compareAt);
            world.trace("comparing the views");
            invariants.quiescent();
            operatorRemovesUnreachableAgents(world, cluster);
            for (SimFramework f : cluster.frameworks) {
                f.killAll();
            }
            runUntil(world, cluster, invariants, endAt);
            markRemoved(cluster);
            invariants.atEnd();
        } catch (StoppedEarly e) {
            // The violation is recorded.
        } catch (RuntimeException e) {
            cluster.violation("the simulation threw " + e);
        }
        return new Result(seed, List.copyOf(cluster.violations), world.trace(), world.steps(), cluster.launchedTasks,
                faults.enabled.toString());
    }

    private static void runUntil(World world, Cluster cluster, Invariants invariants, long until) {
        while (cluster.violations.isEmpty() && world.step(until)) {
            invariants.afterStep();
            if (world.steps() > MAX_STEPS) {
                cluster.violation("no progress: more than " + MAX_STEPS + " steps");
            }
        }
        if (!cluster.violations.isEmpty()) {
            throw new StoppedEarly();
        }
    }

    /**
     * An agent still unreachable after quiescence never comes back under that id (it crashed before
     * it learned it, or was wiped): as an operator would, mark it gone, so that the tasks the master
     * had sent it end (TASK_GONE_BY_OPERATOR) instead of staying unreachable forever.
     */
    private static void operatorRemovesUnreachableAgents(World world, Cluster cluster) {
        SimMaster leader = cluster.actingLeader();
        if (leader == null) {
            return;
        }
        leader.agentsAndTasks().getAgentsList().stream()
                .filter(a -> a.getState() == io.mezzo.proto.v1.AgentView.State.UNREACHABLE)
                .map(a -> a.getAgentInfo().getId().getValue())
                .forEach(id -> {
                    world.trace("operator: MarkAgentGone " + id);
                    leader.master().markGone(id, refused -> {
                        if (refused != null) {
                            world.trace("operator: MarkAgentGone " + id + " refused: " + refused);
                        }
                    });
                });
    }

    /** Frameworks the registry says were removed need not hear of their tasks' ends. */
    private static void markRemoved(Cluster cluster) {
        Map<String, byte[]> frameworks = cluster.zk.data().getOrDefault("frameworks", Map.of());
        for (byte[] bytes : frameworks.values()) {
            try {
                RegistryFramework f = RegistryFramework.parseFrom(bytes);
                if (f.getState() == RegistryFramework.State.REMOVED) {
                    cluster.frameworks.stream().filter(s -> f.getInfo().getId().getValue().equals(s.id()))
                            .forEach(SimFramework::markRemoved);
                }
            } catch (InvalidProtocolBufferException e) {
                cluster.violation("registry record corrupt: " + e.getMessage());
            }
        }
    }

    /** The run stops at the first violation. */
    private static final class StoppedEarly extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StoppedEarly() {
            super("stopped at the first violation", null, false, false);
        }
    }
}
