package io.mezzo.master;

import static io.mezzo.master.MasterTest.launch;
import static io.mezzo.master.MasterTest.task;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.mezzo.common.grpc.LeaderHint;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.ha.zk.ZkClients;
import io.mezzo.ha.zk.ZkUrl;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.FrameworkView;
import io.mezzo.proto.v1.GetHealthRequest;
import io.mezzo.proto.v1.GetStateRequest;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.MarkAgentGoneRequest;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OperatorGrpc;
import io.mezzo.proto.v1.RegistryAgent;
import io.mezzo.proto.v1.RegistryFramework;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.testkit.FakeAgent;
import io.mezzo.testkit.FakeScheduler;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.Timeouts;
import io.mezzo.testkit.ZkEnsemble;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Masters on a real 3-server ZooKeeper ensemble: election, standby redirects, the registry, state
 * rebuilt from agents after a failover, and the timeouts that survive it. Masters share one
 * manual clock (synchronised wall clocks); ZooKeeper sessions run on real time.
 */
class MasterHaTest {


    private ZkEnsemble zk;
    private final ManualClock clock = new ManualClock();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final List<String> lostLeadership = new CopyOnWriteArrayList<>();
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
        faults.assertNoFaults();
    }

    private Master master(String prefix) throws Exception {
        return master(prefix, b -> {});
    }

    private Master master(String prefix, Consumer<MasterConfig.Builder> tweak) throws Exception {
        MasterConfig.Builder b = MasterConfig.builder()
                .ip("127.0.0.1").port(0).httpPort(0).clock(clock).faultHandler(faults).idPrefix(prefix).allocatorSeed(1L)
                .zk("zk://" + zk.connectString() + "/mezzo").zkSessionTimeout(Duration.ofSeconds(2))
                .onLostLeadership(reason -> lostLeadership.add(prefix + ": " + reason));
        tweak.accept(b);
        Master m = new Master(b.build());
        toClose.add(m);
        m.start();
        return m;
    }

    private ManagedChannel channel(Master m) {
        ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", m.port()).usePlaintext().build();
        toClose.add(() -> {
            c.shutdownNow();
            c.awaitTermination(5, TimeUnit.SECONDS);
        });
        return c;
    }

    private GetStateResponse state(Master m) {
        return OperatorGrpc.newBlockingStub(channel(m)).withDeadlineAfter(10, TimeUnit.SECONDS)
                .getState(GetStateRequest.getDefaultInstance());
    }

    private FakeAgent agent(Master m, String host) throws Exception {
        FakeAgent a = new FakeAgent(channel(m));
        toClose.add(a);
        AgentInfo info = AgentInfo.newBuilder().setHostname(host)
                .addAllResources(ResourceText.parse("cpus:4;mem:1024").toProto()).build();
        a.send(AgentMessage.newBuilder().setType(AgentMessage.Type.REGISTER)
                .setRegister(AgentMessage.Register.newBuilder().setAgentInfo(info)).build());
        a.agentId = a.next(MasterMessage.Type.REGISTERED).getRegistered().getAgentId();
        a.info = info.toBuilder().setId(a.agentId).build();
        return a;
    }

    private FakeAgent reregister(Master m, FakeAgent old, List<Task> tasks, FrameworkInfo... frameworks) throws Exception {
        FakeAgent a = new FakeAgent(channel(m));
        toClose.add(a);
        a.agentId = old.agentId;
        a.info = old.info;
        a.send(AgentMessage.newBuilder().setType(AgentMessage.Type.REREGISTER).setAgentId(old.agentId)
                .setReregister(AgentMessage.Reregister.newBuilder().setAgentInfo(old.info)
                        .addAllFrameworks(List.of(frameworks)).addAllTasks(tasks))
                .build());
        return a;
    }

    private FakeScheduler scheduler(Master m, FrameworkInfo info) throws Exception {
        FakeScheduler s = new FakeScheduler(channel(m));
        toClose.add(s);
        s.send(Call.newBuilder().setType(Call.Type.SUBSCRIBE).setSubscribe(Call.Subscribe.newBuilder()
                .setFrameworkInfo(info)).build());
        s.frameworkId = s.next(Event.Type.SUBSCRIBED).getSubscribed().getFrameworkId();
        return s;
    }

    private RegistryAgent registryAgent(String id) throws Exception {
        try (CuratorFramework c = ZkClients.start(ZkUrl.parse(zk.url("/mezzo")), Duration.ofSeconds(5))) {
            return RegistryAgent.parseFrom(c.getData().forPath("/registry/agents/" + id));
        }
    }

    private RegistryFramework registryFramework(String id) throws Exception {
        try (CuratorFramework c = ZkClients.start(ZkUrl.parse(zk.url("/mezzo")), Duration.ofSeconds(5))) {
            return RegistryFramework.parseFrom(c.getData().forPath("/registry/frameworks/" + id));
        }
    }

    private void settle(Master... masters) throws Exception {
        for (Master m : masters) {
            m.barrier().get(10, TimeUnit.SECONDS);
        }
    }

    private void advance(Duration d, Master... masters) throws Exception {
        settle(masters);
        clock.advance(d);
        settle(masters);
    }

    @Test
    void aStandbyAnswersUnavailableWithTheLeadersAddress() throws Exception {
        Master a = master("a");
        a.elected().get(30, TimeUnit.SECONDS);
        Master b = master("b");
        await().atMost(Timeouts.PROCESS).until(() -> OperatorGrpc.newBlockingStub(channel(b))
                .getHealth(GetHealthRequest.getDefaultInstance()).getLeaderInfo().getPort() == a.port());
        var health = OperatorGrpc.newBlockingStub(channel(b)).getHealth(GetHealthRequest.getDefaultInstance());
        assertThat(health.getLeader()).isFalse();
        assertThat(health.getLeaderInfo().getEpoch()).isEqualTo(1);
        assertThatThrownBy(() -> state(b)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(LeaderHint.read(e.getTrailers())).isEqualTo("127.0.0.1:" + a.port());
        });
        FakeScheduler refused = new FakeScheduler(channel(b));
        toClose.add(refused);
        refused.send(Call.newBuilder().setType(Call.Type.SUBSCRIBE).setSubscribe(Call.Subscribe.newBuilder()
                .setFrameworkInfo(Protos.framework("fw"))).build());
        await().atMost(Timeouts.PROCESS).until(() -> refused.closed);
        assertThat(Status.fromThrowable(refused.error).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    }

    @Test
    void httpEndpointsServeTheLeaderAndRedirectFromAStandby() throws Exception {
        Master a = master("a");
        a.elected().get(30, TimeUnit.SECONDS);
        Master b = master("b");
        java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
                .followRedirects(java.net.http.HttpClient.Redirect.NEVER).build();
        var state = http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + a.httpPort() + "/state")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(state.statusCode()).isEqualTo(200);
        assertThat(state.body()).contains("\"master_info\"").contains("\"epoch\": \"1\"");
        await().atMost(Timeouts.PROCESS).until(() -> http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + b.httpPort() + "/state")).build(),
                java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode() == 307);
        var redirect = http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + b.httpPort() + "/state?x=1")).build(),
                java.net.http.HttpResponse.BodyHandlers.discarding());
        assertThat(redirect.headers().firstValue("location"))
                .hasValue("http://127.0.0.1:" + a.httpPort() + "/state?x=1");
        // The web UI and its event stream: a standby sends the browser to the leader.
        for (String path : List.of("/", "/api/v1/events", "/api/v1/overview")) {
            var ui = http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + b.httpPort() + path)).build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding());
            assertThat(ui.statusCode()).as(path).isEqualTo(307);
            assertThat(ui.headers().firstValue("location")).hasValue("http://127.0.0.1:" + a.httpPort() + path);
        }
        var health = http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + b.httpPort() + "/health")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"leader\": false");
    }

    @Test
    void aNewLeaderRebuildsItsStateFromTheRegistryAndTheAgents() throws Exception {
        Master a = master("a");
        a.elected().get(30, TimeUnit.SECONDS);
        Master b = master("b");
        FakeAgent agent = agent(a, "host-1");
        FrameworkInfo fwInfo = Protos.framework("fw").build();
        FakeScheduler s = scheduler(a, fwInfo);
        Offer offer = s.next(Event.Type.OFFERS).getOffers().getOffers(0);
        TaskInfo t1 = task("t1", offer, "cpus:1;mem:128").build();
        s.call(launch(offer, t1));
        agent.next(MasterMessage.Type.RUN_TASK);
        assertThat(registryAgent(agent.agentId.getValue()).getState()).isEqualTo(RegistryAgent.State.ADMITTED);
        assertThat(registryFramework(s.frameworkId.getValue()).getState()).isEqualTo(RegistryFramework.State.ACTIVE);

        a.close();
        MasterInfo bInfo = b.elected().get(30, TimeUnit.SECONDS);
        assertThat(bInfo.getEpoch()).isEqualTo(2);
        GetStateResponse recovered = state(b);
        assertThat(recovered.getAgentsList()).singleElement()
                .satisfies(v -> assertThat(v.getState()).isEqualTo(AgentView.State.RECOVERED));
        assertThat(recovered.getFrameworksList()).singleElement()
                .satisfies(v -> assertThat(v.getState()).isEqualTo(FrameworkView.State.RECOVERED));

        FrameworkInfo withId = fwInfo.toBuilder().setId(s.frameworkId).build();
        FakeAgent back = reregister(b, agent, List.of(Task.newBuilder().setTaskId(t1.getTaskId())
                .setFrameworkId(s.frameworkId).setAgentId(agent.agentId).setName(t1.getName())
                .setState(TaskState.TASK_RUNNING).setTaskInfo(t1).addAllResources(t1.getResourcesList()).build()), withId);
        assertThat(back.next(MasterMessage.Type.REGISTERED).getEpoch()).isEqualTo(2);
        FakeScheduler again = scheduler(b, withId);
        assertThat(again.frameworkId).isEqualTo(s.frameworkId);
        Offer rest = again.next(Event.Type.OFFERS).getOffers().getOffers(0);
        assertThat(ResourceText.parse("cpus:3;mem:896")).isEqualTo(
                io.mezzo.common.resources.Resources.fromProto(rest.getResourcesList()));
        GetStateResponse after = state(b);
        assertThat(after.getTasksList()).singleElement().satisfies(t -> assertThat(t.getState()).isEqualTo(TaskState.TASK_RUNNING));
        assertThat(after.getAgents(0).getState()).isEqualTo(AgentView.State.REGISTERED);
    }

    @Test
    void anAgentThatNeverReturnsIsUnreachableAfterTheTimeoutAndReadmittedLater() throws Exception {
        Master a = master("a");
        a.elected().get(30, TimeUnit.SECONDS);
        Master b = master("b", c -> c.agentReregisterTimeout(Duration.ofMinutes(2)));
        FakeAgent agent = agent(a, "host-1");
        a.close();
        b.elected().get(30, TimeUnit.SECONDS);
        advance(Duration.ofSeconds(119), b);
        assertThat(state(b).getAgents(0).getState()).isEqualTo(AgentView.State.RECOVERED);
        advance(Duration.ofSeconds(1), b);
        await().atMost(Timeouts.PROCESS).until(() -> state(b).getAgents(0).getState() == AgentView.State.UNREACHABLE);
        RegistryAgent record = registryAgent(agent.agentId.getValue());
        assertThat(record.getState()).isEqualTo(RegistryAgent.State.UNREACHABLE);
        assertThat(record.getUnreachableTime()).isEqualTo(clock.seconds());

        FakeAgent back = reregister(b, agent, List.of());
        back.next(MasterMessage.Type.REGISTERED);
        assertThat(state(b).getAgents(0).getState()).isEqualTo(AgentView.State.REGISTERED);
        assertThat(registryAgent(agent.agentId.getValue()).getState()).isEqualTo(RegistryAgent.State.ADMITTED);
    }

    @Test
    void theRemovalLimitKeepsTooManyMissingAgentsFromBeingMarked() throws Exception {
        Master a = master("a");
        a.elected().get(30, TimeUnit.SECONDS);
        Master b = master("b", c -> c.agentReregisterTimeout(Duration.ofMinutes(1)).recoveryAgentRemovalLimit(0.5));
        agent(a, "host-1");
        agent(a, "host-2");
        a.close();
        b.elected().get(30, TimeUnit.SECONDS);
        advance(Duration.ofMinutes(2), b);
        assertThat(state(b).getAgentsList()).extracting(AgentView::getState)
                .containsOnly(AgentView.State.RECOVERED);
    }

    @Test
    void aFrameworksFailoverTimeoutCountsFromItsOriginalDisconnectionAcrossAFailover() throws Exception {
        Master a = master("a");
        a.elected().get(30, TimeUnit.SECONDS);
        Master b = master("b");
        FakeScheduler s = scheduler(a, Protos.framework("fw").setFailoverTimeout(100).build());
        s.close();
        await().atMost(Timeouts.PROCESS).until(() -> registryFramework(s.frameworkId.getValue()).getDisconnectedTime() > 0);
        double disconnectedAt = registryFramework(s.frameworkId.getValue()).getDisconnectedTime();
        advance(Duration.ofSeconds(60), a);
        a.close();
        b.elected().get(30, TimeUnit.SECONDS);
        advance(Duration.ofSeconds(39), b);
        assertThat(state(b).getFrameworksList()).hasSize(1);
        advance(Duration.ofSeconds(1), b);
        await().atMost(Timeouts.PROCESS).until(() -> state(b).getFrameworksList().isEmpty());
        RegistryFramework removed = registryFramework(s.frameworkId.getValue());
        assertThat(removed.getState()).isEqualTo(RegistryFramework.State.REMOVED);
        assertThat(removed.getRemovedTime()).isEqualTo(disconnectedAt + 100);
        // A removed framework cannot come back, not even through the new leader.
        FakeScheduler late = new FakeScheduler(channel(b));
        toClose.add(late);
        late.send(Call.newBuilder().setType(Call.Type.SUBSCRIBE).setSubscribe(Call.Subscribe.newBuilder()
                .setFrameworkInfo(Protos.framework("fw").setId(s.frameworkId))).build());
        assertThat(late.next(Event.Type.ERROR).getError().getCode()).isEqualTo(Event.Error.Code.FRAMEWORK_REMOVED);
    }

    @Test
    void weightsAndQuotasSurviveAFailover() throws Exception {
        Master a = master("a");
        a.elected().get(30, TimeUnit.SECONDS);
        Master b = master("b");
        OperatorGrpc.OperatorBlockingStub opA = OperatorGrpc.newBlockingStub(channel(a)).withDeadlineAfter(10, TimeUnit.SECONDS);
        opA.updateWeights(io.mezzo.proto.v1.UpdateWeightsRequest.newBuilder()
                .addWeights(io.mezzo.proto.v1.WeightInfo.newBuilder().setRole("eng/web").setWeight(2.5)).build());
        // No agent yet: a guarantee is above the cluster's total, so it needs force (issue 17).
        opA.updateQuota(io.mezzo.proto.v1.UpdateQuotaRequest.newBuilder().setForce(true)
                .addQuotas(io.mezzo.proto.v1.QuotaConfig.newBuilder().setRole("eng")
                        .putGuarantees("cpus", io.mezzo.proto.v1.Value.Scalar.newBuilder().setMilli(2000).build())
                        .putLimits("cpus", io.mezzo.proto.v1.Value.Scalar.newBuilder().setMilli(8000).build()))
                .build());
        a.close();
        b.elected().get(30, TimeUnit.SECONDS);
        var roles = OperatorGrpc.newBlockingStub(channel(b)).withDeadlineAfter(10, TimeUnit.SECONDS)
                .getRoles(io.mezzo.proto.v1.GetRolesRequest.getDefaultInstance()).getRolesList();
        assertThat(roles).anySatisfy(r -> {
            assertThat(r.getRole()).isEqualTo("eng/web");
            assertThat(r.getWeight()).isEqualTo(2.5);
        });
        assertThat(roles).anySatisfy(r -> {
            assertThat(r.getRole()).isEqualTo("eng");
            assertThat(r.getQuota().getGuaranteesMap().get("cpus").getMilli()).isEqualTo(2000);
            assertThat(r.getQuota().getLimitsMap().get("cpus").getMilli()).isEqualTo(8000);
        });
    }

    @Test
    void withQuotaGuaranteesOffersWaitForMostAgentsAfterAFailoverButNotForever() throws Exception {
        Master a = master("a");
        a.elected().get(30, TimeUnit.SECONDS);
        Master b = master("b", c -> c.recoveryQuotaFraction(0.8).recoveryQuotaTimeout(Duration.ofSeconds(30)));
        OperatorGrpc.newBlockingStub(channel(a)).withDeadlineAfter(10, TimeUnit.SECONDS)
                .updateQuota(io.mezzo.proto.v1.UpdateQuotaRequest.newBuilder().setForce(true) // before any agent
                        .addQuotas(io.mezzo.proto.v1.QuotaConfig.newBuilder().setRole("eng")
                                .putGuarantees("cpus", io.mezzo.proto.v1.Value.Scalar.newBuilder().setMilli(1000).build()))
                        .build());
        FakeAgent first = agent(a, "host-1");
        agent(a, "host-2");
        a.close();
        b.elected().get(30, TimeUnit.SECONDS);
        reregister(b, first, List.of()).next(MasterMessage.Type.REGISTERED);
        FakeScheduler s = scheduler(b, Protos.framework("fw").addRoles("eng").build());
        s.syncWhileRecovering();
        settle(b);
        // One agent of two is back: 50% < 80%, so offers wait.
        s.assertNoneWhileRecovering(Event.Type.OFFERS);
        advance(Duration.ofSeconds(30), b);
        assertThat(s.next(Event.Type.OFFERS).getOffers().getOffers(0).getAgentId()).isEqualTo(first.agentId);
    }

    @Test
    void withoutQuotaOffersStartWithTheFirstAgentBack() throws Exception {
        Master a = master("a");
        a.elected().get(30, TimeUnit.SECONDS);
        Master b = master("b");
        FakeAgent first = agent(a, "host-1");
        agent(a, "host-2");
        a.close();
        b.elected().get(30, TimeUnit.SECONDS);
        reregister(b, first, List.of()).next(MasterMessage.Type.REGISTERED);
        FakeScheduler s = scheduler(b, Protos.framework("fw").build());
        assertThat(s.next(Event.Type.OFFERS).getOffers().getOffers(0).getAgentId()).isEqualTo(first.agentId);
    }

    @Test
    void aGoneAgentIsToldToShutDownWhenItReturns() throws Exception {
        Master a = master("a");
        a.elected().get(30, TimeUnit.SECONDS);
        FakeAgent agent = agent(a, "host-1");
        OperatorGrpc.newBlockingStub(channel(a)).withDeadlineAfter(10, TimeUnit.SECONDS)
                .markAgentGone(MarkAgentGoneRequest.newBuilder().setAgentId(agent.agentId).build());
        assertThat(agent.next(MasterMessage.Type.SHUTDOWN).getShutdown().getMessage()).contains("marked gone");
        assertThat(registryAgent(agent.agentId.getValue()).getState()).isEqualTo(RegistryAgent.State.GONE);
        FakeAgent back = reregister(a, agent, List.of());
        // Every restart of that agent gets this answer: it says how to run the host again (issue 11).
        assertThat(back.next(MasterMessage.Type.SHUTDOWN).getShutdown().getMessage())
                .contains("marked gone").contains("--recover=cleanup");
    }

    @Test
    void aLeaderWhoseSessionExpiresStepsDownAndAnotherTakesOver() throws Exception {
        Master a = master("a");
        a.elected().get(30, TimeUnit.SECONDS);
        Master b = master("b");
        FakeScheduler s = scheduler(a, Protos.framework("fw").build());
        a.faults().expireZkSession();
        assertThat(b.elected().get(30, TimeUnit.SECONDS).getEpoch()).isEqualTo(2);
        await().atMost(Timeouts.PROCESS).until(() -> lostLeadership.stream().anyMatch(l -> l.startsWith("a: ")));
        await().atMost(Timeouts.PROCESS).until(() -> s.closed);
        assertThat(a.isLeading()).isFalse();
        assertThat(b.isLeading()).isTrue();
    }

    /**
     * An operator event subscriber of a leader that steps down is told LEADER_CHANGED, then its
     * stream ends UNAVAILABLE, so that a tool like {@code mezzo events -f} finds the new leader.
     */
    @Test
    void operatorEventSubscribersOfALeaderThatStepsDownGetLeaderChangedThenUnavailable() throws Exception {
        Master a = master("a");
        a.elected().get(30, TimeUnit.SECONDS);
        Master b = master("b");
        java.util.concurrent.BlockingQueue<io.mezzo.proto.v1.OperatorEvent> events =
                new java.util.concurrent.LinkedBlockingQueue<>();
        java.util.concurrent.CompletableFuture<Throwable> end = new java.util.concurrent.CompletableFuture<>();
        OperatorGrpc.newStub(channel(a)).subscribe(io.mezzo.proto.v1.SubscribeRequest.getDefaultInstance(),
                new io.grpc.stub.StreamObserver<>() {
                    @Override
                    public void onNext(io.mezzo.proto.v1.OperatorEvent e) {
                        events.add(e);
                    }

                    @Override
                    public void onError(Throwable t) {
                        end.complete(t);
                    }

                    @Override
                    public void onCompleted() {
                        end.complete(null);
                    }
                });
        assertThat(events.poll(10, TimeUnit.SECONDS).getType()).isEqualTo(io.mezzo.proto.v1.OperatorEvent.Type.SUBSCRIBED);

        a.faults().expireZkSession();
        assertThat(b.elected().get(30, TimeUnit.SECONDS).getEpoch()).isEqualTo(2);
        Throwable t = end.get(30, TimeUnit.SECONDS);
        assertThat(io.grpc.Status.fromThrowable(t).getCode()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
        assertThat(events).extracting(io.mezzo.proto.v1.OperatorEvent::getType)
                .contains(io.mezzo.proto.v1.OperatorEvent.Type.LEADER_CHANGED);
    }

    private static Call.Builder reconcile(String task, FakeAgent on) {
        Call.Reconcile.Task.Builder t = Call.Reconcile.Task.newBuilder()
                .setTaskId(io.mezzo.proto.v1.TaskID.newBuilder().setValue(task));
        if (on != null) {
            t.setAgentId(on.agentId);
        }
        return Call.newBuilder().setType(Call.Type.RECONCILE).setReconcile(Call.Reconcile.newBuilder().addTasks(t));
    }

    private FakeScheduler refusedSubscription(Master m, FrameworkInfo info) throws Exception {
        FakeScheduler late = new FakeScheduler(channel(m));
        toClose.add(late);
        late.send(Call.newBuilder().setType(Call.Type.SUBSCRIBE).setSubscribe(Call.Subscribe.newBuilder()
                .setFrameworkInfo(info)).build());
        return late;
    }

    /** After a SUBSCRIBED from {@code m}, every registry write it submitted before is committed. */
    private void registryBarrier(Master m) throws Exception {
        scheduler(m, Protos.framework("barrier").build()).close();
    }

    /**
     * The leader's host dies: its streams break at once, and its ZooKeeper session ends (in this
     * JVM its client would keep the session alive, so it is expired as the servers would).
     */
    private static void kill(Master m) {
        m.faults().crash();
        m.faults().expireZkSession();
    }

    @Test
    void aFrameworkTornDownAsItsStreamClosesStaysRemovedAcrossTwoFailovers() throws Exception {
        try (LogLines log = new LogLines(FrameworkManager.class)) {
            Master a = master("a");
            a.elected().get(30, TimeUnit.SECONDS);
            Master b = master("b");
            FrameworkInfo info = Protos.framework("fw").setFailoverTimeout(60).build();
            FakeScheduler s = scheduler(a, info);
            String id = s.frameworkId.getValue();
            // mezzo run's way out: TEARDOWN, then close the stream at once.
            s.call(Call.newBuilder().setType(Call.Type.TEARDOWN));
            s.close();
            await().atMost(Timeouts.PROCESS).until(() -> !log.containing("Removed framework " + id).isEmpty());
            registryBarrier(a);

            kill(a);
            b.elected().get(60, TimeUnit.SECONDS);
            Master c = master("c");
            for (Master leader : new Master[] {b, c}) {
                if (leader == c) {
                    kill(b);
                    c.elected().get(60, TimeUnit.SECONDS);
                }
                assertThat(state(leader).getFrameworksList()).extracting(v -> v.getFrameworkInfo().getId().getValue())
                        .doesNotContain(id);
                FakeScheduler again = refusedSubscription(leader, info.toBuilder().setId(s.frameworkId).build());
                assertThat(again.next(Event.Type.ERROR).getError().getCode())
                        .isEqualTo(Event.Error.Code.FRAMEWORK_REMOVED);
                // Past its failover timeout: nothing is removed a second time.
                advance(Duration.ofSeconds(61), leader);
                assertThat(registryFramework(id).getState()).isEqualTo(RegistryFramework.State.REMOVED);
            }
            assertThat(log.containing("Removed framework " + id)).hasSize(1);
        }
    }

    @Test
    void aTeardownRacingItsStreamCloseLeavesTheTombstoneInTheRegistry() throws Exception {
        try (LogLines log = new LogLines(FrameworkManager.class)) {
            Master a = master("a");
            a.elected().get(30, TimeUnit.SECONDS);
            FakeScheduler s = scheduler(a, Protos.framework("fw").build());
            String id = s.frameworkId.getValue();
            s.call(Call.newBuilder().setType(Call.Type.TEARDOWN));
            s.close();
            await().atMost(Timeouts.PROCESS).until(() -> !log.containing("Removed framework " + id).isEmpty());
            registryBarrier(a);
            RegistryFramework record = registryFramework(id);
            assertThat(record.getState()).isEqualTo(RegistryFramework.State.REMOVED);
            assertThat(record.getRemovedTime()).isPositive();
        }
    }

    @Test
    void aGoneAgentStaysGoneAcrossTwoFailoversAndReregistrationAttempts() throws Exception {
        Master a = master("a");
        a.elected().get(30, TimeUnit.SECONDS);
        Master b = master("b");
        FakeAgent agent = agent(a, "host-1");
        String id = agent.agentId.getValue();
        OperatorGrpc.newBlockingStub(channel(a)).withDeadlineAfter(10, TimeUnit.SECONDS)
                .markAgentGone(MarkAgentGoneRequest.newBuilder().setAgentId(agent.agentId).build());
        agent.next(MasterMessage.Type.SHUTDOWN);

        kill(a);
        b.elected().get(60, TimeUnit.SECONDS);
        Master c = master("c");
        for (Master leader : new Master[] {b, c}) {
            if (leader == c) {
                kill(b);
                c.elected().get(60, TimeUnit.SECONDS);
            }
            assertThat(state(leader).getAgentsList()).singleElement()
                    .satisfies(v -> assertThat(v.getState()).isEqualTo(AgentView.State.GONE));
            reregister(leader, agent, List.of()).next(MasterMessage.Type.SHUTDOWN);
            // Its re-registration timeout passes: nothing is written for it.
            advance(Duration.ofMinutes(3), leader);
            assertThat(registryAgent(id).getState()).isEqualTo(RegistryAgent.State.GONE);
            assertThat(state(leader).getAgentsList()).singleElement()
                    .satisfies(v -> assertThat(v.getState()).isEqualTo(AgentView.State.GONE));
        }
    }

    @Test
    void aLaunchLostWithItsLeaderIsReconciledOnTheNextLeaderOnceTheAgentHasSpoken() throws Exception {
        Master a = master("a");
        a.elected().get(30, TimeUnit.SECONDS);
        Master b = master("b", c -> c.agentReregisterTimeout(Duration.ofMinutes(2)));
        FakeAgent agent = agent(a, "host-1");
        FrameworkInfo info = Protos.framework("fw").addCapabilities(FrameworkInfo.Capability.newBuilder()
                .setType(FrameworkInfo.Capability.Type.PARTITION_AWARE)).build();
        FakeScheduler s = scheduler(a, info);
        Offer offer = s.next(Event.Type.OFFERS).getOffers().getOffers(0);

        // The ACCEPT reaches the leader, which dies before acting on it.
        a.faults().crashOnNext(Call.Type.ACCEPT);
        s.call(launch(offer, task("t1", offer, "cpus:1;mem:128").build()));
        await().atMost(Timeouts.PROCESS).until(() -> s.closed && agent.closed);
        assertThat(agent.messages).noneMatch(m -> m.getType() == MasterMessage.Type.RUN_TASK);
        a.faults().expireZkSession();

        // The scheduler resubscribes to the new leader and asks about its task.
        b.elected().get(60, TimeUnit.SECONDS);
        FrameworkInfo withId = info.toBuilder().setId(s.frameworkId).build();
        FakeScheduler again = scheduler(b, withId);
        assertThat(again.frameworkId).isEqualTo(s.frameworkId);
        again.call(reconcile("t1", agent));
        again.assertNoneWhileRecovering(Event.Type.UPDATE);

        // The agent comes back without it: now the master is sure.
        reregister(b, agent, List.of(), withId).next(MasterMessage.Type.REGISTERED);
        io.mezzo.proto.v1.TaskStatus gone = again.next(Event.Type.UPDATE).getUpdate().getStatus();
        assertThat(gone.getTaskId().getValue()).isEqualTo("t1");
        assertThat(gone.getState()).isEqualTo(TaskState.TASK_GONE);
        assertThat(gone.getReason()).isEqualTo(io.mezzo.proto.v1.StatusReason.REASON_RECONCILIATION);

        // Recovery is over (its only agent is back): a task no agent names is unknown, at once.
        again.call(reconcile("t1", null));
        assertThat(again.next(Event.Type.UPDATE).getUpdate().getStatus().getState()).isEqualTo(TaskState.TASK_UNKNOWN);
        assertThat(state(b).getTasksList()).isEmpty();
    }

    @Test
    void anAgentKnownOnlyFromTheRegistryShowsDisconnectedSinceTheElection() throws Exception {
        Master a = master("a");
        a.elected().get(30, TimeUnit.SECONDS);
        Master b = master("b");
        agent(a, "host-1");
        advance(Duration.ofSeconds(7), a);
        a.close();
        b.elected().get(30, TimeUnit.SECONDS);
        AgentView recovered = state(b).getAgents(0);
        assertThat(recovered.getState()).isEqualTo(AgentView.State.RECOVERED);
        assertThat(recovered.getConnected()).isFalse();
        assertThat(recovered.getDisconnectedTime()).isEqualTo(clock.seconds());
        assertThat(recovered.getLastHeardTime()).isZero();
    }
}
