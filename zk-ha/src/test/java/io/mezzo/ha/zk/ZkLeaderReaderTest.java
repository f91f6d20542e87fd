package io.mezzo.ha.zk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.mezzo.ha.election.LeaderElection;
import io.mezzo.ha.election.ZkLeaderElection;
import io.mezzo.ha.registry.Registry;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.testkit.Timeouts;
import io.mezzo.testkit.ZkEnsemble;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.KillSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The light leader reader on a real 3-server ensemble, against the real election: it names the
 * master that ZkLeaderElection elected (and that ZkMasterDetector names), follows a new election,
 * survives its own session expiring and its server going away, and says clearly when no master
 * leads.
 */
@Timeout(120)
class ZkLeaderReaderTest {

    private static final Duration SESSION = Duration.ofSeconds(2);

    private ZkEnsemble zk;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        zk = new ZkEnsemble(3);
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        zk.close();
    }

    /** A master-to-be on its own Curator client; closing it leaves the election. */
    private final class Candidate implements AutoCloseable {
        final CuratorFramework client = ZkClients.start(ZkUrl.parse(zk.url("/mezzo")), SESSION);
        final ZkLeaderElection election;
        final BlockingQueue<MasterInfo> elected = new LinkedBlockingQueue<>();

        Candidate(String id, int port) {
            election = new ZkLeaderElection(client, id);
            toClose.add(this);
            election.start(MasterInfo.newBuilder().setId(id).setIp("127.0.0.1").setPort(port).build(),
                    new LeaderElection.Listener() {
                        @Override
                        public void elected(MasterInfo self, Registry registry) {
                            elected.add(self);
                        }

                        @Override
                        public void lost(String reason) {}
                    });
        }

        MasterInfo awaitElected() throws InterruptedException {
            MasterInfo m = elected.poll(Timeouts.PROCESS.toSeconds(), TimeUnit.SECONDS);
            assertThat(m).as("elected").isNotNull();
            return m;
        }

        @Override
        public void close() {
            election.close();
            client.close();
        }
    }

    private ZkLeaderReader reader(String url) {
        ZkLeaderReader r = ZkLeaderReader.start(ZkUrl.parse(url), SESSION);
        toClose.add(r);
        return r;
    }

    private static void awaitTold(BlockingQueue<Optional<MasterInfo>> told, String id) throws InterruptedException {
        while (true) {
            Optional<MasterInfo> m = told.poll(Timeouts.FAILOVER.toSeconds(), TimeUnit.SECONDS);
            assertThat(m).as("listeners are told %s", id).isNotNull();
            if (m.isPresent() && m.get().getId().equals(id)) {
                return;
            }
        }
    }

    @Test
    void namesTheElectedMasterAndFollowsTheNextElection() throws Exception {
        Candidate a = new Candidate("a", 1001);
        MasterInfo first = a.awaitElected();
        Candidate b = new Candidate("b", 1002);
        ZkLeaderReader reader = reader(zk.url("/mezzo"));
        BlockingQueue<Optional<MasterInfo>> told = new LinkedBlockingQueue<>();
        reader.addListener(told::add);

        // The same master, epoch included, as the election (and the Curator detector) say.
        assertThat(reader.requireLeader(Timeouts.WAIT)).isEqualTo(first);
        try (ZkMasterDetector curatorDetector = ZkMasterDetector.start(ZkUrl.parse(zk.url("/mezzo")), SESSION)) {
            await().atMost(Timeouts.WAIT).until(() -> curatorDetector.leader().isPresent());
            assertThat(curatorDetector.leader()).isEqualTo(reader.leader());
        }

        a.close();
        MasterInfo second = b.awaitElected();
        awaitTold(told, "b");
        assertThat(reader.leader()).contains(second);
        assertThat(second.getEpoch()).isGreaterThan(first.getEpoch());
    }

    @Test
    void noLeaderMeansABoundedWaitAndAClearError() throws Exception {
        ZkLeaderReader reader = reader(zk.url("/mezzo"));
        await("the first read").atMost(Timeouts.WAIT).until(reader::hasRead);
        assertThatThrownBy(() -> reader.requireLeader(Duration.ofMillis(300)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no leading master in " + zk.url("/mezzo"))
                .hasMessageContaining("no master is elected (/mezzo/leader is absent)");
        // And a master elected later is seen through the watch on the absent znode.
        Candidate a = new Candidate("a", 1001);
        assertThat(reader.requireLeader(Timeouts.WAIT)).isEqualTo(a.awaitElected());
    }

    @Test
    void unreachableZooKeeperIsSaidSo() throws Exception {
        // A port where nothing listens: the ensemble is started, but the reader gets a dead address.
        int dead;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            dead = s.getLocalPort();
        }
        ZkLeaderReader reader = reader("zk://127.0.0.1:" + dead + "/mezzo");
        assertThatThrownBy(() -> reader.requireLeader(Duration.ofMillis(500)))
                .hasMessageContaining("ZooKeeper did not answer");
    }

    @Test
    void anExpiredSessionReadsAndWatchesAgainInANewOne() throws Exception {
        Candidate a = new Candidate("a", 1001);
        a.awaitElected();
        Candidate b = new Candidate("b", 1002);
        ZkLeaderReader reader = reader(zk.url("/mezzo"));
        BlockingQueue<Optional<MasterInfo>> told = new LinkedBlockingQueue<>();
        reader.addListener(told::add);
        awaitTold(told, "a");
        org.apache.zookeeper.ZooKeeper old = reader.handle();

        KillSession.kill(old);
        // Unchanged, yet told again from the new session.
        awaitTold(told, "a");
        await().atMost(Timeouts.WAIT).until(() -> reader.handle() != old);
        // And the new session watches the znode.
        a.close();
        b.awaitElected();
        awaitTold(told, "b");
    }

    @Test
    void aLeaderChangeMissedWhileItsServerWasDownIsReadOnReconnection() throws Exception {
        // The candidates talk to servers 1 and 2 (a quorum without server 0); the reader to server 0 only.
        String quorum = "zk://" + zk.connectString(1) + "," + zk.connectString(2) + "/mezzo";
        Candidate a = new Candidate("a", 1001);
        a.awaitElected();
        ZkLeaderReader reader = ZkLeaderReader.start(ZkUrl.parse(zk.url(0, "/mezzo")), Duration.ofSeconds(10));
        toClose.add(reader);
        BlockingQueue<Optional<MasterInfo>> told = new LinkedBlockingQueue<>();
        reader.addListener(told::add);
        awaitTold(told, "a");

        zk.kill(0);
        CuratorFramework writer = ZkClients.start(ZkUrl.parse(quorum), Duration.ofSeconds(10));
        toClose.add(writer);
        writer.delete().forPath(ZkPaths.LEADER);
        writer.create().withMode(org.apache.zookeeper.CreateMode.EPHEMERAL).forPath(ZkPaths.LEADER,
                MasterInfoJson.encode(MasterInfo.newBuilder().setId("c").setIp("127.0.0.1").setPort(1003).build()));
        zk.restart(0);
        awaitTold(told, "c");
        assertThat(reader.leader().map(MasterInfo::getPort)).contains(1003);
    }
}
