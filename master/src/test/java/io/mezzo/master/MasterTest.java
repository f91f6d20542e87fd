package io.mezzo.master;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.FrameworkView;
import io.mezzo.proto.v1.GetStateRequest;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.testkit.FakeAgent;
import io.mezzo.testkit.FakeScheduler;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.Timeouts;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The master over real gRPC on loopback, driven by raw protocol peers and a manual clock. */
class MasterTest {

    private MasterHarness h;

    @BeforeEach
    void start() throws Exception {
        h = new MasterHarness();
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    static TaskInfo.Builder task(String id, Offer offer, String resources) {
        return TaskInfo.newBuilder()
                .setName("task " + id)
                .setTaskId(TaskID.newBuilder().setValue(id))
                .setAgentId(offer.getAgentId())
                .addAllResources(ResourceText.parse(resources).toProto())
                .setCommand(CommandInfo.newBuilder().setShell("echo " + id));
    }

    static Call.Builder launch(Offer offer, TaskInfo... tasks) {
        return Call.newBuilder().setType(Call.Type.ACCEPT).setAccept(Call.Accept.newBuilder()
                .addOfferIds(offer.getId())
                .addOperations(Offer.Operation.newBuilder().setType(Offer.Operation.Type.LAUNCH)
                        .setLaunch(Offer.Operation.Launch.newBuilder().addAllTaskInfos(List.of(tasks)))));
    }

    static ByteString uuid() {
        UUID u = UUID.randomUUID();
        return ByteString.copyFrom(ByteBuffer.allocate(16).putLong(u.getMostSignificantBits())
                .putLong(u.getLeastSignificantBits()).array());
    }

    static AgentMessage update(FakeAgent agent, FakeScheduler s, String task, TaskState state) {
        return AgentMessage.newBuilder().setType(AgentMessage.Type.STATUS_UPDATE).setAgentId(agent.agentId)
                .setStatusUpdate(StatusUpdate.newBuilder().setFrameworkId(s.frameworkId).setStatus(TaskStatus.newBuilder()
                        .setTaskId(TaskID.newBuilder().setValue(task))
                        .setState(state)
                        .setSource(StatusSource.SOURCE_EXECUTOR)
                        .setUuid(uuid())))
                .build();
    }

    private void awaitFrameworkState(FrameworkView.State state) {
        await().atMost(Timeouts.WAIT).until(() ->
                h.operator().getState(GetStateRequest.getDefaultInstance()).getFrameworksList().stream()
                        .anyMatch(f -> f.getState() == state));
    }

    private Offer firstOffer(FakeScheduler s) throws Exception {
        return s.next(Event.Type.OFFERS).getOffers().getOffers(0);
    }

    @Test
    void offersAnAgentsResourcesToASubscribedFramework() throws Exception {
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:1024;ports:[31000-31009]");
        FakeScheduler s = h.scheduler(Protos.framework("fw").build());
        assertThat(s.frameworkId.getValue()).isEqualTo("m1-0001");
        Offer offer = firstOffer(s);
        assertThat(offer.getAgentId()).isEqualTo(agent.agentId);
        assertThat(offer.getHostname()).isEqualTo("host-1");
        assertThat(Resources.fromProto(offer.getResourcesList())).isEqualTo(ResourceText.parse("cpus:4;mem:1024;ports:[31000-31009]"));
        assertThat(offer.getResourcesList()).allSatisfy(r -> assertThat(r.getAllocationInfo().getRole()).isEqualTo("*"));
    }

    @Test
    void launchForwardsUpdatesAndAcknowledgements() throws Exception {
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:1024");
        FakeScheduler s = h.scheduler(Protos.framework("fw").build());
        Offer offer = firstOffer(s);
        s.call(launch(offer, task("t1", offer, "cpus:1;mem:128").build()));

        MasterMessage run = agent.next(MasterMessage.Type.RUN_TASK);
        assertThat(run.getRunTask().getTask().getTaskId().getValue()).isEqualTo("t1");
        assertThat(run.getRunTask().getFramework().getId()).isEqualTo(s.frameworkId);

        AgentMessage running = update(agent, s, "t1", TaskState.TASK_RUNNING);
        agent.send(running);
        Event up = s.next(Event.Type.UPDATE);
        assertThat(up.getUpdate().getStatus().getState()).isEqualTo(TaskState.TASK_RUNNING);
        assertThat(up.getUpdate().getStatus().getAgentId()).isEqualTo(agent.agentId);

        s.call(Call.newBuilder().setType(Call.Type.ACKNOWLEDGE).setAcknowledge(Call.Acknowledge.newBuilder()
                .setAgentId(agent.agentId).setTaskId(TaskID.newBuilder().setValue("t1"))
                .setUuid(running.getStatusUpdate().getStatus().getUuid())));
        MasterMessage ack = agent.next(MasterMessage.Type.STATUS_UPDATE_ACK);
        assertThat(ack.getStatusUpdateAck().getUuid()).isEqualTo(running.getStatusUpdate().getStatus().getUuid());

        GetStateResponse state = h.operator().getState(GetStateRequest.getDefaultInstance());
        assertThat(state.getTasksList()).singleElement().satisfies(t -> assertThat(t.getState()).isEqualTo(TaskState.TASK_RUNNING));
        assertThat(Resources.fromProto(state.getUsedResourcesList())).isEqualTo(ResourceText.parse("cpus:1;mem:128"));

        // Finishing frees the resources at once; acknowledging the terminal update forgets the task.
        AgentMessage finished = update(agent, s, "t1", TaskState.TASK_FINISHED);
        agent.send(finished);
        s.next(Event.Type.UPDATE);
        h.settle();
        assertThat(h.operator().getState(GetStateRequest.getDefaultInstance()).getUsedResourcesList()).isEmpty();
        s.call(Call.newBuilder().setType(Call.Type.ACKNOWLEDGE).setAcknowledge(Call.Acknowledge.newBuilder()
                .setAgentId(agent.agentId).setTaskId(TaskID.newBuilder().setValue("t1"))
                .setUuid(finished.getStatusUpdate().getStatus().getUuid())));
        agent.next(MasterMessage.Type.STATUS_UPDATE_ACK);
        h.settle();
        GetStateResponse after = h.operator().getState(GetStateRequest.getDefaultInstance());
        assertThat(after.getTasksList()).isEmpty();
        assertThat(after.getCompletedTasksList()).singleElement()
                .satisfies(t -> assertThat(t.getState()).isEqualTo(TaskState.TASK_FINISHED));
    }

    @Test
    void unusedResourcesOfAnAcceptAreOfferedAgainAfterTheFilter() throws Exception {
        h.agent("host-1", "cpus:4;mem:1024");
        FakeScheduler s = h.scheduler(Protos.framework("fw").build());
        Offer offer = firstOffer(s);
        Call.Builder accept = launch(offer, task("t1", offer, "cpus:1;mem:128").build());
        accept.getAcceptBuilder().setFilters(Filters.newBuilder().setRefuseSeconds(10));
        s.call(accept);
        s.sync();
        h.advance(Duration.ofSeconds(5));
        s.assertNone(Event.Type.OFFERS);
        h.advance(Duration.ofSeconds(6));
        Offer again = firstOffer(s);
        assertThat(Resources.fromProto(again.getResourcesList())).isEqualTo(ResourceText.parse("cpus:3;mem:896"));
    }

    @Test
    void declineWithRefuseSecondsFiltersOnlyThatFrameworkOnThatAgent() throws Exception {
        FakeAgent a1 = h.agent("host-1", "cpus:1;mem:512");
        FakeScheduler s = h.scheduler(Protos.framework("fw").build());
        Offer offer = firstOffer(s);
        s.call(Call.newBuilder().setType(Call.Type.DECLINE).setDecline(Call.Decline.newBuilder()
                .addOfferIds(offer.getId()).setFilters(Filters.newBuilder().setRefuseSeconds(30))));
        s.sync();
        h.advance(Duration.ofSeconds(29));
        s.assertNone(Event.Type.OFFERS);

        // Another agent is offered meanwhile.
        FakeAgent a2 = h.agent("host-2", "cpus:1;mem:512");
        assertThat(firstOffer(s).getAgentId()).isEqualTo(a2.agentId);

        // A second framework gets the declined agent at once.
        FakeScheduler other = h.scheduler(Protos.framework("other").build());
        assertThat(firstOffer(other).getAgentId()).isEqualTo(a1.agentId);
    }

    @Test
    void declinedAgentIsOfferedAgainOnceTheFilterExpires() throws Exception {
        FakeAgent a1 = h.agent("host-1", "cpus:1;mem:512");
        FakeScheduler s = h.scheduler(Protos.framework("fw").build());
        Offer offer = firstOffer(s);
        s.call(Call.newBuilder().setType(Call.Type.DECLINE).setDecline(Call.Decline.newBuilder()
                .addOfferIds(offer.getId()).setFilters(Filters.newBuilder().setRefuseSeconds(30))));
        s.sync();
        h.advance(Duration.ofSeconds(29));
        s.assertNone(Event.Type.OFFERS);
        h.advance(Duration.ofSeconds(2));
        assertThat(firstOffer(s).getAgentId()).isEqualTo(a1.agentId);
    }

    @Test
    void suppressStopsOffersUntilRevive() throws Exception {
        FakeScheduler s = h.scheduler(Protos.framework("fw").build());
        s.call(Call.newBuilder().setType(Call.Type.SUPPRESS));
        s.sync();
        h.agent("host-1", "cpus:1;mem:512");
        h.advance(Duration.ofSeconds(5));
        s.assertNone(Event.Type.OFFERS);
        s.call(Call.newBuilder().setType(Call.Type.REVIVE));
        firstOffer(s);
    }

    @Test
    void dominantResourceFairnessSharesAgentsBetweenFrameworks() throws Exception {
        h.agent("host-1", "cpus:2;mem:1024");
        h.agent("host-2", "cpus:2;mem:1024");
        FakeScheduler a = h.scheduler(Protos.framework("a").build());
        // a holds both agents; once a second framework arrives and a gives one back, b gets it.
        Event offers = a.next(Event.Type.OFFERS);
        int held = offers.getOffers().getOffersCount();
        if (held == 1) {
            a.next(Event.Type.OFFERS);
        }
        FakeScheduler b = h.scheduler(Protos.framework("b").build());
        h.settle();
        GetStateResponse state = h.operator().getState(GetStateRequest.getDefaultInstance());
        Offer any = state.getOffersList().get(0);
        a.call(Call.newBuilder().setType(Call.Type.DECLINE).setDecline(Call.Decline.newBuilder()
                .addOfferIds(any.getId()).setFilters(Filters.newBuilder().setRefuseSeconds(0))));
        // a has share 0.5, b has 0: b gets the declined agent.
        Offer toB = firstOffer(b);
        assertThat(toB.getAgentId()).isEqualTo(any.getAgentId());
    }

    @Test
    void agentThatStopsAnsweringPingsIsUnreachableAndItsTasksToo() throws Exception {
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:1024");
        FakeScheduler pa = h.scheduler(Protos.framework("pa").addCapabilities(FrameworkInfo.Capability.newBuilder()
                .setType(FrameworkInfo.Capability.Type.PARTITION_AWARE)).build());
        Offer offer = firstOffer(pa);
        pa.call(launch(offer, task("t1", offer, "cpus:1;mem:128").build()));
        agent.next(MasterMessage.Type.RUN_TASK);
        agent.answerPings = false;
        // The first unanswered ping is missed at the next tick: five missed pings take six ticks.
        for (int i = 0; i < 6; i++) {
            h.advance(Duration.ofSeconds(15));
        }
        Event up = pa.next(Event.Type.UPDATE);
        assertThat(up.getUpdate().getStatus().getState()).isEqualTo(TaskState.TASK_UNREACHABLE);
        assertThat(up.getUpdate().getStatus().getReason()).isEqualTo(StatusReason.REASON_AGENT_DISCONNECTED);
        assertThat(up.getUpdate().getStatus().getSource()).isEqualTo(StatusSource.SOURCE_MASTER);
        assertThat(h.operator().getState(GetStateRequest.getDefaultInstance()).getAgents(0).getState())
                .isEqualTo(AgentView.State.UNREACHABLE);
    }

    @Test
    void frameworksThatAreNotPartitionAwareHearTaskLost() throws Exception {
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:1024");
        FakeScheduler s = h.scheduler(Protos.framework("plain").build());
        Offer offer = firstOffer(s);
        s.call(launch(offer, task("t1", offer, "cpus:1;mem:128").build()));
        agent.next(MasterMessage.Type.RUN_TASK);
        agent.answerPings = false;
        // The first unanswered ping is missed at the next tick: five missed pings take six ticks.
        for (int i = 0; i < 6; i++) {
            h.advance(Duration.ofSeconds(15));
        }
        assertThat(s.next(Event.Type.UPDATE).getUpdate().getStatus().getState()).isEqualTo(TaskState.TASK_LOST);
    }

    @Test
    void unreachableAgentComingBackIsReadmittedWithItsTasks() throws Exception {
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:1024");
        FakeScheduler pa = h.scheduler(Protos.framework("pa").addCapabilities(FrameworkInfo.Capability.newBuilder()
                .setType(FrameworkInfo.Capability.Type.PARTITION_AWARE)).build());
        Offer offer = firstOffer(pa);
        TaskInfo t1 = task("t1", offer, "cpus:1;mem:128").build();
        pa.call(launch(offer, t1));
        agent.next(MasterMessage.Type.RUN_TASK);
        agent.answerPings = false;
        // The first unanswered ping is missed at the next tick: five missed pings take six ticks.
        for (int i = 0; i < 6; i++) {
            h.advance(Duration.ofSeconds(15));
        }
        pa.next(Event.Type.UPDATE);

        FakeAgent back = new FakeAgent(h.channel);
        back.agentId = agent.agentId;
        back.send(AgentMessage.newBuilder().setType(AgentMessage.Type.REREGISTER).setAgentId(agent.agentId)
                .setReregister(AgentMessage.Reregister.newBuilder()
                        .setAgentInfo(agent.info)
                        .addFrameworks(Protos.framework("pa").setId(pa.frameworkId))
                        .addTasks(io.mezzo.proto.v1.Task.newBuilder().setTaskId(t1.getTaskId())
                                .setFrameworkId(pa.frameworkId).setAgentId(agent.agentId).setName(t1.getName())
                                .setState(TaskState.TASK_RUNNING).setTaskInfo(t1)
                                .addAllResources(t1.getResourcesList())))
                .build());
        back.next(MasterMessage.Type.REGISTERED);
        Event up = pa.next(Event.Type.UPDATE);
        assertThat(up.getUpdate().getStatus().getState()).isEqualTo(TaskState.TASK_RUNNING);
        assertThat(up.getUpdate().getStatus().getReason()).isEqualTo(StatusReason.REASON_RECONCILIATION);
        GetStateResponse state = h.operator().getState(GetStateRequest.getDefaultInstance());
        assertThat(state.getAgents(0).getState()).isEqualTo(AgentView.State.REGISTERED);
        assertThat(Resources.fromProto(state.getUsedResourcesList())).isEqualTo(ResourceText.parse("cpus:1;mem:128"));
        back.close();
    }

    @Test
    void disconnectedFrameworkIsRemovedWhenItsFailoverTimeoutExpires() throws Exception {
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:1024");
        FakeScheduler s = h.scheduler(Protos.framework("fw").setFailoverTimeout(100).build());
        Offer offer = firstOffer(s);
        s.call(launch(offer, task("t1", offer, "cpus:1;mem:128").build()));
        agent.next(MasterMessage.Type.RUN_TASK);
        s.close();
        awaitFrameworkState(FrameworkView.State.DISCONNECTED);
        h.advance(Duration.ofSeconds(99));
        // The agent's round trip needs a subscribed scheduler and fw's is gone: a witness carries
        // it, then leaves for good (failover timeout 0) before the checks below.
        FakeScheduler witness = h.scheduler(Protos.framework("witness").setFailoverTimeout(0).build());
        agent.assertNone(MasterMessage.Type.SHUTDOWN_FRAMEWORK, witness);
        witness.close();
        await().atMost(Timeouts.WAIT).until(() ->
                h.operator().getState(GetStateRequest.getDefaultInstance()).getFrameworksCount() == 1);
        assertThat(h.operator().getState(GetStateRequest.getDefaultInstance()).getTasksCount()).isEqualTo(1);
        h.advance(Duration.ofSeconds(1));
        MasterMessage shutdown = agent.next(MasterMessage.Type.SHUTDOWN_FRAMEWORK);
        assertThat(shutdown.getShutdownFramework().getFrameworkId()).isEqualTo(s.frameworkId);
        GetStateResponse state = h.operator().getState(GetStateRequest.getDefaultInstance());
        assertThat(state.getFrameworksList()).isEmpty();
        assertThat(state.getTasksList()).isEmpty();
        assertThat(state.getUsedResourcesList()).isEmpty();
    }

    @Test
    void resubscribingWithinTheTimeoutKeepsTheFramework() throws Exception {
        h.agent("host-1", "cpus:4;mem:1024");
        FakeScheduler s = h.scheduler(Protos.framework("fw").setFailoverTimeout(100).build());
        s.close();
        awaitFrameworkState(FrameworkView.State.DISCONNECTED);
        h.advance(Duration.ofSeconds(50));
        FakeScheduler again = h.scheduler(Protos.framework("fw").setId(s.frameworkId).setFailoverTimeout(100).build());
        assertThat(again.frameworkId).isEqualTo(s.frameworkId);
        h.advance(Duration.ofSeconds(60));
        assertThat(h.operator().getState(GetStateRequest.getDefaultInstance()).getFrameworksList()).hasSize(1);
    }

    @Test
    void teardownRemovesTheFrameworkAndARemovedIdCannotComeBack() throws Exception {
        FakeScheduler s = h.scheduler(Protos.framework("fw").build());
        s.call(Call.newBuilder().setType(Call.Type.TEARDOWN));
        assertThat(s.next(Event.Type.ERROR).getError().getCode()).isEqualTo(Event.Error.Code.FRAMEWORK_REMOVED);
        FakeScheduler again = new FakeScheduler(h.channel);
        again.send(Call.newBuilder().setType(Call.Type.SUBSCRIBE).setSubscribe(Call.Subscribe.newBuilder()
                .setFrameworkInfo(Protos.framework("fw").setId(s.frameworkId))).build());
        assertThat(again.next(Event.Type.ERROR).getError().getCode()).isEqualTo(Event.Error.Code.FRAMEWORK_REMOVED);
        again.close();
    }

    @Test
    void killOfAnUnknownTaskAnswersWithAnUpdate() throws Exception {
        FakeScheduler s = h.scheduler(Protos.framework("fw").build());
        s.call(Call.newBuilder().setType(Call.Type.KILL).setKill(Call.Kill.newBuilder()
                .setTaskId(TaskID.newBuilder().setValue("ghost"))));
        TaskStatus status = s.next(Event.Type.UPDATE).getUpdate().getStatus();
        assertThat(status.getState()).isEqualTo(TaskState.TASK_LOST);
        assertThat(status.getReason()).isEqualTo(StatusReason.REASON_TASK_UNKNOWN);
        assertThat(status.getUuid()).isEmpty();
    }

    @Test
    void killOfARunningTaskIsSentToItsAgent() throws Exception {
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:1024");
        FakeScheduler s = h.scheduler(Protos.framework("fw").build());
        Offer offer = firstOffer(s);
        s.call(launch(offer, task("t1", offer, "cpus:1;mem:128").build()));
        agent.next(MasterMessage.Type.RUN_TASK);
        s.call(Call.newBuilder().setType(Call.Type.KILL).setKill(Call.Kill.newBuilder()
                .setTaskId(TaskID.newBuilder().setValue("t1"))));
        MasterMessage kill = agent.next(MasterMessage.Type.KILL_TASK);
        assertThat(kill.getKillTask().getTaskId().getValue()).isEqualTo("t1");
        assertThat(kill.getKillTask().getReason()).isEqualTo(StatusReason.REASON_KILLED_BY_FRAMEWORK);
    }

    private AgentView onlyAgent() {
        return h.operator().getAgents(io.mezzo.proto.v1.GetAgentsRequest.getDefaultInstance()).getAgents(0);
    }

    @Test
    void anAgentShowsWhetherItIsConnectedSinceWhenAndWhenItWasLastHeardFrom() throws Exception {
        double registeredAt = h.clock.seconds();
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:1024");
        AgentView registered = onlyAgent();
        assertThat(registered.getConnected()).isTrue();
        assertThat(registered.getConnectedTime()).isEqualTo(registeredAt);
        assertThat(registered.getDisconnectedTime()).isZero();
        assertThat(registered.getLastHeardTime()).isEqualTo(registeredAt);

        // A PONG is news from the agent.
        h.advance(Duration.ofSeconds(15));
        double pingedAt = h.clock.seconds();
        await().atMost(Timeouts.WAIT).until(() -> onlyAgent().getLastHeardTime() == pingedAt);
        assertThat(onlyAgent().getConnectedTime()).isEqualTo(registeredAt);

        // A stopped agent is disconnected since it stopped, still REGISTERED until it misses its pings.
        h.advance(Duration.ofSeconds(5));
        double stoppedAt = h.clock.seconds();
        agent.close();
        await().atMost(Timeouts.WAIT).until(() -> !onlyAgent().getConnected());
        AgentView stopped = onlyAgent();
        assertThat(stopped.getState()).isEqualTo(AgentView.State.REGISTERED);
        assertThat(stopped.getDisconnectedTime()).isEqualTo(stoppedAt);
        assertThat(stopped.getConnectedTime()).isZero();
        assertThat(stopped.getLastHeardTime()).isEqualTo(pingedAt);

        java.net.http.HttpResponse<String> http = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                        "http://127.0.0.1:" + h.master.httpPort() + "/agents")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        // Times print as plain seconds with an ISO-8601 twin, never as 1.76722562E9.
        assertThat(http.body()).contains("\"connected\": false")
                .contains("\"disconnected_time\": " + java.math.BigDecimal.valueOf(stoppedAt).toPlainString())
                .contains("\"disconnected_time_iso\": \"" + java.time.Instant.ofEpochMilli((long) (stoppedAt * 1000)) + "\"")
                .contains("\"last_heard_time\": " + java.math.BigDecimal.valueOf(pingedAt).toPlainString())
                .doesNotContain("E9");
    }

    @Test
    void reconciliationReturnsTheLatestStateOrUnknown() throws Exception {
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:1024");
        FakeScheduler s = h.scheduler(Protos.framework("fw").addCapabilities(FrameworkInfo.Capability.newBuilder()
                .setType(FrameworkInfo.Capability.Type.PARTITION_AWARE)).build());
        Offer offer = firstOffer(s);
        s.call(launch(offer, task("t1", offer, "cpus:1;mem:128").build()));
        agent.next(MasterMessage.Type.RUN_TASK);
        agent.send(update(agent, s, "t1", TaskState.TASK_RUNNING));
        s.next(Event.Type.UPDATE);

        s.call(Call.newBuilder().setType(Call.Type.RECONCILE));
        TaskStatus implicit = s.next(Event.Type.UPDATE).getUpdate().getStatus();
        assertThat(implicit.getState()).isEqualTo(TaskState.TASK_RUNNING);
        assertThat(implicit.getReason()).isEqualTo(StatusReason.REASON_RECONCILIATION);
        assertThat(implicit.getUuid()).isEmpty();

        s.call(Call.newBuilder().setType(Call.Type.RECONCILE).setReconcile(Call.Reconcile.newBuilder()
                .addTasks(Call.Reconcile.Task.newBuilder().setTaskId(TaskID.newBuilder().setValue("t1")))
                .addTasks(Call.Reconcile.Task.newBuilder().setTaskId(TaskID.newBuilder().setValue("nope")))));
        assertThat(s.next(Event.Type.UPDATE).getUpdate().getStatus().getState()).isEqualTo(TaskState.TASK_RUNNING);
        TaskStatus unknown = s.next(Event.Type.UPDATE).getUpdate().getStatus();
        assertThat(unknown.getTaskId().getValue()).isEqualTo("nope");
        assertThat(unknown.getState()).isEqualTo(TaskState.TASK_UNKNOWN);
    }

    @Test
    void offerTimeoutRescindsStaleOffers() throws Exception {
        h.close();
        h = new MasterHarness(b -> b.offerTimeout(Duration.ofSeconds(30)));
        h.agent("host-1", "cpus:1;mem:512");
        FakeScheduler s = h.scheduler(Protos.framework("fw").build());
        Offer offer = firstOffer(s);
        h.advance(Duration.ofSeconds(31));
        assertThat(s.next(Event.Type.RESCIND).getRescind().getOfferId()).isEqualTo(offer.getId());
    }

    @Test
    void invalidSubscribeIsRefusedWithAReason() throws Exception {
        FakeScheduler s = new FakeScheduler(h.channel);
        s.send(Call.newBuilder().setType(Call.Type.SUBSCRIBE).setSubscribe(Call.Subscribe.newBuilder()
                .setFrameworkInfo(FrameworkInfo.newBuilder().setName("bad").addRoles("a b"))).build());
        Event error = s.next(Event.Type.ERROR);
        assertThat(error.getError().getMessage()).contains("role 'a b'").contains("forbidden");
        s.close();
    }

    @Test
    void aCallBeforeSubscribeIsRefused() throws Exception {
        FakeScheduler s = new FakeScheduler(h.channel);
        s.send(Call.newBuilder().setType(Call.Type.REVIVE).build());
        assertThat(s.next(Event.Type.ERROR).getError().getMessage()).contains("first call on a stream must be SUBSCRIBE");
        s.close();
    }

    @Test
    void aStandaloneMasterReportsItselfAsLeader() throws Exception {
        assertThat(h.operator().getHealth(io.mezzo.proto.v1.GetHealthRequest.getDefaultInstance()).getLeader()).isTrue();
    }
}
