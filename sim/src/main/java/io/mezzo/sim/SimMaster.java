package io.mezzo.sim;

import io.mezzo.common.loop.EventLoop;
import io.mezzo.master.EmbeddedMaster;
import io.mezzo.master.MasterConfig;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.MasterInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One master process: a real master core ({@link EmbeddedMaster}) on its own manual loop, its
 * session with {@link SimZooKeeper}, and the links clients opened to it. A crash or a lost session
 * ends the process; {@link Cluster} starts a new one (a new id, an empty memory) in its place.
 *
 * <p>Thread: the simulation's.
 */
final class SimMaster {

    final String name;
    private final World world;
    private final SimZooKeeper zk;
    private final EventLoop loop;
    private final EmbeddedMaster master;
    private final MasterInfo info;
    private final List<Link<?, ?>> links = new ArrayList<>();
    private MasterInfo electedAs;
    private boolean alive = true;
    private boolean suspended;
    private final Runnable onExit;
    private final Duration sessionTimeout;

    SimMaster(World world, SimZooKeeper zk, String name, int port, Duration sessionTimeout, int maxLaunchesInFlight,
            Runnable onExit) {
        this.world = world;
        this.onExit = onExit;
        this.sessionTimeout = sessionTimeout;
        this.zk = zk;
        this.name = name;
        this.loop = world.newLoop(name);
        MasterConfig config = MasterConfig.builder()
                .clock(world.clock)
                .faultHandler(world.faultHandler)
                .idPrefix(name)
                .hostname(name)
                .agentPingInterval(Duration.ofSeconds(2))
                .maxAgentPingTimeouts(3)
                .frameworkHeartbeatInterval(Duration.ofSeconds(5))
                .agentReregisterTimeout(Duration.ofSeconds(20))
                .zkSessionTimeout(sessionTimeout)
                .maxLaunchesInFlight(maxLaunchesInFlight)
                .build();
        this.master = new EmbeddedMaster(config, loop, name, world.random.nextLong(), this::steppedDown);
        this.info = MasterInfo.newBuilder().setId(name).setHostname(name).setIp("10.0.0." + port).setPort(5050)
                .setStartTime(world.clock.seconds()).build();
    }

    MasterInfo info() {
        return info;
    }

    boolean alive() {
        return alive;
    }

    /** Whether this master acts as leader now. */
    boolean acting() {
        return alive && master.acting();
    }

    /** Whether the master's loop ran anything since the world last cleared it. */
    boolean busy() {
        return world.ran(loop);
    }

    EmbeddedMaster master() {
        return master;
    }

    /** Agents and live tasks only, read on its loop (this thread). */
    GetStateResponse agentsAndTasks() {
        return master.agentsAndTasks();
    }

    /** The master's state, read on its loop (this thread). */
    GetStateResponse state() {
        return master.state();
    }

    /** A client opened {@code link} to this master; it breaks if the master crashes. */
    void opened(Link<?, ?> link) {
        links.removeIf(Link::broken);
        links.add(link);
    }

    void elected(MasterInfo as, io.mezzo.ha.registry.Registry registry) {
        electedAs = as;
        master.elected(as, registry);
    }

    void leaderIs(MasterInfo leader) {
        if (alive) {
            master.leaderIs(leader);
        }
    }

    /** The host dies: streams break, the loop stops; the session lingers until it expires. */
    void crash() {
        if (!alive) {
            return;
        }
        alive = false;
        world.dropLoop(loop);
        for (Link<?, ?> link : links) {
            link.breakLink(name + " crashed");
        }
        links.clear();
        world.after(sessionTimeout.toMillis(), "zk: session of " + name + " expired", () -> zk.leave(this));
        onExit.run();
    }

    /**
     * ZooKeeper connection suspended: the leader stops acting; it either reconnects within {@code
     * reconnectAfter} or, when null, its session expires and it gives leadership up for good.
     */
    void loseSession(Duration reconnectAfter) {
        if (!alive || suspended) {
            return;
        }
        suspended = true;
        boolean leading = zk.leader() == this;
        if (leading) {
            master.suspended();
        }
        if (reconnectAfter != null) {
            world.after(reconnectAfter.toMillis(), "zk: " + name + " reconnected", () -> {
                suspended = false;
                if (alive && leading && zk.leader() == this) {
                    master.reconnected(electedAs);
                }
            });
        } else {
            world.after(sessionTimeout.toMillis(), "zk: session of " + name + " expired; it stops", () -> {
                suspended = false;
                if (!alive) {
                    return;
                }
                zk.leave(this);
                master.lost("ZooKeeper session expired");
                stopProcess();
            });
        }
    }

    /** The core gave leadership up for good (a failed registry write): the process exits. */
    private void steppedDown(String reason) {
        world.trace(name + " steps down: " + reason);
        world.after(0, "", () -> {
            if (alive) {
                zk.leave(this);
                stopProcess();
            }
        });
    }

    private void stopProcess() {
        // The loop runs the core's stop (closing every stream), then the process is gone.
        world.runLoops();
        alive = false;
        world.dropLoop(loop);
        for (Link<?, ?> link : links) {
            link.breakLink(name + " exited");
        }
        links.clear();
        onExit.run();
    }
}
