package io.mezzo.ha.zk;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A --zk_session_timeout beyond the server's maximum is reported with both numbers (issue 11). */
@Timeout(60)
class ZkSessionCheckTest {

    @Test
    void aTimeoutAboveTheServersMaximumIsReported(@TempDir Path dir) throws Exception {
        // tickTime 100 ms: the server grants 200..2000 ms
        InstanceSpec spec = new InstanceSpec(dir.toFile(), -1, -1, -1, true, 1, 100, -1, Map.of(), "127.0.0.1");
        try (TestingServer zk = new TestingServer(spec, true);
                CuratorFramework client = ZkClients.start(ZkUrl.parse("zk://" + zk.getConnectString() + "/mezzo"),
                        Duration.ofSeconds(10))) {
            ZkSessionCheck check = ZkSessionCheck.watch(client, Duration.ofSeconds(10));
            int granted = check.negotiated().get(30, TimeUnit.SECONDS);
            assertThat(granted).isEqualTo(2_000);
            assertThat(ZkSessionCheck.message(10_000, granted)).contains("2000 ms").contains("10000 ms");
        }
    }

    @Test
    void aTimeoutWithinTheBoundsIsGrantedQuietly(@TempDir Path dir) throws Exception {
        InstanceSpec spec = new InstanceSpec(dir.toFile(), -1, -1, -1, true, 1, 100, -1, Map.of(), "127.0.0.1");
        try (TestingServer zk = new TestingServer(spec, true);
                CuratorFramework client = ZkClients.start(ZkUrl.parse("zk://" + zk.getConnectString() + "/mezzo"),
                        Duration.ofMillis(1_500))) {
            ZkSessionCheck check = ZkSessionCheck.watch(client, Duration.ofMillis(1_500));
            assertThat(check.negotiated().get(30, TimeUnit.SECONDS)).isEqualTo(1_500);
            assertThat(ZkSessionCheck.message(1_500, 1_500)).isNull();
        }
    }
}
