package io.mezzo.ha.zk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.test.KillSession;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ZooKeeper detector on a real 3-server ensemble: it follows the leader znode through
 * disconnections and session expiries, not only through the watch it had.
 */
class ZkMasterDetectorTest {

    private static final Duration SESSION = Duration.ofSeconds(1);

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

    private CuratorFramework client(String url, Duration session) {
        CuratorFramework c = ZkClients.start(ZkUrl.parse(url), session);
        toClose.add(c);
        return c;
    }

    private static MasterInfo master(String id, int port) {
        return MasterInfo.newBuilder().setId(id).setIp("127.0.0.1").setPort(port).build();
    }

    /** Replaces the leader znode as an election does: delete and create, so its version is 0 again. */
    private static void publish(CuratorFramework writer, MasterInfo info) throws Exception {
        byte[] json = MasterInfoJson.encode(info);
        if (writer.checkExists().forPath(ZkPaths.LEADER) != null) {
            writer.transaction().forOperations(
                    writer.transactionOp().delete().forPath(ZkPaths.LEADER),
                    writer.transactionOp().create().withMode(CreateMode.EPHEMERAL).forPath(ZkPaths.LEADER, json));
        } else {
            writer.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(ZkPaths.LEADER, json);
        }
    }

    private static int port(ZkMasterDetector d) {
        return d.leader().map(MasterInfo::getPort).orElse(0);
    }

    /**
     * A detector whose only server goes away while the leader changes (delete and create, as every
     * election does), and comes back: {@code expire} keeps it away for longer than its session.
     */
    private void leaderChangesWhileTheDetectorIsCutOff(boolean expire) throws Exception {
        // The writer talks to servers 1 and 2 (a quorum without server 0); the detector to server 0 only.
        CuratorFramework writer = client("zk://" + zk.connectString(1) + "," + zk.connectString(2) + "/mezzo",
                Duration.ofSeconds(10));
        publish(writer, master("a", 1001));
        // Within the session: long enough for server 0 to rejoin; beyond it: as short as ZooKeeper allows.
        CuratorFramework detectorClient = client(zk.url(0, "/mezzo"), expire ? SESSION : Duration.ofSeconds(10));
        BlockingQueue<ConnectionState> states = new LinkedBlockingQueue<>();
        detectorClient.getConnectionStateListenable().addListener((c, s) -> states.add(s));
        ZkMasterDetector detector = ZkMasterDetector.onClient(detectorClient, "test");
        toClose.add(detector);
        BlockingQueue<Optional<MasterInfo>> told = new LinkedBlockingQueue<>();
        detector.addListener(told::add);
        await().atMost(Timeouts.WAIT).until(() -> port(detector) == 1001);

        zk.kill(0);
        awaitState(states, ConnectionState.SUSPENDED);
        publish(writer, master("b", 1002));
        if (expire) {
            awaitState(states, ConnectionState.LOST);
        }
        told.clear();
        zk.restart(0);
        awaitState(states, ConnectionState.RECONNECTED);

        await("the detector reads the new leader after reconnecting").atMost(Timeouts.WAIT)
                .until(() -> port(detector) == 1002);
        Optional<MasterInfo> last = null;
        while (last == null || last.map(MasterInfo::getPort).orElse(0) != 1002) {
            last = told.poll(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(last).as("listeners are told the new leader").isNotNull();
        }
    }

    /** Skips states until {@code expected} (the first CONNECTED may or may not be seen). */
    private static void awaitState(BlockingQueue<ConnectionState> states, ConnectionState expected)
            throws InterruptedException {
        ConnectionState s;
        do {
            s = states.poll(Timeouts.FAILOVER.toSeconds(), TimeUnit.SECONDS);
            assertThat(s).as("connection state %s", expected).isNotNull();
        } while (s != expected);
    }

    @Test
    void aLeaderChangeMissedWhileDisconnectedIsReadOnReconnection() throws Exception {
        leaderChangesWhileTheDetectorIsCutOff(false);
    }

    @Test
    void aLeaderChangeMissedWhileTheSessionExpiredIsReadInTheNewSession() throws Exception {
        leaderChangesWhileTheDetectorIsCutOff(true);
    }

    @Test
    void followsTheZnodeThroughCreationChangeAndDeletion() throws Exception {
        CuratorFramework writer = client(zk.url("/mezzo"), Duration.ofSeconds(10));
        ZkMasterDetector detector = ZkMasterDetector.start(ZkUrl.parse(zk.url("/mezzo")), SESSION);
        toClose.add(detector);
        BlockingQueue<Optional<MasterInfo>> told = new LinkedBlockingQueue<>();
        detector.addListener(told::add);
        assertThat(told.poll(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS)).isEmpty();

        publish(writer, master("a", 1001));
        awaitTold(told, 1001);
        publish(writer, master("b", 1002));
        awaitTold(told, 1002);
        writer.delete().forPath(ZkPaths.LEADER);
        await("the deletion is told").atMost(Timeouts.WAIT).until(() -> told.contains(Optional.empty()));
        assertThat(detector.leader()).isEmpty();
        publish(writer, master("c", 1003));
        awaitTold(told, 1003);
    }

    @Test
    void aNewSessionReadsAndWatchesTheLeaderAgainAndRepeatsIt() throws Exception {
        CuratorFramework writer = client(zk.url("/mezzo"), Duration.ofSeconds(10));
        publish(writer, master("a", 1001));
        CuratorFramework detectorClient = client(zk.url("/mezzo"), SESSION);
        BlockingQueue<ConnectionState> states = new LinkedBlockingQueue<>();
        detectorClient.getConnectionStateListenable().addListener((c, s) -> states.add(s));
        ZkMasterDetector detector = ZkMasterDetector.onClient(detectorClient, "test");
        toClose.add(detector);
        await().atMost(Timeouts.WAIT).until(() -> port(detector) == 1001);
        BlockingQueue<Optional<MasterInfo>> told = new LinkedBlockingQueue<>();
        detector.addListener(told::add);
        awaitTold(told, 1001);

        KillSession.kill(detectorClient.getZookeeperClient().getZooKeeper());
        awaitState(states, ConnectionState.LOST);
        awaitState(states, ConnectionState.RECONNECTED);
        // Unchanged, yet told again: a listener waiting to retry the leader retries at once.
        awaitTold(told, 1001);
        // And the new session watches the znode.
        publish(writer, master("b", 1002));
        awaitTold(told, 1002);
    }

    @Test
    void redetectTellsTheListenersTheLeaderEvenUnchanged() throws Exception {
        CuratorFramework writer = client(zk.url("/mezzo"), Duration.ofSeconds(10));
        publish(writer, master("a", 1001));
        ZkMasterDetector detector = ZkMasterDetector.start(ZkUrl.parse(zk.url("/mezzo")), SESSION);
        toClose.add(detector);
        await().atMost(Timeouts.WAIT).until(() -> port(detector) == 1001);
        BlockingQueue<Optional<MasterInfo>> told = new LinkedBlockingQueue<>();
        detector.addListener(told::add);
        awaitTold(told, 1001);

        detector.redetect();
        awaitTold(told, 1001);
    }

    @Test
    void aZnodeThatIsNotMasterInfoMeansNoLeader() throws Exception {
        CuratorFramework writer = client(zk.url("/mezzo"), Duration.ofSeconds(10));
        publish(writer, master("a", 1001));
        ZkMasterDetector detector = ZkMasterDetector.start(ZkUrl.parse(zk.url("/mezzo")), SESSION);
        toClose.add(detector);
        await().atMost(Timeouts.WAIT).until(() -> port(detector) == 1001);
        writer.setData().forPath(ZkPaths.LEADER, "not json".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        await().atMost(Timeouts.WAIT).until(() -> detector.leader().isEmpty());
    }

    /**
     * Takes what the listeners were told until a leader at {@code port}; earlier values may be
     * repeats (a detector is allowed to tell the same leader again).
     */
    private static void awaitTold(BlockingQueue<Optional<MasterInfo>> told, int port) throws InterruptedException {
        Optional<MasterInfo> m;
        do {
            m = told.poll(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(m).as("the listeners told of the leader at port %s", port).isNotNull();
        } while (m.map(MasterInfo::getPort).orElse(0) != port);
    }
}
