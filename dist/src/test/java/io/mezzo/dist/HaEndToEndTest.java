package io.mezzo.dist;

import static io.mezzo.testkit.Protos.shellTask;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.mezzo.agent.Agent;
import io.mezzo.agent.AgentConfig;
import io.mezzo.dist.Cluster.Framework;
import io.mezzo.master.Master;
import io.mezzo.master.MasterConfig;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.DrainAgentRequest;
import io.mezzo.proto.v1.DrainState;
import io.mezzo.proto.v1.DurationInfo;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.GetStateRequest;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.KillPolicy;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OperatorGrpc;
import io.mezzo.proto.v1.ReactivateAgentRequest;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.scheduler.MezzoSchedulerClient;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.Timeouts;
import io.mezzo.testkit.ZkEnsemble;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replicated masters on a real 3-server ZooKeeper ensemble with real agents running real
 * processes and a scheduler written with the scheduler API, all following the leader through
 * ZooKeeper.
 */
class HaEndToEndTest {


    @TempDir
    Path work;

    private ZkEnsemble zk;
    private String zkUrl;
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final List<Master> masters = new ArrayList<>();
    private final List<Agent> agents = new ArrayList<>();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        zk = new ZkEnsemble(3);
        zkUrl = zk.url("/mezzo");
        for (int i = 0; i < 3; i++) {
            Master m = new Master(MasterConfig.builder().ip("127.0.0.1").port(0).httpPort(0).idPrefix("m" + i)
                    .zk(zkUrl).zkSessionTimeout(Duration.ofSeconds(2)).faultHandler(faults)
                    .agentPingInterval(Duration.ofSeconds(2)).build());
            m.start();
            masters.add(m);
            if (i == 0) {
                m.elected().get(30, TimeUnit.SECONDS);
            }
        }
        for (int i = 1; i <= 3; i++) {
            Agent a = new Agent(AgentConfig.builder().master(zkUrl).ip("127.0.0.1").port(0).hostname("agent-" + i)
                    .workDir(work.resolve("agent-" + i)).resources("cpus:2;mem:1024;disk:1024")
                    .statusUpdateRetry(Duration.ofMillis(500), Duration.ofSeconds(2))
                    .registrationBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                    // Tests run tasks as whoever runs the build (root on CI machines).
                    .allowRootTasks(true)
                    .faultHandler(faults).build());
            agents.add(a);
            a.start();
            a.registered().get(30, TimeUnit.SECONDS);
        }
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        for (Agent a : agents) {
            a.close();
        }
        for (Master m : masters) {
            m.close();
        }
        zk.close();
        faults.assertNoFaults();
    }

    private Framework framework(FrameworkInfo info) {
        Framework fw = new Framework();
        fw.driver = MezzoSchedulerClient.builder(info, fw).master(zkUrl).declineUnusedOffers(false)
                .reconnectBackoff(Duration.ofMillis(100), Duration.ofSeconds(1)).faultHandler(faults).build();
        toClose.add(fw.driver);
        fw.driver.start();
        fw.frameworkId = fw.next(Cluster.Subscribed.class).frameworkId();
        return fw;
    }

    private Master leader() {
        return masters.stream().filter(Master::isLeading).findFirst().orElse(null);
    }

    private GetStateResponse state(Master m) {
        ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", m.port()).usePlaintext().build();
        try {
            return OperatorGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .getState(GetStateRequest.getDefaultInstance());
        } finally {
            c.shutdownNow();
        }
    }


    private OperatorGrpc.OperatorBlockingStub operator(Master m) {
        ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", m.port()).usePlaintext().build();
        toClose.add(c::shutdownNow);
        return OperatorGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private AgentView agentView(Master m, String agentId) {
        return state(m).getAgentsList().stream().filter(a -> a.getAgentInfo().getId().getValue().equals(agentId))
                .findFirst().orElseThrow();
    }

    private static String http(Master m, String path) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Timeouts.WAIT).build();
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + m.httpPort() + path)).timeout(Timeouts.WAIT).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path).isEqualTo(200);
        return response.body();
    }

    /**
     * Declines the framework's offer on {@code agentId} with no filter and waits for the next one:
     * an allocation ran after everything before this call, so any agent it could offer was offered.
     */
    private static void allocationPassed(Framework fw, String agentId) {
        Offer o = fw.takeOffer(agentId);
        fw.driver.decline(List.of(o.getId()), Filters.newBuilder().setRefuseSeconds(0).build());
        fw.takeOffer(agentId);
    }

    private static Offer anyOffer(Framework fw, List<Agent> agents, int index) {
        return fw.takeOffer(agents.get(index).agentId().orElseThrow().value());
    }

    @Test
    void losingTheLeaderLosesNoTaskAndNoUpdate() throws Exception {
        Master first = leader();
        Framework fw = framework(Cluster.frameworkInfo("ha").setFailoverTimeout(300).build());
        FrameworkID id = fw.frameworkId;
        Offer o1 = anyOffer(fw, agents, 0);
        fw.driver.launch(o1.getId(), List.of(shellTask("long", o1, "sleep 300")));
        Offer o2 = anyOffer(fw, agents, 1);
        fw.driver.launch(o2.getId(), List.of(shellTask("brief", o2, "sleep 4")));
        await().atMost(Timeouts.FAILOVER).until(() -> fw.nextUpdate("long").getState() == TaskState.TASK_RUNNING);
        await().atMost(Timeouts.FAILOVER).until(() -> fw.nextUpdate("brief").getState() == TaskState.TASK_RUNNING);

        // The leader dies abruptly: its session expires and it stops serving at once.
        first.faults().expireZkSession();
        first.close();
        await().atMost(Timeouts.FAILOVER).until(() -> leader() != null && leader() != first);
        Master second = leader();
        MasterInfo info = second.elected().get();
        assertThat(info.getEpoch()).isGreaterThan(first.info().getEpoch());

        // "brief" finished while no master led: its TASK_FINISHED still arrives (and is acknowledged).
        TaskStatus finished;
        do {
            finished = fw.nextUpdate("brief");
        } while (finished.getState() == TaskState.TASK_RUNNING);
        assertThat(finished.getState()).isEqualTo(TaskState.TASK_FINISHED);
        assertThat(fw.frameworkId).isEqualTo(id);

        await().atMost(Timeouts.FAILOVER).until(() -> state(second).getAgentsList().stream()
                .allMatch(a -> a.getState() == AgentView.State.REGISTERED) && state(second).getAgentsCount() == 3);
        GetStateResponse state = state(second);
        assertThat(state.getFrameworksList()).singleElement()
                .satisfies(f -> assertThat(f.getFrameworkInfo().getId()).isEqualTo(id));
        assertThat(state.getTasksList()).anySatisfy(t -> {
            assertThat(t.getTaskId().getValue()).isEqualTo("long");
            assertThat(t.getState()).isEqualTo(TaskState.TASK_RUNNING);
        });
        // The acknowledgement reached the agent: "brief" is forgotten everywhere.
        await().atMost(Timeouts.FAILOVER).until(() -> state(second).getTasksList().stream()
                .noneMatch(t -> t.getTaskId().getValue().equals("brief")));
        await().atMost(Timeouts.FAILOVER).until(() -> agents.get(1).state().get().getTasksList().isEmpty());

        // New tasks launch through the new leader.
        Offer o3 = anyOffer(fw, agents, 2);
        fw.driver.launch(o3.getId(), List.of(shellTask("after", o3, "echo after")));
        List<TaskStatus> after = fw.updatesUntilTerminal("after");
        assertThat(after.get(after.size() - 1).getState()).isEqualTo(TaskState.TASK_FINISHED);
    }

    /**
     * The race of issue 16: the scheduler's ACCEPT reaches a leader that dies before acting on it,
     * so no master and no agent ever hears of the task. The client follows the next leader,
     * resubscribes, and reconciles the task it launched by itself; the new leader answers once the
     * task's agent is back without it. Before, the framework waited for an update forever.
     */
    @Test
    void aLaunchLostWithItsLeaderIsAnsweredByTheNextLeader() throws Exception {
        Master first = leader();
        Framework fw = framework(Cluster.frameworkInfo("ha").setFailoverTimeout(300).build());
        Offer offer = anyOffer(fw, agents, 0);
        first.faults().crashOnNext(Call.Type.ACCEPT);
        fw.driver.launch(offer.getId(), List.of(shellTask("lost", offer, "sleep 300")));
        // The crash stops the stream at once; ZooKeeper still names the dead master until its session expires.
        fw.next(Cluster.Disconnected.class);
        first.faults().expireZkSession();
        await().atMost(Timeouts.FAILOVER).until(() -> leader() != null && leader() != first);

        TaskStatus answer = fw.nextUpdate("lost");
        assertThat(answer.getState()).as("answer %s", answer).isEqualTo(TaskState.TASK_LOST);
        assertThat(answer.getSource()).isEqualTo(StatusSource.SOURCE_MASTER);
        assertThat(answer.getReason()).isEqualTo(StatusReason.REASON_RECONCILIATION);
        assertThat(agents.get(0).state().get().getTasksList())
                .noneMatch(t -> t.getTaskId().getValue().equals("lost"));
    }

    @Test
    void losingZooKeeperQuorumStopsLeadershipButNotTasks() throws Exception {
        Framework fw = framework(Cluster.frameworkInfo("ha").setFailoverTimeout(300).build());
        Offer o1 = anyOffer(fw, agents, 0);
        fw.driver.launch(o1.getId(), List.of(shellTask("survivor", o1, "sleep 300")));
        await().atMost(Timeouts.FAILOVER).until(() -> fw.nextUpdate("survivor").getState() == TaskState.TASK_RUNNING);

        zk.kill(1);
        zk.kill(2);
        await().atMost(Timeouts.FAILOVER).until(() -> leader() == null);
        // No master leads, but the task keeps running on its agent.
        assertThat(agents.get(0).state().get().getTasksList())
                .anySatisfy(t -> assertThat(t.getState()).isEqualTo(TaskState.TASK_RUNNING));

        zk.restart(1);
        zk.restart(2);
        await().atMost(Timeouts.FAILOVER).until(() -> leader() != null);
        Master leader = leader();
        await().atMost(Timeouts.FAILOVER).until(() -> state(leader).getTasksList().stream()
                .anyMatch(t -> t.getTaskId().getValue().equals("survivor") && t.getState() == TaskState.TASK_RUNNING));
        assertThat(state(leader).getFrameworksList()).singleElement()
                .satisfies(f -> assertThat(f.getFrameworkInfo().getId()).isEqualTo(fw.frameworkId));
    }

    /**
     * Issue 11's drain end to end: a drained agent's task (which ignores SIGTERM and asks for ten
     * minutes of grace) is killed within the drain's one-second cap with the draining reason, the
     * agent becomes DRAINED and is offered no more, a new leader keeps it so, and reactivation
     * brings its offers back.
     */
    @Test
    void aDrainKillsWithinItsGraceOffersNothingThereSurvivesTheLeaderAndEndsWithReactivation() throws Exception {
        Master first = leader();
        Framework fw = framework(Cluster.frameworkInfo("drain").setFailoverTimeout(300).build());
        String drained = agents.get(0).agentId().orElseThrow().value();
        String other = agents.get(1).agentId().orElseThrow().value();
        Offer offer = fw.takeOffer(drained);
        TaskInfo stubborn = shellTask("stubborn", offer, "trap '' TERM; sleep 300").toBuilder()
                .setKillPolicy(KillPolicy.newBuilder().setGracePeriod(DurationInfo.newBuilder()
                        .setNanoseconds(Duration.ofMinutes(10).toNanos())))
                .build();
        fw.driver.launch(offer.getId(), List.of(stubborn));
        await().atMost(Timeouts.PROCESS).until(() -> fw.nextUpdate("stubborn").getState() == TaskState.TASK_RUNNING);

        operator(first).drainAgent(DrainAgentRequest.newBuilder().setAgentId(agents.get(0).agentId().orElseThrow()
                .toProto()).setMaxGracePeriod(DurationInfo.newBuilder().setNanoseconds(Duration.ofSeconds(1).toNanos()))
                .build());
        // Only the capped grace lets the SIGKILL come before the wait's bound.
        List<TaskStatus> updates = fw.updatesUntilTerminal("stubborn");
        TaskStatus killed = updates.get(updates.size() - 1);
        assertThat(killed.getState()).as("last of %s", updates).isEqualTo(TaskState.TASK_KILLED);
        assertThat(killed.getReason()).isEqualTo(StatusReason.REASON_AGENT_DRAINING);
        assertThat(killed.getMessage()).contains("SIGKILL");
        await().atMost(Timeouts.PROCESS).until(() -> agentView(first, drained).getState() == AgentView.State.DRAINED);
        allocationPassed(fw, other);
        assertThat(fw.hasOffer(drained)).as("an offer on the drained agent").isFalse();

        // The leader dies: the next one reads the drain back, and the agent re-registers DRAINED.
        first.faults().expireZkSession();
        first.close();
        await().atMost(Timeouts.FAILOVER).until(() -> leader() != null && leader() != first);
        Master second = leader();
        await().atMost(Timeouts.FAILOVER).until(() -> state(second).getAgentsList().stream()
                .allMatch(a -> a.getState() == AgentView.State.REGISTERED || a.getState() == AgentView.State.DRAINED)
                && state(second).getAgentsCount() == 3);
        AgentView view = agentView(second, drained);
        assertThat(view.getState()).isEqualTo(AgentView.State.DRAINED);
        assertThat(view.getDrainInfo().getState()).isEqualTo(DrainState.DRAIN_STATE_DRAINED);
        // The HTTP views show it too (docs/operations.md reads them with jq).
        for (String path : List.of("/agents", "/state")) {
            String body = http(second, path);
            assertThat(body).as(path).contains("\"drain_info\"").contains("\"DRAIN_STATE_DRAINED\"")
                    .contains("\"state\": \"DRAINED\"");
        }
        allocationPassed(fw, other);
        assertThat(fw.hasOffer(drained)).as("an offer on the drained agent from the new leader").isFalse();

        operator(second).reactivateAgent(ReactivateAgentRequest.newBuilder()
                .setAgentId(agents.get(0).agentId().orElseThrow().toProto()).build());
        Offer back = fw.takeOffer(drained);
        fw.driver.launch(back.getId(), List.of(shellTask("back", back, "true")));
        List<TaskStatus> after = fw.updatesUntilTerminal("back");
        assertThat(after.get(after.size() - 1).getState()).isEqualTo(TaskState.TASK_FINISHED);
        assertThat(agentView(second, drained).getState()).isEqualTo(AgentView.State.REGISTERED);
    }
}
