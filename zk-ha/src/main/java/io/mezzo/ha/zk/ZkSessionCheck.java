package io.mezzo.ha.zk;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the operator when ZooKeeper did not grant the session timeout asked for ({@code
 * --zk_session_timeout}). The servers clamp it silently to [minSessionTimeout, maxSessionTimeout],
 * by default 2 to 20 x tickTime, and failover time follows the granted value, not the flag.
 *
 * <p>Thread: the listener runs once on Curator's event thread at the first connection; it only
 * logs one WARN (or a DEBUG line when granted as asked) and completes {@link #negotiated()}. Owner:
 * the daemon that created the client, for the client's lifetime.
 */
public final class ZkSessionCheck {

    private static final Logger LOG = LoggerFactory.getLogger(ZkSessionCheck.class);

    private final CompletableFuture<Integer> negotiated = new CompletableFuture<>();

    private ZkSessionCheck() {}

    /** Watches {@code client}'s first connection and warns once if the granted timeout differs. */
    public static ZkSessionCheck watch(CuratorFramework client, Duration requested) {
        ZkSessionCheck check = new ZkSessionCheck();
        long asked = requested.toMillis();
        ConnectionStateListener listener = new ConnectionStateListener() {
            @Override
            public void stateChanged(CuratorFramework c, ConnectionState state) {
                if (!state.isConnected() || check.negotiated.isDone()) {
                    return;
                }
                int granted = c.getZookeeperClient().getLastNegotiatedSessionTimeoutMs();
                if (granted <= 0) {
                    return; // not known yet; the next connected state tells
                }
                String warning = message(asked, granted);
                if (warning != null) {
                    LOG.warn(warning);
                } else {
                    LOG.debug("ZooKeeper granted the session timeout of {} ms asked for", granted);
                }
                check.negotiated.complete(granted);
                c.getConnectionStateListenable().removeListener(this);
            }
        };
        client.getConnectionStateListenable().addListener(listener);
        if (client.getZookeeperClient().isConnected()) {
            listener.stateChanged(client, ConnectionState.CONNECTED);
        }
        return check;
    }

    /** The session timeout ZooKeeper granted in ms, once the client has connected. */
    public CompletableFuture<Integer> negotiated() {
        return negotiated;
    }

    /** The warning when {@code grantedMs} is not {@code requestedMs}, else null. Pure. */
    public static String message(long requestedMs, int grantedMs) {
        if (grantedMs == requestedMs) {
            return null;
        }
        return "ZooKeeper granted a session timeout of " + grantedMs + " ms, not the " + requestedMs
                + " ms of --zk_session_timeout: the servers allow only minSessionTimeout..maxSessionTimeout"
                + " (by default 2 to 20 x tickTime), so a crashed leader is replaced after about " + grantedMs
                + " ms; change the flag or the servers' tickTime/maxSessionTimeout (docs/operations.md, ZooKeeper)";
    }
}
