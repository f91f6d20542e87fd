package io.mezzo.ha.zk;

import io.mezzo.common.security.TlsSettings;
import io.mezzo.ha.MasterDetector;
import io.mezzo.proto.v1.MasterInfo;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The light leader follower for {@code zk://} clients ({@code mezzo run}, the operator commands,
 * scheduler clients, agents): a plain ZooKeeper client, no Curator framework, no ensemble tracker,
 * no retry loop. It reads the leader's znode ({@code <root>/leader}), watches it, and tells its
 * listeners who leads. Masters keep {@link ZkMasterDetector} on the Curator client their election
 * shares.
 *
 * <p>Which leader: the znode is the one {@code ZkLeaderElection} writes, once the master that
 * Curator's LeaderLatch elected has bumped the epoch and is ready, in a transaction fenced by that
 * epoch; it is ephemeral, so it goes with the leader's session. This class reads exactly what
 * {@link ZkMasterDetector} reads, so both name the same master.
 *
 * <pre>
 *   new session --SyncConnected--> sync + getData(watch) --+--> listeners (told even unchanged)
 *       ^                                                  |
 *       |  Expired: a new ZooKeeper handle                  +-- NONODE: exists(watch) --> none
 *   reconnect within the session --SyncConnected--> sync + getData(watch), as above
 *   znode created / changed / deleted --watch--> getData(watch) --> listeners (told a change)
 * </pre>
 *
 * <p>Invariants kept here (those of {@link ZkMasterDetector}):
 *
 * <ol>
 *   <li>After every SyncConnected (the first connection, a reconnection, a new session after an
 *       expiry) the znode is read and watched again, and the listeners are told the value read,
 *       changed or not. Nothing polls: reads follow connection events, watch events and {@link
 *       #redetect()} only.
 *   <li>Listeners see values in the order the reads were issued: the answer to an older read (an
 *       older session's included) that arrives after a newer one is dropped.
 *   <li>A listener is told the current value when it is added, and every later value after it.
 *   <li>Losing the connection or the session does not clear the leader; only reading the znode
 *       absent (or unreadable) does.
 * </ol>
 *
 * <p>Thread-safe. Reads complete and watches fire on the ZooKeeper handle's event thread, where
 * listeners run (or on the caller's in {@link #addListener}); they must only hand the news over.
 * Owner: whoever started it; {@link #close()} closes the ZooKeeper handle. All state is soft.
 */
public final class ZkLeaderReader implements MasterDetector {

    private static final Logger LOG = LoggerFactory.getLogger(ZkLeaderReader.class);

    private final ZkUrl url;
    private final int sessionTimeoutMs;
    private final TlsSettings tls;
    private final List<Consumer<Optional<MasterInfo>>> listeners = new CopyOnWriteArrayList<>();
    private final Watcher znodeWatcher = this::znodeChanged;
    private final Object lock = new Object();
    private volatile Optional<MasterInfo> leader = Optional.empty();
    private volatile boolean closed;
    // Guarded by lock.
    private ZooKeeper zk;
    private long issued;
    private long applied;
    private boolean readOnce;
    /** Whether any handle of this reader has connected: later connections are reconnections. */
    private boolean connectedOnce;

    private ZkLeaderReader(ZkUrl url, Duration sessionTimeout, TlsSettings tls) {
        this.url = url;
        this.sessionTimeoutMs = (int) sessionTimeout.toMillis();
        this.tls = tls;
    }

    /**
     * Starts following the leader under {@code url}; returns at once (the first read completes in
     * the background: see {@link #awaitLeader(Duration)}). Over TLS when {@code tls} configures it.
     *
     * @throws IllegalArgumentException if the ZooKeeper client cannot be made (bad TLS files)
     */
    public static ZkLeaderReader start(ZkUrl url, Duration sessionTimeout, TlsSettings tls) {
        ZkLeaderReader r = new ZkLeaderReader(url, sessionTimeout, tls == null ? TlsSettings.NONE : tls);
        synchronized (r.lock) {
            try {
                r.zk = r.newHandle();
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot reach ZooKeeper at " + url + ": " + e.getMessage(), e);
            }
        }
        return r;
    }

    /** As {@link #start(ZkUrl, Duration, TlsSettings)}, plaintext. */
    public static ZkLeaderReader start(ZkUrl url, Duration sessionTimeout) {
        return start(url, sessionTimeout, TlsSettings.NONE);
    }

    /** A new ZooKeeper handle (a new session), chrooted at the URL's path. Caller holds the lock. */
    private ZooKeeper newHandle() throws IOException {
        ZKClientConfig config = ZkTls.clientConfig(tls);
        if (config == null) {
            config = new ZKClientConfig();
        }
        // The handle's own watcher sees connection events only; it is bound to its handle so that
        // an expired handle's late events cannot act on its successor. Its events wait for the lock,
        // which the caller holds until self[0] and zk are set.
        ZooKeeper[] self = new ZooKeeper[1];
        Watcher session = event -> sessionEvent(self, event);
        ZooKeeper handle = new ZooKeeper(url.connectString() + url.path(), sessionTimeoutMs, session, config);
        self[0] = handle;
        if (url.credentials() != null) {
            handle.addAuthInfo("digest", url.credentialBytes());
        }
        return handle;
    }

    /** Why a read was issued; all but a watch event tell the listeners even an unchanged value. */
    private enum Reason {
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

    /**
     * Waits until a leader is known, at most {@code timeout}; empty if none was within it (no
     * leader elected, or ZooKeeper out of reach). Any thread but a listener's.
     */
    public Optional<MasterInfo> awaitLeader(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (leader.isEmpty() && !closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                lock.wait(Math.max(1, left / 1_000_000));
            }
            return leader;
        }
    }

    /**
     * The leader, waiting for one at most {@code timeout}.
     *
     * @throws IllegalStateException saying why there is none: no master elected (the znode was read
     *     absent), or ZooKeeper not reached within the wait
     */
    public MasterInfo requireLeader(Duration timeout) throws InterruptedException {
        Optional<MasterInfo> l = awaitLeader(timeout);
        if (l.isPresent()) {
            return l.get();
        }
        String why = hasRead()
                ? "no master is elected (" + url.path() + ZkPaths.LEADER + " is absent)"
                : "ZooKeeper did not answer";
        throw new IllegalStateException("no leading master in " + url + " within " + timeout.toMillis() + " ms: " + why);
    }

    /** The current ZooKeeper handle, for tests that expire its session. */
    ZooKeeper handle() {
        return current();
    }

    /** Whether the znode has been read at least once (so that an empty {@link #leader()} means none). */
    public boolean hasRead() {
        synchronized (lock) {
            return readOnce;
        }
    }

    @Override
    public void addListener(Consumer<Optional<MasterInfo>> listener) {
        synchronized (lock) {
            listeners.add(listener);
            listener.accept(leader);
        }
    }

    /** Reads the znode again (after a sync) and tells the listeners the value, changed or not. */
    @Override
    public void redetect() {
        read(current(), Reason.REDETECT);
    }

    @Override
    public void close() {
        ZooKeeper handle;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            handle = zk;
            lock.notifyAll();
        }
        try {
            handle.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private ZooKeeper current() {
        synchronized (lock) {
            return zk;
        }
    }

    /** The handle's event thread: connection states of the handle in {@code self[0]}. */
    private void sessionEvent(ZooKeeper[] self, WatchedEvent event) {
        if (closed || event.getType() != Watcher.Event.EventType.None) {
            return;
        }
        ZooKeeper handle;
        synchronized (lock) {
            handle = self[0];
        }
        switch (event.getState()) {
            case SyncConnected, ConnectedReadOnly -> {
                boolean again;
                synchronized (lock) {
                    again = connectedOnce;
                    connectedOnce = true;
                }
                read(handle, again ? Reason.RECONNECTED : Reason.CONNECTED);
            }
            case Expired -> renewSession(handle);
            case AuthFailed -> LOG.warn("ZooKeeper authentication failed for {}: check the credentials in --master", url);
            default -> LOG.debug("ZooKeeper connection for {}: {}", url, event.getState());
        }
    }

    /** The session of {@code expired} is gone with its watches: a new handle reads again once connected. */
    private void renewSession(ZooKeeper expired) {
        synchronized (lock) {
            if (closed || zk != expired) {
                return;
            }
            LOG.warn("ZooKeeper session for {} expired; still following leader {} until a new session reads"
                    + " the leader again", url, MasterInfoJson.describe(leader));
            try {
                zk = newHandle();
            } catch (IOException e) {
                // Only a failure to open a selector gets here: nothing left to follow with.
                LOG.error("Could not open a new ZooKeeper session for {}: {}", url, e.toString());
            }
        }
        try {
            expired.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The handle's event thread: the znode was created, changed or deleted. */
    private void znodeChanged(WatchedEvent event) {
        if (closed || event.getType() == Watcher.Event.EventType.None) {
            return;
        }
        read(current(), Reason.WATCH);
    }

    /**
     * Issues a read of the znode that also watches it; a forced read first syncs this client's
     * server with the ensemble's leader, so that a server that just rejoined cannot answer with
     * what it knew before.
     */
    private void read(ZooKeeper handle, Reason reason) {
        long seq;
        synchronized (lock) {
            if (closed || handle != zk) {
                return;
            }
            seq = ++issued;
        }
        if (reason.forced()) {
            handle.sync(ZkPaths.LEADER, (rc, path, ctx) -> getData(handle, seq, reason), null);
        } else {
            getData(handle, seq, reason);
        }
    }

    private void getData(ZooKeeper handle, long seq, Reason reason) {
        if (closed) {
            return;
        }
        handle.getData(ZkPaths.LEADER, znodeWatcher,
                (rc, path, ctx, data, stat) -> dataRead(handle, seq, reason, rc, data), null);
    }

    private void dataRead(ZooKeeper handle, long seq, Reason reason, int rc, byte[] data) {
        KeeperException.Code code = KeeperException.Code.get(rc);
        if (code == KeeperException.Code.NONODE) {
            // Watch for its creation; the answer to that look is a read like any other.
            handle.exists(ZkPaths.LEADER, znodeWatcher, (rc2, path, ctx, stat) -> existsRead(handle, seq, reason, rc2),
                    null);
            return;
        }
        if (code != KeeperException.Code.OK) {
            // Connection trouble: the next SyncConnected reads again.
            LOG.debug("Could not read the leader znode in {}: {}; reading again on the next connection", url, code);
            return;
        }
        Optional<MasterInfo> next = Optional.empty();
        if (data != null) {
            try {
                next = Optional.of(MasterInfoJson.decode(data));
            } catch (IllegalArgumentException e) {
                LOG.warn("Ignored the leader znode in {}: {}", url, e.getMessage());
            }
        }
        apply(seq, reason, next);
    }

    private void existsRead(ZooKeeper handle, long seq, Reason reason, int rc) {
        KeeperException.Code code = KeeperException.Code.get(rc);
        if (code == KeeperException.Code.OK) {
            // Created between the two looks: the watch just set has fired or will; read it now.
            read(handle, reason);
            return;
        }
        if (code != KeeperException.Code.NONODE) {
            LOG.debug("Could not watch the leader znode in {}: {}; reading again on the next connection", url, code);
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
            readOnce = true;
            boolean changed = !next.equals(leader);
            leader = next;
            lock.notifyAll();
            if (changed) {
                LOG.debug("Leader in {} is now {}", url, MasterInfoJson.describe(next));
            }
            switch (reason) {
                case CONNECTED -> LOG.info("ZooKeeper connected for {}: the leader is {}", url, MasterInfoJson.describe(next));
                case RECONNECTED -> LOG.info("ZooKeeper reconnected for {}: read the leader again: {}", url,
                        MasterInfoJson.describe(next));
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
        return "ZkLeaderReader[" + url + "]";
    }
}
