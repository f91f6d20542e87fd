package io.mezzo.dist;

import static io.mezzo.testkit.Protos.shellTask;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.mezzo.agent.Agent;
import io.mezzo.agent.AgentConfig;
import io.mezzo.dist.Cluster.Framework;
import io.mezzo.dist.Cluster.Subscribed;
import io.mezzo.ha.zk.ZkClients;
import io.mezzo.ha.zk.ZkMasterDetector;
import io.mezzo.ha.zk.ZkPaths;
import io.mezzo.ha.zk.ZkUrl;
import io.mezzo.master.Master;
import io.mezzo.master.MasterConfig;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.FrameworkView;
import io.mezzo.proto.v1.GetAgentStateResponse;
import io.mezzo.proto.v1.GetStateRequest;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.OperatorGrpc;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.scheduler.MezzoSchedulerClient;
import io.mezzo.scheduler.Scheduler;
import io.mezzo.scheduler.SchedulerDriver;
import io.mezzo.scheduler.SchedulerError;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.Timeouts;
import io.mezzo.testkit.ZkEnsemble;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ZooKeeper failing under a running cluster, in one JVM: three masters with {@code --zk} on a
 * 3-server ensemble (500 ms tick), an agent running a real process, and a framework written with
 * the scheduler library; every ZooKeeper client has a 2 s session. What must hold whatever
 * ZooKeeper does: a leader is elected again, the agent and the framework reach it on their own,
 * the task keeps running and is never killed, and the framework is not removed. A master that
 * loses its ZooKeeper session calls its lost-leadership handler (the launcher exits there, status
 * 1); here the handler records why and the test closes the master, as the exit would.
 */
class QuorumLossTest {

    private static final Duration SESSION = Duration.ofSeconds(2);

    @TempDir
    Path work;

    private ZkEnsemble zk;
    private String zkUrl;
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final List<Master> masters = new ArrayList<>();
    private final List<CompletableFuture<String>> lost = new ArrayList<>();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private Agent agent;
    private Recorder fw;
    private FrameworkID frameworkId;

    /**
     * Starts the cluster; the agent and the framework find the leader through {@code detectorUrl},
     * launch a task and see it running.
     */
    private void start(java.util.function.UnaryOperator<String> detectorUrl) throws Exception {
        zk = new ZkEnsemble(3);
        zkUrl = zk.url("/mezzo");
        for (int i = 0; i < 3; i++) {
            CompletableFuture<String> reason = new CompletableFuture<>();
            Master m = new Master(MasterConfig.builder().ip("127.0.0.1").port(0).httpPort(0).idPrefix("m" + i)
                    .zk(zkUrl).zkSessionTimeout(SESSION).faultHandler(faults)
                    .onLostLeadership(reason::complete).build());
            m.start();
            masters.add(m);
            lost.add(reason);
            if (i == 0) {
                m.elected().get(Timeouts.FAILOVER.toSeconds(), TimeUnit.SECONDS);
            }
        }
        String detectors = detectorUrl.apply(zkUrl);
        agent = new Agent(AgentConfig.builder()
                .masterDetector(ZkMasterDetector.start(ZkUrl.parse(detectors), SESSION))
                .ip("127.0.0.1").port(0).hostname("agent-1").workDir(work.resolve("agent-1"))
                .resources("cpus:2;mem:1024;disk:1024")
                .statusUpdateRetry(Duration.ofMillis(500), Duration.ofSeconds(2))
                .registrationBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                // Tests run tasks as whoever runs the build (root on CI machines).
                .allowRootTasks(true)
                .faultHandler(faults).build());
        agent.start();
        agent.registered().get(Timeouts.FAILOVER.toSeconds(), TimeUnit.SECONDS);

        ZkMasterDetector frameworkDetector = ZkMasterDetector.start(ZkUrl.parse(detectors), SESSION);
        toClose.add(frameworkDetector);
        fw = new Recorder();
        // 60 s, as in the report: a framework stranded that long would be removed and its task killed.
        FrameworkInfo info = Cluster.frameworkInfo("quorum").setFailoverTimeout(60).build();
        MezzoSchedulerClient driver = MezzoSchedulerClient.builder(info, fw).detector(frameworkDetector)
                .reconnectBackoff(Duration.ofMillis(100), Duration.ofSeconds(1)).faultHandler(faults).build();
        fw.framework.driver = driver;
        toClose.add(driver);
        driver.start();
        frameworkId = fw.framework.next(Subscribed.class).frameworkId();
        Offer offer = fw.framework.takeOffer(agent.agentId().orElseThrow().value());
        driver.launch(offer.getId(), List.of(shellTask("survivor", offer, "sleep 300")));
        await().atMost(Timeouts.PROCESS).until(() -> fw.framework.nextUpdate("survivor").getState() == TaskState.TASK_RUNNING);
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        if (agent != null) {
            agent.close();
        }
        for (Master m : masters) {
            m.close();
        }
        if (zk != null) {
            zk.close();
        }
        faults.assertNoFaults();
    }

    /**
     * Two of three ZooKeeper servers stop for longer than every session. The leader loses its
     * session and steps down for good. The agent and the framework find ZooKeeper only through the
     * server that comes back last (their connect string names it alone), so the new leader is
     * elected and published while they are cut off and in new sessions: they must read the leader
     * znode again, not wait for a change they already missed.
     */
    @Test
    void quorumLostForLongerThanTheSessionElectsALeaderAgainAndStrandsNobody() throws Exception {
        start(url -> zk.url(0, "/mezzo"));
        Master first = masters.get(0);

        zk.kill(0);
        zk.kill(1);
        assertThat(lost.get(0).get(Timeouts.FAILOVER.toSeconds(), TimeUnit.SECONDS)).isEqualTo("ZooKeeper session lost");
        // The launcher would exit here.
        first.close();

        // Quorum is back (servers 1 and 2); the agent's and the framework's server is still down.
        zk.restart(1);
        await("a new leader").atMost(Timeouts.FAILOVER).until(() -> leader() != null);
        Master second = leader();
        assertThat(second).isNotSameAs(first);
        // Standbys lose their sessions too, but only wait: they have no leadership to lose.
        assertThat(lost.subList(1, 3)).allSatisfy(f -> assertThat(f).isNotDone());
        zk.restart(0);

        everyoneFollows(second);
    }

    /**
     * The ZooKeeper server the leader is connected to dies; the other two keep quorum. The leader's
     * client moves to another server within its session, so it is suspended and then acts again
     * (or, on a machine too slow to move within 2 s, loses its session and another master is
     * elected); either way the agent and the framework end up with the leader.
     */
    @Test
    void losingTheLeadersZooKeeperServerKeepsEveryoneWithALeader() throws Exception {
        start(url -> url);
        Master first = masters.get(0);
        int server = zk.serverHolding(leaderSession());
        assertThat(server).as("the leader's ZooKeeper server").isNotNegative();

        zk.kill(server);
        await("a leader").atMost(Timeouts.FAILOVER).until(() -> leader() != null);
        Master leader = leader();
        if (leader != first) {
            assertThat(lost.get(0).get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("ZooKeeper session lost");
        }
        everyoneFollows(leader);
    }

    /**
     * The agent re-registers with {@code leader} and the framework resubscribes to it with its id;
     * the task still runs, was never reported otherwise, and the framework is connected.
     */
    private void everyoneFollows(Master leader) throws Exception {
        MasterInfo info = leader.info();
        Subscribed again;
        do {
            again = fw.framework.next(Subscribed.class);
        } while (again.master().getPort() != info.getPort());
        assertThat(again.frameworkId()).isEqualTo(frameworkId);

        await("the agent registered with the leader").atMost(Timeouts.FAILOVER).until(() -> {
            GetAgentStateResponse s = agent.state().get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);
            return s.getRegistered() && s.getMasterInfo().getPort() == info.getPort();
        });
        await("the leader knows the agent and the task").atMost(Timeouts.FAILOVER).until(() -> {
            GetStateResponse s = state(leader);
            return s.getAgentsList().stream().anyMatch(a -> a.getState() == AgentView.State.REGISTERED)
                    && s.getTasksList().stream().anyMatch(t -> t.getTaskId().getValue().equals("survivor")
                            && t.getState() == TaskState.TASK_RUNNING);
        });
        GetStateResponse s = state(leader);
        assertThat(s.getFrameworksList()).singleElement().satisfies(f -> {
            assertThat(f.getFrameworkInfo().getId()).isEqualTo(frameworkId);
            assertThat(f.getState()).isEqualTo(FrameworkView.State.CONNECTED);
        });
        assertThat(agent.state().get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS).getTasksList())
                .singleElement().satisfies(t -> assertThat(t.getState()).isEqualTo(TaskState.TASK_RUNNING));
        assertThat(fw.statuses).as("every update of the task").isNotEmpty()
                .allSatisfy(st -> assertThat(st.getState()).isIn(TaskState.TASK_STARTING, TaskState.TASK_RUNNING));
    }

    private Master leader() {
        return masters.stream().filter(Master::isLeading).findFirst().orElse(null);
    }

    /** The session of the leader's ZooKeeper client: the owner of the ephemeral leader znode. */
    private long leaderSession() throws Exception {
        try (CuratorFramework c = ZkClients.start(ZkUrl.parse(zkUrl), SESSION)) {
            Stat stat = await().atMost(Timeouts.WAIT).until(() -> c.checkExists().forPath(ZkPaths.LEADER), st -> st != null);
            return stat.getEphemeralOwner();
        }
    }

    private static GetStateResponse state(Master m) {
        ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", m.port()).usePlaintext().build();
        try {
            return OperatorGrpc.newBlockingStub(c).withDeadlineAfter(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS)
                    .getState(GetStateRequest.getDefaultInstance());
        } finally {
            c.shutdownNow();
        }
    }

    /** The cluster fixture's recording scheduler, keeping also every update it was given. */
    private static final class Recorder implements Scheduler {
        final Framework framework = new Framework();
        final List<TaskStatus> statuses = new CopyOnWriteArrayList<>();

        @Override
        public void subscribed(SchedulerDriver d, FrameworkID id, MasterInfo master) {
            framework.subscribed(d, id, master);
        }

        @Override
        public void offers(SchedulerDriver d, List<Offer> offers) {
            framework.offers(d, offers);
        }

        @Override
        public void rescinded(SchedulerDriver d, OfferID id) {
            framework.rescinded(d, id);
        }

        @Override
        public void update(SchedulerDriver d, TaskStatus status) {
            statuses.add(status);
            framework.update(d, status);
        }

        @Override
        public void message(SchedulerDriver d, AgentID agent, ExecutorID executor, byte[] data) {}

        @Override
        public void error(SchedulerDriver d, SchedulerError error) {
            framework.error(d, error);
        }

        @Override
        public void disconnected(SchedulerDriver d) {
            framework.disconnected(d);
        }
    }
}
