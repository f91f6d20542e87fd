package io.mezzo.ha.zk;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.curator.framework.state.SessionConnectionStateErrorPolicy;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;

/**
 * Builds the Curator clients Mezzo uses. One policy for all: a SUSPENDED connection is not yet a
 * lost session (SessionConnectionStateErrorPolicy), so a leader can stop acting on SUSPENDED and
 * step down only when the session is really LOST.
 */
public final class ZkClients {

    /** Default ZooKeeper session timeout: how long a crashed leader holds its leadership. */
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(5);

    private ZkClients() {}

    /** A started client rooted at the URL's path. */
    public static CuratorFramework start(ZkUrl url, Duration sessionTimeout) {
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
        CuratorFramework client = b.build();
        client.start();
        return client;
    }

    /**
     * With credentials, nodes belong to their creator; everyone may read them, so that tools can
     * find the leader.
     */
    private static final class CreatorAllWorldRead implements ACLProvider {
        private static final List<ACL> ACLS;

        static {
            List<ACL> acls = new ArrayList<>(ZooDefs.Ids.CREATOR_ALL_ACL);
            acls.addAll(ZooDefs.Ids.READ_ACL_UNSAFE);
            ACLS = List.copyOf(acls);
        }

        @Override
        public List<ACL> getDefaultAcl() {
            return ACLS;
        }

        @Override
        public List<ACL> getAclForPath(String path) {
            return ACLS;
        }
    }
}
