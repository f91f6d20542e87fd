package io.mezzo.sim;

import io.mezzo.proto.v1.DrainConfig;
import io.mezzo.proto.v1.DurationInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The seeded faults. Each seed enables a random subset of the kinds (so some runs are calm and go
 * deep, others are chaotic), then injects one every few virtual seconds until the fault phase ends.
 * To add a fault: a kind here, a case in {@link #inject}, and, if it needs a hook in a simulated
 * daemon, a method there that does what the real failure does.
 *
 * <p>Thread: the simulation's.
 */
final class Faults {

    /** The kinds of fault. */
    enum Kind {
        /** The leading master's host dies; a new master process starts later. */
        MASTER_CRASH,
        /** The leader's ZooKeeper connection is suspended; it reconnects in time, or its session expires. */
        ZK_SESSION_LOSS,
        /** An agent process dies and restarts from its checkpoint (sometimes long enough to be unreachable). */
        AGENT_CRASH,
        /** An agent's stream breaks. */
        AGENT_STREAM_BREAK,
        /** A scheduler's stream breaks. */
        FRAMEWORK_STREAM_BREAK,
        /** A scheduler process restarts and fails over to its framework id. */
        FRAMEWORK_FAILOVER,
        /** A scheduler stays away past its failover timeout: the framework is removed. */
        FRAMEWORK_TIMEOUT,
        /** A scheduler tears its framework down. */
        TEARDOWN,
        /** Messages take up to seconds for a while (order within a stream is kept). */
        SLOW_NETWORK,
        /** A standby (not the leader) master's host dies; a new master process starts later. */
        STANDBY_CRASH,
        /**
         * An operator drains a registered agent through the leader (DrainAgent: a grace cap now and
         * then, mark_gone now and then) and, half the time, reactivates it a few seconds later.
         */
        DRAIN
    }

    private final Cluster cluster;
    private final World world;
    final Set<Kind> enabled = EnumSet.noneOf(Kind.class);

    Faults(Cluster cluster) {
        this.cluster = cluster;
        this.world = cluster.world;
        for (Kind k : Kind.values()) {
            // Tear-downs and timeouts end a framework for good: rarer, so most seeds keep their frameworks.
            int odds = k == Kind.TEARDOWN || k == Kind.FRAMEWORK_TIMEOUT ? 5 : 2;
            if (world.random.nextInt(odds) == 0) {
                enabled.add(k);
            }
        }
    }

    /** Injects faults until {@code untilMillis} (virtual elapsed time). */
    void schedule(long untilMillis) {
        if (enabled.isEmpty()) {
            return;
        }
        world.after(500 + world.random.nextInt(4000), "", () -> {
            if (world.clock.elapsed() >= untilMillis) {
                return;
            }
            List<Kind> kinds = new ArrayList<>(enabled);
            inject(kinds.get(world.random.nextInt(kinds.size())));
            schedule(untilMillis);
        });
    }

    private void inject(Kind kind) {
        switch (kind) {
            case MASTER_CRASH -> {
                SimMaster m = cluster.zk.leader();
                if (m != null && m.alive()) {
                    world.trace("FAULT: " + m.name + " crashes");
                    m.crash();
                }
            }
            case ZK_SESSION_LOSS -> {
                SimMaster m = cluster.zk.leader();
                if (m != null && m.alive()) {
                    boolean expire = world.random.nextInt(3) == 0;
                    world.trace("FAULT: " + m.name + " loses its ZooKeeper connection" + (expire ? "; the session will expire"
                            : ""));
                    m.loseSession(expire ? null : Duration.ofMillis(100 + world.random.nextInt(2000)));
                }
            }
            case AGENT_CRASH -> {
                SimAgent a = pick(cluster.agents.stream().filter(SimAgent::up).toList());
                if (a != null) {
                    long down = world.random.nextInt(5) == 0 ? 10_000 + world.random.nextInt(20_000)
                            : 200 + world.random.nextInt(5000);
                    world.trace("FAULT: " + a.name + " crashes for " + down + " ms");
                    a.crash();
                    world.after(down, a.name + " restarts", a::start);
                }
            }
            case AGENT_STREAM_BREAK -> {
                SimAgent a = pick(cluster.agents.stream().filter(SimAgent::up).toList());
                if (a != null) {
                    world.trace("FAULT: " + a.name + "'s stream breaks");
                    a.breakStream();
                }
            }
            case FRAMEWORK_STREAM_BREAK -> {
                SimFramework f = pick(cluster.frameworks.stream().filter(SimFramework::up).toList());
                if (f != null) {
                    world.trace("FAULT: " + f.name + "'s stream breaks");
                    f.breakStream();
                }
            }
            case FRAMEWORK_FAILOVER -> {
                SimFramework f = pick(cluster.frameworks.stream().filter(SimFramework::up).toList());
                if (f != null) {
                    long down = 100 + world.random.nextInt(2000);
                    world.trace("FAULT: " + f.name + " fails over after " + down + " ms");
                    f.stop();
                    world.after(down, f.name + " starts again", f::start);
                }
            }
            case FRAMEWORK_TIMEOUT -> {
                SimFramework f = pick(cluster.frameworks.stream().filter(SimFramework::up).toList());
                if (f != null) {
                    long down = 35_000;
                    world.trace("FAULT: " + f.name + " stays away for " + down + " ms");
                    f.stop();
                    world.after(down, f.name + " starts again", f::start);
                }
            }
            case TEARDOWN -> {
                SimFramework f = pick(cluster.frameworks.stream().filter(SimFramework::up).toList());
                if (f != null) {
                    world.trace("FAULT: " + f.name + " tears itself down");
                    f.teardown();
                }
            }
            case STANDBY_CRASH -> {
                SimMaster leader = cluster.zk.leader();
                SimMaster m = pick(cluster.masters.stream().filter(x -> x.alive() && x != leader).toList());
                if (m != null) {
                    world.trace("FAULT: standby " + m.name + " crashes");
                    m.crash();
                }
            }
            case DRAIN -> drain();
            case SLOW_NETWORK -> {
                long slow = 500 + world.random.nextInt(4000);
                world.trace("FAULT: the network is slow for " + slow + " ms");
                cluster.network.slowFor(slow);
            }
        }
    }

    /** DrainAgent of a registered agent through the acting leader; ReactivateAgent later, half the time. */
    private void drain() {
        SimMaster leader = cluster.actingLeader();
        SimAgent a = pick(cluster.agents.stream().filter(SimAgent::registered).toList());
        if (leader == null || a == null) {
            return;
        }
        String id = a.id();
        DrainConfig.Builder config = DrainConfig.newBuilder();
        if (world.random.nextBoolean()) {
            config.setMaxGracePeriod(DurationInfo.newBuilder().setNanoseconds(world.random.nextInt(3000) * 1_000_000L));
        }
        config.setMarkGone(world.random.nextInt(4) == 0);
        boolean reactivate = !config.getMarkGone() && world.random.nextBoolean();
        long after = 1000 + world.random.nextInt(9000);
        world.trace("FAULT: operator drains " + a.name + " (" + id + ")" + (config.getMarkGone() ? ", mark gone" : "")
                + (reactivate ? ", reactivates after " + after + " ms" : ""));
        leader.master().drainAgent(id, config.build(), refused -> {
            if (refused != null) {
                world.trace("operator: DrainAgent " + id + " refused: " + refused);
            }
        });
        if (reactivate) {
            world.after(after, "operator: ReactivateAgent " + id, () -> reactivate(id));
        }
    }

    /** ReactivateAgent through whoever acts as leader now (refused when the drain is gone or unknown). */
    private void reactivate(String id) {
        SimMaster leader = cluster.actingLeader();
        if (leader == null) {
            world.trace("operator: ReactivateAgent " + id + " skipped: no acting leader");
            return;
        }
        leader.master().reactivateAgent(id, refused -> {
            if (refused != null) {
                world.trace("operator: ReactivateAgent " + id + " refused: " + refused);
            }
        });
    }

    private <T> T pick(List<T> from) {
        return from.isEmpty() ? null : from.get(world.random.nextInt(from.size()));
    }
}
