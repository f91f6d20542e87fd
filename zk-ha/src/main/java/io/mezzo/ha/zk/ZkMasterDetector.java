package io.mezzo.ha.zk;

import io.mezzo.common.security.TlsSettings;
import io.mezzo.ha.MasterDetector;
import io.mezzo.proto.v1.MasterInfo;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.BackgroundCallback;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the leader's znode ({@code <root>/leader}, the leader's MasterInfo as JSON) and tells
 * its listeners who leads. Agents, scheduler clients, {@code mezzo run} and standby masters use it.
 *
 * <pre>
 *   start (on a connected client), CONNECTED, RECONNECTED (same or new session), redetect()
 *        |                                                   watch fires (created, changed, deleted)
 *        v                                                        |
 *   sync + read ------------------------------------------+      v
 *   (forced: listeners are told even an unchanged value)  +--> read + watch again ---> listeners
 *                                                              (told only a change)
 * </pre>
 *
 * <p>Why not Curator's CuratorCache: after a reconnection it re-reads the node but reports it only
 * if the znode's data version changed. Every election replaces the znode (delete, then create), so
 * a new leader's znode has version 0 like its predecessor's, and a detector that was cut off while
 * the leader changed (a ZooKeeper quorum loss, its own server dying, its session expiring) kept
 * reporting the dead leader until the next election. Here every read after a (re)connection
 * compares the content and tells the listeners the current value even when it looks unchanged.
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>After every CONNECTED or RECONNECTED (a new session included, whose watches are gone) the
 *       znode is read again and watched again, and the listeners are told the value read, changed
 *       or not. Nothing polls: reads follow connection events, watch events and {@link
 *       #redetect()} only.
 *   <li>Listeners see values in the order the reads were issued: the answer to an older read that
 *       arrives after a newer one is dropped.
 *   <li>A listener is told the current value when it is added, and every later value after it,
 *       never an older one (adding and telling share one lock).
 *   <li>Losing the ZooKeeper connection or session does not clear the leader: this client's
 *       trouble says nothing about the leader, and the streams to it have their own health checks.
 *       The leader is cleared only when the znode is read absent (or unreadable).
 * </ol>
 *
 * <p>Thread-safe. Reads complete and watches fire on Curator's event thread; connection states
 * arrive on Curator's connection-state thread; listeners run on Curator's event thread, or on the
 * caller's in {@link #addListener}, and must only hand the news over. Owner: whoever started it
 * (an agent, a scheduler client, a {@code ZkLeaderElection}); the client is closed with it only if
 * it owns it. All state is soft: it is read from ZooKeeper.
 */
public final class ZkMasterDetector implements MasterDetector {

    private static final Logger LOG = LoggerFactory.getLogger(ZkMasterDetector.class);

    private final CuratorFramework client;
    private final boolean ownsClient;
    private final String description;
    private final List<Consumer<Optional<MasterInfo>>> listeners = new CopyOnWriteArrayList<>();
    private final Watcher watcher = this::watched;
    private final ConnectionStateListener connectionListener = this::connectionChanged;
    private final Object lock = new Object();
    private volatile Optional<MasterInfo> leader = Optional.empty();
    private volatile boolean closed;
    // Guarded by lock.
    private long issued;
    private long applied;

    /** A detector on its own client for {@code url}; closing it closes the client. */
    public static ZkMasterDetector start(ZkUrl url, Duration sessionTimeout) {
        return start(url, sessionTimeout, TlsSettings.NONE);
    }

    /**
     * A detector on its own client for {@code url}, reaching ZooKeeper over TLS when {@code zkTls}
     * configures it ({@link ZkClients#start(ZkUrl, Duration, TlsSettings)}); closing it closes the
     * client.
     */
    public static ZkMasterDetector start(ZkUrl url, Duration sessionTimeout, TlsSettings zkTls) {
        return new ZkMasterDetector(ZkClients.start(url, sessionTimeout, zkTls), true, url.toString());
    }

    /** A detector on a shared client (not closed with the detector). */
    public static ZkMasterDetector onClient(CuratorFramework client, String description) {
        return new ZkMasterDetector(client, false, description);
    }

    private ZkMasterDetector(CuratorFramework client, boolean ownsClient, String description) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.description = description;
        client.getConnectionStateListenable().addListener(connectionListener);
        // A client that is not connected yet will say CONNECTED or RECONNECTED, and we read then;
        // one already connected (a shared client) may have said it before we listened: read now.
        if (client.getZookeeperClient().isConnected()) {
            read(Reason.START);
        }
    }

    /** Why a read was issued; all but a watch event tell the listeners even an unchanged value. */
    private enum Reason {
        START,
        CONNECTED,
        RECONNECTED,
        REDETECT,
        WATCH;

        boolean forced() {
            return this != WATCH;
        }
    }

    @Override
    public Optional<MasterInfo> leader() {
        return leader;
    }

    @Override
    public void addListener(Consumer<Optional<MasterInfo>> listener) {
        synchronized (lock) {
            listeners.add(listener);
            listener.accept(leader);
        }
    }

    /** Reads the znode again (after a ZooKeeper sync) and tells the listeners the value, changed or not. */
    @Override
    public void redetect() {
        read(Reason.REDETECT);
    }

    @Override
    public void close() {
        closed = true;
        client.getConnectionStateListenable().removeListener(connectionListener);
        if (ownsClient) {
            client.close();
            return;
        }
        try {
            // A shared client lives on: take our watch off it (it would only be ignored).
            client.watchers().remove(watcher).ofType(Watcher.WatcherType.Any).locally().quietly()
                    .inBackground().forPath(ZkPaths.LEADER);
        } catch (Exception e) {
            LOG.debug("Did not remove the leader watch in {}: {}", description, e.toString());
        }
    }

    /** Curator's connection-state thread: a connection (a new session included) means a fresh read. */
    private void connectionChanged(CuratorFramework c, ConnectionState state) {
        if (closed) {
            return;
        }
        switch (state) {
            case CONNECTED -> read(Reason.CONNECTED);
            case RECONNECTED -> read(Reason.RECONNECTED);
            case LOST -> LOG.warn("ZooKeeper session of {} lost; still following leader {} until a new session reads"
                    + " the leader again", description, MasterInfoJson.describe(leader));
            default -> LOG.debug("ZooKeeper connection of {} {}", description, state);
        }
    }

    /** Curator's event thread: the znode was created, changed or deleted. Connection events are ignored here. */
    private void watched(WatchedEvent event) {
        if (closed || event.getType() == Watcher.Event.EventType.None) {
            return;
        }
        read(Reason.WATCH);
    }

    /**
     * Issues a read of the znode that also watches it (getData, or checkExists when it is absent so
     * that its creation is seen). A forced read first syncs this client's server with the ensemble's
     * leader, so that a server that just rejoined cannot answer with what it knew before.
     */
    private void read(Reason reason) {
        if (closed) {
            return;
        }
        long seq;
        synchronized (lock) {
            seq = ++issued;
        }
        try {
            if (reason.forced()) {
                client.sync().inBackground((c, e) -> getData(seq, reason)).forPath(ZkPaths.LEADER);
            } else {
                getData(seq, reason);
            }
        } catch (Exception e) {
            // Only a closed client or an interrupted thread gets here; the next connection reads again.
            LOG.debug("Could not read the leader znode in {}: {}", description, e.toString());
        }
    }

    private void getData(long seq, Reason reason) {
        if (closed) {
            return;
        }
        BackgroundCallback done = (c, event) -> dataRead(seq, reason, event);
        try {
            client.getData().usingWatcher(watcher).inBackground(done).forPath(ZkPaths.LEADER);
        } catch (Exception e) {
            LOG.debug("Could not read the leader znode in {}: {}", description, e.toString());
        }
    }

    private void dataRead(long seq, Reason reason, CuratorEvent event) {
        KeeperException.Code code = KeeperException.Code.get(event.getResultCode());
        if (code == KeeperException.Code.NONODE) {
            // Watch for its creation; the answer to that look is a read like any other.
            try {
                client.checkExists().usingWatcher(watcher)
                        .inBackground((c, e) -> existsRead(seq, reason, e)).forPath(ZkPaths.LEADER);
            } catch (Exception e) {
                LOG.debug("Could not watch the leader znode in {}: {}", description, e.toString());
            }
            return;
        }
        if (code != KeeperException.Code.OK) {
            // Connection trouble: the next CONNECTED or RECONNECTED reads again.
            LOG.info("Could not read the leader znode in {}: {}; reading again on the next connection",
                    description, code);
            return;
        }
        Optional<MasterInfo> next = Optional.empty();
        byte[] data = event.getData();
        if (data != null) {
            try {
                next = Optional.of(MasterInfoJson.decode(data));
            } catch (IllegalArgumentException e) {
                LOG.warn("Ignored the leader znode in {}: {}", description, e.getMessage());
            }
        }
        apply(seq, reason, next);
    }

    private void existsRead(long seq, Reason reason, CuratorEvent event) {
        KeeperException.Code code = KeeperException.Code.get(event.getResultCode());
        if (code == KeeperException.Code.OK) {
            // Created between the two looks: the watch just set has fired or will; read it now.
            read(reason);
            return;
        }
        if (code != KeeperException.Code.NONODE) {
            LOG.info("Could not watch the leader znode in {}: {}; reading again on the next connection",
                    description, code);
            return;
        }
        apply(seq, reason, Optional.empty());
    }

    /** Takes the value of read {@code seq} and tells the listeners (invariants 1-3). */
    private void apply(long seq, Reason reason, Optional<MasterInfo> next) {
        synchronized (lock) {
            if (closed || seq < applied) {
                return;
            }
            applied = seq;
            boolean changed = !next.equals(leader);
            leader = next;
            if (changed) {
                LOG.debug("Leader in {} is now {}", description, MasterInfoJson.describe(next));
            }
            switch (reason) {
                case CONNECTED -> LOG.info("ZooKeeper connected for {}: the leader is {}", description, MasterInfoJson.describe(next));
                case RECONNECTED -> LOG.info("ZooKeeper reconnected for {}: read the leader again: {}",
                        description, MasterInfoJson.describe(next));
                case REDETECT -> LOG.debug("Leader in {} read again on request: {}", description, MasterInfoJson.describe(next));
                default -> {
                }
            }
            if (!changed && !reason.forced()) {
                return;
            }
            for (Consumer<Optional<MasterInfo>> l : listeners) {
                l.accept(next);
            }
        }
    }

    @Override
    public String toString() {
        return "ZkMasterDetector[" + description + "]";
    }
}
