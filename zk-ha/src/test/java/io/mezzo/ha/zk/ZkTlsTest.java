package io.mezzo.ha.zk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.mezzo.common.security.TlsSettings;
import io.mezzo.ha.MasterDetector;
import io.mezzo.ha.MasterDetectors;
import io.mezzo.ha.election.LeaderElection;
import io.mezzo.ha.election.ZkLeaderElection;
import io.mezzo.ha.registry.Registry;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.testkit.TestPki;
import io.mezzo.testkit.Timeouts;
import io.mezzo.testkit.TlsZkServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --zk_tls}: Mezzo's ZooKeeper clients over TLS to a real ZooKeeper server whose secure port
 * requires a client certificate. A client with the cluster's CA and a certificate reads, writes and
 * wins an election, and a detector follows it; a plaintext client, a TLS client without a
 * certificate and a client that trusts another CA never get a session.
 */
class ZkTlsTest {

    private static final Duration SESSION = Duration.ofSeconds(5);
    /** How long a client that must not connect is given: a TLS handshake on loopback takes milliseconds. */
    private static final int REFUSED_WAIT_SECONDS = 3;

    @TempDir
    Path dir;

    private TestPki pki;
    private TlsZkServer zk;

    @BeforeEach
    void start() throws Exception {
        pki = TestPki.create(dir.resolve("ca"));
        zk = new TlsZkServer(pki, "zookeeper", dir);
    }

    @AfterEach
    void stop() throws Exception {
        zk.close();
    }

    private ZkUrl secureUrl() {
        return ZkUrl.parse("zk://" + zk.secureConnectString() + "/mezzo");
    }

    @Test
    void aClientWithTheClusterCertificateReadsWritesAndIsElected() throws Exception {
        try (CuratorFramework master = ZkClients.start(secureUrl(), SESSION, pki.client("master-1"))) {
            assertThat(master.blockUntilConnected((int) Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            master.create().creatingParentsIfNeeded().forPath("/probe", "over tls".getBytes(StandardCharsets.UTF_8));
            assertThat(new String(master.getData().forPath("/probe"), StandardCharsets.UTF_8)).isEqualTo("over tls");

            CompletableFuture<MasterInfo> elected = new CompletableFuture<>();
            try (ZkLeaderElection election = new ZkLeaderElection(master, "master-1");
                    MasterDetector agentSide =
                            MasterDetectors.fromAddress("zk://" + zk.secureConnectString() + "/mezzo",
                                    pki.client("agent-1"))) {
                election.start(MasterInfo.newBuilder().setId("master-1").setIp("127.0.0.1").setPort(5050).build(),
                        new LeaderElection.Listener() {
                            @Override
                            public void elected(MasterInfo self, Registry registry) {
                                elected.complete(self);
                            }

                            @Override
                            public void suspended() {}

                            @Override
                            public void reconnected() {}

                            @Override
                            public void lost(String reason) {
                                elected.completeExceptionally(new AssertionError("lost: " + reason));
                            }
                        });
                assertThat(elected.get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS).getId()).isEqualTo("master-1");
                await().atMost(Timeouts.WAIT).untilAsserted(() ->
                        assertThat(agentSide.leader().map(MasterInfo::getId)).isEqualTo(Optional.of("master-1")));
            }
        }
    }

    @Test
    void plaintextAndCertificateLessAndForeignClientsGetNoSession() throws Exception {
        TestPki foreign = TestPki.create(dir.resolve("foreign"));
        TlsSettings[] refused = {TlsSettings.NONE, pki.client(null), foreign.client("intruder")};
        for (TlsSettings tls : refused) {
            try (CuratorFramework client = ZkClients.start(secureUrl(), SESSION, tls)) {
                assertThat(client.blockUntilConnected(REFUSED_WAIT_SECONDS, TimeUnit.SECONDS))
                        .as("client with %s connected", tls)
                        .isFalse();
            }
        }
    }

    @Test
    void tlsWithoutACaIsRefusedNamingTheFlag() {
        Path cert = pki.issue("master-1").cert();
        Path key = pki.issue("master-1").key();
        assertThatThrownBy(() -> ZkTls.clientConfig(new TlsSettings(cert, key, null, null)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--zk_tls needs --tls_ca");
    }

    @Test
    void theJoinedKeyStoreIsReadableByItsOwnerOnly() throws Exception {
        var config = ZkTls.clientConfig(pki.client("master-1"));
        Path keyStore = Path.of(config.getProperty("zookeeper.ssl.keyStore.location"));
        assertThat(Files.readString(keyStore)).contains("BEGIN CERTIFICATE").contains("PRIVATE KEY");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(keyStore)))
                .isEqualTo("rw-------");
        assertThat(config.getProperty("zookeeper.client.secure")).isEqualTo("true");
    }
}
