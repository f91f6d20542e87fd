package io.mezzo.ha.zk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mezzo.testkit.ZkEnsemble;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.Test;

/**
 * {@code zk://user:password@...}: the masters' nodes can be changed only with the masters'
 * credentials; the leader can be read by anyone, the registry by nobody else.
 */
class ZkAclTest {

    @Test
    void onlyTheMastersCredentialsWriteAndTheRegistryIsNotWorldReadable() throws Exception {
        try (ZkEnsemble zk = new ZkEnsemble(1)) {
            ZkUrl masters = ZkUrl.parse("zk://mezzo:s3cret@" + zk.connectString() + "/mezzo");
            ZkUrl anonymousUrl = ZkUrl.parse("zk://" + zk.connectString() + "/mezzo");
            ZkUrl intruderUrl = ZkUrl.parse("zk://mezzo:guess@" + zk.connectString() + "/mezzo");
            try (CuratorFramework master = ZkClients.start(masters, Duration.ofSeconds(5));
                    CuratorFramework anonymous = ZkClients.start(anonymousUrl, Duration.ofSeconds(5));
                    CuratorFramework intruder = ZkClients.start(intruderUrl, Duration.ofSeconds(5))) {
                master.create().creatingParentsIfNeeded().forPath(ZkPaths.LEADER, "leader".getBytes(StandardCharsets.UTF_8));
                master.create().creatingParentsIfNeeded().forPath(ZkPaths.REGISTRY + "/frameworks/f1", new byte[] {1});

                assertThat(new String(anonymous.getData().forPath(ZkPaths.LEADER), StandardCharsets.UTF_8))
                        .isEqualTo("leader");
                for (CuratorFramework other : new CuratorFramework[] {anonymous, intruder}) {
                    assertThatThrownBy(() -> other.setData().forPath(ZkPaths.LEADER, new byte[] {2}))
                            .isInstanceOf(KeeperException.NoAuthException.class);
                    assertThatThrownBy(() -> other.getData().forPath(ZkPaths.REGISTRY + "/frameworks/f1"))
                            .isInstanceOf(KeeperException.NoAuthException.class);
                    assertThatThrownBy(() -> other.delete().forPath(ZkPaths.REGISTRY + "/frameworks/f1"))
                            .isInstanceOf(KeeperException.NoAuthException.class);
                }
                master.setData().forPath(ZkPaths.REGISTRY + "/frameworks/f1", new byte[] {3});
            }
        }
    }
}
