package io.mezzo.ha.zk;

import io.mezzo.common.security.TlsSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.curator.framework.state.SessionConnectionStateErrorPolicy;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;

/**
 * Builds the Curator clients Mezzo uses. One policy for all: a SUSPENDED connection is not yet a
 * lost session (SessionConnectionStateErrorPolicy), so a leader can stop acting on SUSPENDED and
 * step down only when the session is really LOST.
 */
public final class ZkClients {

    /**
     * Default ZooKeeper session timeout: how long a crashed leader holds its leadership, so the
     * largest part of a failover. 2 s keeps kill -9 of the leader to the next task done within 4 s
     * (docs/benchmarks.md). The risk of a short session is a needless failover when the leader
     * cannot answer ZooKeeper for two thirds of it (1.3 s: the client then reports SUSPENDED and the
     * leader stops acting until it reconnects); G1 young pauses of a master's small heap are
     * expected in the tens of milliseconds, far below (to be confirmed under load: see
     * docs/benchmarks.md). ZooKeeper grants 2 to 20 ticks, so the
     * servers need {@code tickTime} of 1 s or less for it (with 2 s ticks it becomes 4 s).
     */
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(2);

    private ZkClients() {}

    /** A started plaintext client rooted at the URL's path. */
    public static CuratorFramework start(ZkUrl url, Duration sessionTimeout) {
        return start(url, sessionTimeout, TlsSettings.NONE);
    }

    /**
     * A started client rooted at the URL's path, over TLS when {@code tls} configures it ({@code
     * --zk_tls}: see {@link ZkTls}), plaintext for null or {@link TlsSettings#NONE}.
     *
     * @throws IllegalArgumentException naming the flag when the TLS settings cannot make a client
     */
    public static CuratorFramework start(ZkUrl url, Duration sessionTimeout, TlsSettings tls) {
        ZKClientConfig tlsConfig = ZkTls.clientConfig(tls);
        CuratorFrameworkFactory.Builder b = CuratorFrameworkFactory.builder()
                .connectString(url.connectString())
                .namespace(url.namespace())
                .sessionTimeoutMs((int) sessionTimeout.toMillis())
                .connectionTimeoutMs((int) Math.min(sessionTimeout.toMillis(), 15_000))
                .retryPolicy(new ExponentialBackoffRetry(100, 10, 2_000))
                .connectionStateErrorPolicy(new SessionConnectionStateErrorPolicy())
                // Tests proxy and restart servers; following the ensemble config would escape them.
                .ensembleTracker(false);
        if (url.credentials() != null) {
            b.authorization("digest", url.credentialBytes()).aclProvider(new CreatorAllWorldRead());
        }
        if (tlsConfig != null) {
            // Curator's default factory hands a client config to ZooKeeperAdmin, per client.
            b.zkClientConfig(tlsConfig);
        }
        CuratorFramework client = b.build();
        client.start();
        return client;
    }

    /**
     * With credentials, nodes belong to their creator (every master authenticates as the same
     * digest user, so every master may write them) and nobody else may change them. The election
     * and leader nodes are readable by everyone, so that agents, schedulers and tools find the
     * leader without credentials; the registry (frameworks, agents, roles, with their principals)
     * is readable only with the masters' credentials. See docs/high-availability.md.
     */
    static final class CreatorAllWorldRead implements ACLProvider {
        private static final List<ACL> WORLD_READABLE;

        static {
            List<ACL> acls = new ArrayList<>(ZooDefs.Ids.CREATOR_ALL_ACL);
            acls.addAll(ZooDefs.Ids.READ_ACL_UNSAFE);
            // Not List.copyOf: ZooKeeper checks acl.contains(null), which immutable lists refuse.
            WORLD_READABLE = java.util.Collections.unmodifiableList(acls);
        }

        @Override
        public List<ACL> getDefaultAcl() {
            return WORLD_READABLE;
        }

        @Override
        public List<ACL> getAclForPath(String path) {
            return path != null && (path.endsWith(ZkPaths.REGISTRY) || path.contains(ZkPaths.REGISTRY + "/"))
                    ? ZooDefs.Ids.CREATOR_ALL_ACL
                    : WORLD_READABLE;
        }
    }
}
