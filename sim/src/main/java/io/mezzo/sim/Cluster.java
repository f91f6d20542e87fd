package io.mezzo.sim;

import com.google.protobuf.ByteString;
import io.mezzo.agent.status.TaskKey;
import io.mezzo.common.resources.Resources;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One simulated cluster for one seed: ZooKeeper, the network, the masters (a leader and a standby;
 * a master that dies is replaced by a new process), the agents and the frameworks, and the seeded
 * faults of {@link Faults}. {@link Simulation} runs it and {@link Invariants} checks it.
 *
 * <p>Thread: the simulation's.
 */
final class Cluster {

    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(4);

    final World world;
    final SimZooKeeper zk;
    final Network network;
    final List<SimMaster> masters = new ArrayList<>();
    final List<SimAgent> agents = new ArrayList<>();
    final List<SimFramework> frameworks = new ArrayList<>();
    final List<String> violations = new ArrayList<>();
    final Invariants invariants = new Invariants(this);
    private final Map<TaskKey, List<ByteString>> history = new HashMap<>();
    private int masterCount;
    /** Longest a task runs; a few run for an hour (until killed). */
    private final long maxTaskMillis;
    long launchedTasks;
    /**
     * The masters' launch budget: small (1-8, or 0 for off now and then), so that admission control
     * holds offers back, resumes and prunes under faults in most seeds.
     */
    final int maxLaunchesInFlight;

    Cluster(World world, int masters, int agents, int frameworks) {
        this.world = world;
        this.zk = new SimZooKeeper(world);
        this.network = new Network(world);
        this.maxTaskMillis = 1000L * (1 + world.random.nextInt(20));
        this.maxLaunchesInFlight = world.random.nextInt(9);
        for (int i = 0; i < masters; i++) {
            startMaster();
        }
        for (int i = 1; i <= agents; i++) {
            int cpus = 2 + world.random.nextInt(7);
            SimAgent a = new SimAgent(this, "agent" + i, Resources.scalars("cpus", cpus * 1000L, "mem",
                    1024_000L * (1 + world.random.nextInt(8))));
            this.agents.add(a);
            world.after(world.random.nextInt(500), "agent" + i + " starts", a::start);
        }
        for (int i = 1; i <= frameworks; i++) {
            SimFramework f = new SimFramework(this, "fw" + i, 3 + world.random.nextInt(30), world.random.nextBoolean());
            this.frameworks.add(f);
            world.after(world.random.nextInt(500), "fw" + i + " starts", f::start);
        }
    }

    /** A new master process joins the election. */
    void startMaster() {
        int n = ++masterCount;
        SimMaster[] self = new SimMaster[1];
        self[0] = new SimMaster(world, zk, "m" + n, n, SESSION_TIMEOUT, maxLaunchesInFlight, () -> {
            masters.remove(self[0]);
            world.after(1000 + world.random.nextInt(4000), "a new master process starts", this::startMaster);
        });
        masters.add(self[0]);
        world.trace("master m" + n + " starts");
        zk.join(self[0]);
    }

    /** The master that acts as leader now, or null. */
    SimMaster actingLeader() {
        SimMaster leader = zk.leader();
        return leader != null && leader.acting() ? leader : null;
    }

    /** Every uuid made for the task, in the order its agent made them (the simulation's record). */
    List<ByteString> history(TaskKey key) {
        return history.computeIfAbsent(key, k -> new ArrayList<>());
    }

    /** How long the next task runs. */
    long taskDuration() {
        if (world.random.nextInt(10) == 0) {
            return Duration.ofHours(1).toMillis();
        }
        return world.random.nextInt((int) maxTaskMillis);
    }

    void violation(String what) {
        violations.add(what);
        world.trace("VIOLATION: " + what);
    }
}
