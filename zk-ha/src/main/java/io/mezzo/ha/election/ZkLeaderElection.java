package io.mezzo.ha.election;

import io.mezzo.ha.MasterDetector;
import io.mezzo.ha.registry.ZkRegistry;
import io.mezzo.ha.zk.MasterInfoJson;
import io.mezzo.ha.zk.ZkMasterDetector;
import io.mezzo.ha.zk.ZkPaths;
import io.mezzo.proto.v1.MasterInfo;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leader election on ZooKeeper with Curator's LeaderLatch under {@code /election}.
 *
 * <p>On election the new leader bumps {@code /epoch} with a compare-and-set (so epochs strictly
 * increase across terms), hands the master a {@link ZkRegistry} fenced by the epoch znode's new
 * version, and once the master is ready publishes its MasterInfo as JSON in the ephemeral {@code
 * /leader} znode (in a transaction fenced the same way).
 *
 * <p>Connection states: SUSPENDED tells the master to stop acting; RECONNECTED (same session)
 * lets it act again; LOST ends its leadership for good. The client's error policy keeps the latch
 * through SUSPENDED (SessionConnectionStateErrorPolicy), so only a lost session costs leadership.
 *
 * <p>Thread-safe. Latch and connection callbacks are moved to one thread, "mezzo-election", so
 * the listener is told one thing at a time and ZooKeeper calls never block Curator's event thread.
 */
public final class ZkLeaderElection implements LeaderElection {

    private static final Logger LOG = LoggerFactory.getLogger(ZkLeaderElection.class);

    private final CuratorFramework client;
    private final String participantId;
    private final ExecutorService events = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "mezzo-election");
        t.setDaemon(true);
        return t;
    });
    private final ZkMasterDetector detector;
    private LeaderLatch latch;
    private Listener listener;
    private MasterInfo candidate;
    // Election thread only.
    private boolean leading;
    private boolean done;
    /** The ZooKeeper session this master was elected in. */
    private long electedSession;
    private ConnectionStateListener stateListener;

    /** An election on {@code client} (rooted at the Mezzo path) for participant {@code participantId}. */
    public ZkLeaderElection(CuratorFramework client, String participantId) {
        this.client = client;
        this.participantId = participantId;
        this.detector = ZkMasterDetector.onClient(client, "election");
    }

    @Override
    public synchronized void start(MasterInfo candidate, Listener listener) {
        if (latch != null) {
            throw new IllegalStateException("election already started");
        }
        this.candidate = candidate;
        this.listener = listener;
        latch = new LeaderLatch(client, ZkPaths.ELECTION, participantId);
        latch.addListener(new LeaderLatchListener() {
            @Override
            public void isLeader() {
                onElected();
            }

            @Override
            public void notLeader() {
                // The latch may hear of a lost session before our connection listener does: say so.
                finish(sessionId() != electedSession || !client.getZookeeperClient().isConnected()
                        ? "ZooKeeper session lost"
                        : "gave up leadership in ZooKeeper");
            }
        }, events);
        stateListener = (c, state) -> events.execute(() -> onState(state));
        client.getConnectionStateListenable().addListener(stateListener);
        try {
            latch.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot join the election: " + e.getMessage(), e);
        }
        LOG.info("Joined the leader election as {}", participantId);
    }

    @Override
    public MasterDetector detector() {
        return detector;
    }

    private void onElected() {
        if (done) {
            // A stepped-down master must not hold leadership as a zombie (its latch may rejoin
            // after a new session): give it back at once.
            leaveLatch();
            return;
        }
        try {
            int[] epoch = bumpEpoch();
            MasterInfo self = candidate.toBuilder().setEpoch(epoch[0]).build();
            leading = true;
            electedSession = sessionId();
            LOG.info("Elected leader with epoch {}", epoch[0]);
            listener.elected(self, new ZkRegistry(client, epoch[1]));
            // Published only once the master is ready: whoever follows the znode finds it serving.
            publish(self, epoch[1]);
        } catch (Exception e) {
            LOG.error("Could not take leadership: {}", e.toString());
            finish("could not take leadership: " + e.getMessage());
        }
    }

    /** The client's current ZooKeeper session id; 0 while it has none. */
    private long sessionId() {
        try {
            return client.getZookeeperClient().getZooKeeper().getSessionId();
        } catch (Exception e) {
            return 0;
        }
    }

    /** Compare-and-set the epoch up by one; returns the new epoch and the znode's new version. */
    private int[] bumpEpoch() throws Exception {
        while (true) {
            Stat stat = new Stat();
            byte[] data;
            try {
                data = client.getData().storingStatIn(stat).forPath(ZkPaths.EPOCH);
            } catch (KeeperException.NoNodeException e) {
                try {
                    client.create().creatingParentsIfNeeded().forPath(ZkPaths.EPOCH, "0".getBytes(StandardCharsets.UTF_8));
                } catch (KeeperException.NodeExistsException raced) {
                    // Another candidate created it first: read it again.
                }
                continue;
            }
            int current = Integer.parseInt(new String(data, StandardCharsets.UTF_8).trim());
            int next = current + 1;
            try {
                Stat after = client.setData().withVersion(stat.getVersion())
                        .forPath(ZkPaths.EPOCH, Integer.toString(next).getBytes(StandardCharsets.UTF_8));
                return new int[] {next, after.getVersion()};
            } catch (KeeperException.BadVersionException raced) {
                LOG.debug("Epoch moved while electing; retrying");
            }
        }
    }

    /**
     * Replaces the leader znode, fenced by the epoch, with this master's info. The previous
     * leader's ephemeral znode may vanish (its session closing) between our look and our write:
     * look again and retry. A fenced failure (BadVersion) is final.
     */
    private void publish(MasterInfo self, int epochVersion) throws Exception {
        byte[] json = MasterInfoJson.encode(self);
        for (int attempt = 1; ; attempt++) {
            boolean exists = client.checkExists().forPath(ZkPaths.LEADER) != null;
            try {
                if (exists) {
                    client.transaction().forOperations(
                            client.transactionOp().check().withVersion(epochVersion).forPath(ZkPaths.EPOCH),
                            client.transactionOp().delete().forPath(ZkPaths.LEADER),
                            client.transactionOp().create().withMode(CreateMode.EPHEMERAL).forPath(ZkPaths.LEADER, json));
                } else {
                    client.transaction().forOperations(
                            client.transactionOp().check().withVersion(epochVersion).forPath(ZkPaths.EPOCH),
                            client.transactionOp().create().withMode(CreateMode.EPHEMERAL).forPath(ZkPaths.LEADER, json));
                }
                return;
            } catch (KeeperException.NoNodeException | KeeperException.NodeExistsException raced) {
                if (attempt >= 10) {
                    throw raced;
                }
                LOG.debug("Leader znode changed while publishing; retrying");
            }
        }
    }

    private void onState(ConnectionState state) {
        if (done || !leading) {
            return;
        }
        switch (state) {
            case SUSPENDED -> {
                LOG.warn("ZooKeeper connection suspended: stopping to act as leader until it is back");
                listener.suspended();
            }
            case RECONNECTED -> {
                if (latch.hasLeadership()) {
                    LOG.info("ZooKeeper connection back within the session: acting as leader again");
                    listener.reconnected();
                } else {
                    finish("leadership lost while the ZooKeeper connection was suspended");
                }
            }
            case LOST -> finish("ZooKeeper session lost");
            default -> {
            }
        }
    }

    private void finish(String reason) {
        if (done) {
            return;
        }
        done = true;
        boolean wasLeading = leading;
        leading = false;
        leaveLatch();
        if (wasLeading || listener != null) {
            LOG.warn("Stepping down for good: {}", reason);
            listener.lost(reason);
        }
    }

    /** Leaves the latch so that another candidate can lead; election thread. */
    private void leaveLatch() {
        LeaderLatch l;
        synchronized (this) {
            l = latch;
        }
        if (l != null && l.getState() == LeaderLatch.State.STARTED) {
            try {
                l.close(LeaderLatch.CloseMode.SILENT);
            } catch (Exception e) {
                LOG.debug("Leaving the latch: {}", e.toString());
            }
        }
    }

    @Override
    public void close() {
        try {
            events.submit(() -> {
                if (!done && leading) {
                    done = true;
                    leading = false;
                    LOG.info("Giving up leadership: master stopping");
                    listener.lost("master stopping");
                }
                done = true;
            }).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.debug("Election thread did not confirm stop: {}", e.toString());
        }
        if (stateListener != null) {
            client.getConnectionStateListenable().removeListener(stateListener);
        }
        try {
            events.submit(this::leaveLatch).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.debug("Election thread did not leave the latch: {}", e.toString());
        }
        detector.close();
        events.shutdown();
        try {
            events.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
