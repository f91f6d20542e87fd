package io.mezzo.master;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Environment;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.GetHealthRequest;
import io.mezzo.proto.v1.GetStateRequest;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.MarkAgentGoneRequest;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.testkit.FakeAgent;
import io.mezzo.testkit.FakeScheduler;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.Timeouts;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The attacks of issue 9 ("no single client can crash, wedge or exhaust a daemon"), each against a
 * real master over loopback gRPC: each fails with a clear error, and the master keeps leading and
 * serving (the harness fails the test if anything reached the fault handler).
 */
class HardeningTest {

    private MasterHarness h;

    @BeforeEach
    void start() throws Exception {
        h = new MasterHarness();
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private static FrameworkInfo partitionAware(String name) {
        return Protos.framework(name).addCapabilities(FrameworkInfo.Capability.newBuilder()
                .setType(FrameworkInfo.Capability.Type.PARTITION_AWARE)).build();
    }

    /** The master still leads and serves: health says so, and a new framework can subscribe. */
    private void assertStillServing() throws Exception {
        assertThat(h.operator().getHealth(GetHealthRequest.getDefaultInstance()).getLeader()).isTrue();
        assertThat(h.operator().getState(GetStateRequest.getDefaultInstance()).hasMasterInfo()).isTrue();
        FakeScheduler probe = h.scheduler(Protos.framework("probe").build());
        assertThat(probe.frameworkId.getValue()).isNotEmpty();
    }

    private static void register(FakeAgent agent, AgentInfo info) {
        agent.send(AgentMessage.newBuilder().setType(AgentMessage.Type.REGISTER)
                .setRegister(AgentMessage.Register.newBuilder().setAgentInfo(info)).build());
    }

    private static String refusal(FakeAgent agent) throws InterruptedException {
        return agent.next(MasterMessage.Type.ERROR).getShutdown().getMessage();
    }

    private Task runningTask(FakeAgent agent, FakeScheduler s, String id) throws Exception {
        Offer offer = s.next(Event.Type.OFFERS).getOffers().getOffers(0);
        s.call(MasterTest.launch(offer, MasterTest.task(id, offer, "cpus:1;mem:128").build()));
        agent.next(MasterMessage.Type.RUN_TASK);
        agent.send(MasterTest.update(agent, s, id, TaskState.TASK_RUNNING));
        assertThat(s.next(Event.Type.UPDATE).getUpdate().getStatus().getState()).isEqualTo(TaskState.TASK_RUNNING);
        return h.operator().getState(GetStateRequest.getDefaultInstance()).getTasks(0);
    }

    @Test
    void markingAnAgentWithARunningTaskGoneAnswersAndLeavesTheStateConsistent() throws Exception {
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:1024");
        FakeScheduler s = h.scheduler(partitionAware("fw"));
        runningTask(agent, s, "t1");

        // Before the fix the allocator refused to forget an agent with t1's resources allocated:
        // the call never answered and the task was never reported gone.
        h.operator().markAgentGone(MarkAgentGoneRequest.newBuilder().setAgentId(agent.agentId).build());

        Event gone = s.next(Event.Type.UPDATE);
        assertThat(gone.getUpdate().getStatus().getTaskId().getValue()).isEqualTo("t1");
        assertThat(gone.getUpdate().getStatus().getState()).isEqualTo(TaskState.TASK_GONE);
        agent.next(MasterMessage.Type.SHUTDOWN);
        await().atMost(Timeouts.WAIT).until(() -> agent.closed);
        GetStateResponse state = h.operator().getState(GetStateRequest.getDefaultInstance());
        assertThat(state.getAgentsList()).singleElement().satisfies(v -> {
            assertThat(v.getState()).isEqualTo(AgentView.State.GONE);
            assertThat(v.getConnected()).isFalse();
        });
        assertThat(state.getTasksList()).isEmpty();
        assertThat(state.getUsedResourcesList()).isEmpty();
        // Never offered again, however long the allocator runs.
        h.advance(Duration.ofSeconds(5));
        s.assertNone(Event.Type.OFFERS);
        assertStillServing();
    }

    @Test
    void aReregistrationWithAnIdThatIsNoValidIdIsRefusedAndTheMasterKeepsLeading() throws Exception {
        FakeAgent agent = h.rawAgent();
        AgentInfo info = AgentInfo.newBuilder().setHostname("evil").setId(AgentID.newBuilder().setValue(".."))
                .addAllResources(Protos.resources("cpus:1;mem:128")).build();
        agent.send(AgentMessage.newBuilder().setType(AgentMessage.Type.REREGISTER).setAgentId(info.getId())
                .setReregister(AgentMessage.Reregister.newBuilder().setAgentInfo(info)).build());
        assertThat(refusal(agent)).contains("agent_info.id '..' must be 1-255 letters");
        assertStillServing();
    }

    @Test
    void aReregistrationReportingATaskOfAFrameworkWithABadIdIsRefused() throws Exception {
        FakeAgent agent = h.rawAgent();
        AgentInfo info = AgentInfo.newBuilder().setHostname("host").setId(AgentID.newBuilder().setValue("m1-S9"))
                .addAllResources(Protos.resources("cpus:1;mem:128")).build();
        Task task = CoreHarness.runningTask("t1", Protos.framework("fw").setId(
                io.mezzo.proto.v1.FrameworkID.newBuilder().setValue("../../etc")).build(), info);
        agent.send(AgentMessage.newBuilder().setType(AgentMessage.Type.REREGISTER).setAgentId(info.getId())
                .setReregister(AgentMessage.Reregister.newBuilder().setAgentInfo(info).addTasks(task)).build());
        assertThat(refusal(agent)).contains("tasks[0].framework_id '../../etc' must be");
        assertStillServing();
    }

    @Test
    void aHugeFrameworkNameIsRefusedWithTheLimitAndNeverWritten() throws Exception {
        FakeScheduler s = h.rawScheduler();
        s.send(Call.newBuilder().setType(Call.Type.SUBSCRIBE).setSubscribe(Call.Subscribe.newBuilder()
                .setFrameworkInfo(Protos.framework("x".repeat(300 * 1024)))).build());
        Event error = s.next(Event.Type.ERROR);
        assertThat(error.getError().getMessage())
                .isEqualTo("invalid SUBSCRIBE: framework_info.name has 307200 characters, more than the limit of 1024");
        assertStillServing();
    }

    @Test
    void tooManyLabelsAreRefusedByName() throws Exception {
        FrameworkInfo.Builder info = Protos.framework("fw");
        for (int i = 0; i < 65; i++) {
            info.getLabelsBuilder().addLabelsBuilder().setKey("k" + i).setValue("v");
        }
        FakeScheduler s = h.rawScheduler();
        s.send(Call.newBuilder().setType(Call.Type.SUBSCRIBE)
                .setSubscribe(Call.Subscribe.newBuilder().setFrameworkInfo(info)).build());
        assertThat(s.next(Event.Type.ERROR).getError().getMessage())
                .isEqualTo("invalid SUBSCRIBE: framework_info.labels has 65 entries, more than the limit of 64");
    }

    @Test
    void agentsAdvertisingAbsurdAmountsAreRefusedAndTheStateStaysReadable() throws Exception {
        FakeAgent huge = h.rawAgent();
        register(huge, AgentInfo.newBuilder().setHostname("huge")
                .addResources(Protos.scalar("cpus", Long.MAX_VALUE)).addResources(Protos.scalar("mem", 1024_000)).build());
        assertThat(refusal(huge)).contains("resource 'cpus' of 9223372036854775.807 is more than one agent may advertise"
                + " (100000)");

        FakeAgent trillion = h.rawAgent();
        register(trillion, AgentInfo.newBuilder().setHostname("trillion")
                .addAllResources(Protos.resources("cpus:1000000000000;mem:1024")).build());
        assertThat(refusal(trillion)).contains("more than one agent may advertise");

        FakeAgent twice = h.rawAgent();
        register(twice, AgentInfo.newBuilder().setHostname("twice").addResources(Protos.scalar("cpus", Long.MAX_VALUE))
                .addResources(Protos.scalar("cpus", Long.MAX_VALUE)).addResources(Protos.scalar("mem", 1024_000)).build());
        assertThat(refusal(twice)).contains("adds up to more than 2^63-1");

        h.agent("fine", "cpus:100000;mem:100000000");
        h.agent("fine-too", "cpus:100000;mem:100000000");
        GetStateResponse state = h.operator().getState(GetStateRequest.getDefaultInstance());
        assertThat(Resources.fromProto(state.getTotalResourcesList()))
                .isEqualTo(ResourceText.parse("cpus:200000;mem:200000000"));
        assertStillServing();
    }

    @Test
    void aTaskBelowTheMemoryMinimumIsATaskErrorNamingTheUnit() throws Exception {
        h.agent("host-1", "cpus:4;mem:1024");
        FakeScheduler s = h.scheduler(Protos.framework("fw").build());
        Offer offer = s.next(Event.Type.OFFERS).getOffers().getOffers(0);
        s.call(MasterTest.launch(offer, MasterTest.task("t1", offer, "cpus:1;mem:0.032").build()));
        Event error = s.next(Event.Type.UPDATE);
        assertThat(error.getUpdate().getStatus().getState()).isEqualTo(TaskState.TASK_ERROR);
        assertThat(error.getUpdate().getStatus().getMessage())
                .isEqualTo("task t1 asks for 0.032 MB of mem, below the minimum of 32 MB (mem is in MB)");
    }

    @Test
    void anAcceptWithTooManyOperationsIsRefused() throws Exception {
        h.agent("host-1", "cpus:4;mem:1024");
        FakeScheduler s = h.scheduler(Protos.framework("fw").build());
        Offer offer = s.next(Event.Type.OFFERS).getOffers().getOffers(0);
        Call.Accept.Builder accept = Call.Accept.newBuilder().addOfferIds(offer.getId());
        for (int i = 0; i < 1001; i++) {
            accept.addOperations(Offer.Operation.newBuilder().setType(Offer.Operation.Type.UNKNOWN));
        }
        s.call(Call.newBuilder().setType(Call.Type.ACCEPT).setAccept(accept));
        assertThat(s.next(Event.Type.ERROR).getError().getMessage())
                .isEqualTo("ACCEPT has 1001 operations, more than the limit of 1000");
    }

    @Test
    void aForgedStatusUpdateForATaskOnAnotherAgentNeverReachesTheFramework() throws Exception {
        FakeAgent a = h.agent("host-a", "cpus:4;mem:1024");
        FakeScheduler s = h.scheduler(partitionAware("fw"));
        runningTask(a, s, "t1");
        FakeAgent b = h.agent("host-b", "cpus:4;mem:1024");

        b.send(MasterTest.update(b, s, "t1", TaskState.TASK_FINISHED));
        s.assertNone(Event.Type.UPDATE);
        assertThat(h.operator().getState(GetStateRequest.getDefaultInstance()).getTasksList()).singleElement()
                .satisfies(t -> assertThat(t.getState()).isEqualTo(TaskState.TASK_RUNNING));

        // The real agent still speaks for its task.
        a.send(MasterTest.update(a, s, "t1", TaskState.TASK_FINISHED));
        assertThat(s.next(Event.Type.UPDATE).getUpdate().getStatus().getState()).isEqualTo(TaskState.TASK_FINISHED);
    }

    @Test
    void aCallOfATypeTheMasterDoesNotKnowIsRefused() throws Exception {
        // Fuzzing finding (seed 1): echoing the unknown type in the ERROR threw on the loop.
        FakeScheduler s = h.scheduler(Protos.framework("fw").build());
        s.send(Call.newBuilder().setTypeValue(150).setFrameworkId(s.frameworkId).build());
        Event error = s.next(Event.Type.ERROR);
        assertThat(error.getError().getMessage()).isEqualTo("call has no type");
        assertThat(error.getError().getCallType()).isEqualTo(Call.Type.UNKNOWN);
        assertStillServing();
    }

    @Test
    void aQuotaForAHugeRoleNameIsRefusedAndTheMasterKeepsLeading() throws Exception {
        // Fuzzing finding (seeds 1, 2): the role's registry key was too long to store, and the
        // failed write made the master step down.
        String role = "r".repeat(600);
        StatusRuntimeException e = Assertions.assertThrows(StatusRuntimeException.class, () -> h.operator()
                .updateQuota(io.mezzo.proto.v1.UpdateQuotaRequest.newBuilder().addQuotas(
                        io.mezzo.proto.v1.QuotaConfig.newBuilder().setRole(role).putGuarantees("cpus",
                                io.mezzo.proto.v1.Value.Scalar.newBuilder().setMilli(1000).build())).build()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.getStatus().getDescription()).contains("has 600 characters, more than the limit of 512");
        assertStillServing();
    }

    @Test
    void twoHundredFloodingSubscribeStreamsFromOneAddressLeaveTheStateAnswering() throws Exception {
        Call.Builder reconcile = Call.newBuilder().setType(Call.Type.RECONCILE);
        for (int i = 0; i < 200; i++) {
            FakeScheduler s = h.rawScheduler();
            s.send(Call.newBuilder().setType(Call.Type.SUBSCRIBE).setSubscribe(Call.Subscribe.newBuilder()
                    .setFrameworkInfo(Protos.framework("flood-" + i))).build());
            for (int j = 0; j < 50; j++) {
                s.send(reconcile.build());
            }
        }
        // Each stream waits on its own inbound window; the state still answers (how fast is a benchmark's).
        assertThat(h.operator().getState(GetStateRequest.getDefaultInstance()).hasMasterInfo()).isTrue();
        await().atMost(Timeouts.PROCESS).until(() ->
                h.operator().getFrameworks(io.mezzo.proto.v1.GetFrameworksRequest.getDefaultInstance())
                        .getFrameworksCount() == 200);
        assertStillServing();
    }

    @Test
    void aStatusUpdateWithAnUnknownLatestStateIsDroppedAndTheStateStaysReadable() throws Exception {
        // Fuzzing finding (seed 37): the unknown state was stored, and GetState failed from then on.
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:1024");
        FakeScheduler s = h.scheduler(partitionAware("fw"));
        runningTask(agent, s, "t1");
        AgentMessage update = MasterTest.update(agent, s, "t1", TaskState.TASK_FAILED);
        agent.send(update.toBuilder().setStatusUpdate(update.getStatusUpdate().toBuilder().setLatestStateValue(99))
                .build());
        s.assertNone(Event.Type.UPDATE);
        assertThat(h.operator().getState(GetStateRequest.getDefaultInstance()).getTasksList()).singleElement()
                .satisfies(t -> assertThat(t.getState()).isEqualTo(TaskState.TASK_RUNNING));
    }

    @Test
    void aSchedulerOverItsRateLimitIsRefusedWithResourceExhausted() throws Exception {
        h.close();
        h = new MasterHarness(b -> b.rateLimits(RateLimits.parse(
                "{\"aggregate_default_qps\": 1, \"aggregate_default_capacity\": 5}")));
        FakeScheduler s = h.scheduler(Protos.framework("greedy").build());
        for (int i = 0; i < 5; i++) {
            s.call(Call.newBuilder().setType(Call.Type.REVIVE));
        }
        await().atMost(Timeouts.WAIT).until(() -> s.closed);
        assertThat(Status.fromThrowable(s.error).getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(Status.fromThrowable(s.error).getDescription())
                .startsWith("rate limit exceeded for principal '127.0.0.1' (under the aggregate default of 1.0 calls/s,"
                        + " bursts of 5)");
        // Tokens come back with time (the master's clock), and the scheduler with them.
        h.advance(Duration.ofSeconds(10));
        FakeScheduler again = h.scheduler(Protos.framework("greedy").setId(s.frameworkId).build());
        assertThat(again.frameworkId).isEqualTo(s.frameworkId);
    }

    @Test
    void rateLimitsAreValidatedWithClearErrors() {
        assertThat(Assertions.assertThrows(IllegalArgumentException.class, () -> RateLimits.parse("{\"limits\": [{}]}"))
                .getMessage()).isEqualTo("--rate_limits: a limit has no principal");
        assertThat(Assertions.assertThrows(IllegalArgumentException.class,
                () -> RateLimits.parse("{\"aggregate_default_qps\": -1}")).getMessage())
                .isEqualTo("--rate_limits: qps must be a positive number, got -1.0");
        RateLimits limits = RateLimits.parse("{\"limits\": [{\"principal\": \"ops\"}, {\"principal\": \"p\", \"qps\": 2.5}]}");
        assertThat(limits.limits().get("ops")).isNull();
        assertThat(limits.limits().get("p")).isEqualTo(new RateLimits.Limit(2.5, 3));
        assertThat(RateLimits.NONE.none()).isTrue();
    }

    @Test
    void aLargeAgentReregistersInPartsAndLosesNoTask() throws Exception {
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:1024");
        FakeScheduler s = h.scheduler(partitionAware("fw"));
        Offer offer = s.next(Event.Type.OFFERS).getOffers().getOffers(0);
        s.call(MasterTest.launch(offer, MasterTest.task("t1", offer, "cpus:1;mem:128").build(),
                MasterTest.task("t2", offer, "cpus:1;mem:128").build()));
        agent.next(MasterMessage.Type.RUN_TASK);
        agent.next(MasterMessage.Type.RUN_TASK);
        List<Task> tasks = h.operator().getState(GetStateRequest.getDefaultInstance()).getTasksList();
        assertThat(tasks).hasSize(2);
        agent.close();

        FakeAgent back = h.rawAgent();
        FrameworkInfo fw = h.operator().getState(GetStateRequest.getDefaultInstance()).getFrameworks(0)
                .getFrameworkInfo();
        for (int i = 0; i < 2; i++) {
            back.send(AgentMessage.newBuilder().setType(AgentMessage.Type.REREGISTER).setAgentId(agent.agentId)
                    .setReregister(AgentMessage.Reregister.newBuilder().setAgentInfo(agent.info).addFrameworks(fw)
                            .addTasks(tasks.get(i).toBuilder().setState(TaskState.TASK_RUNNING)).setMore(i == 0))
                    .build());
        }
        back.next(MasterMessage.Type.REGISTERED);
        // Acting on the first part alone would have reported t2 gone.
        s.assertNone(Event.Type.UPDATE);
        assertThat(h.operator().getState(GetStateRequest.getDefaultInstance()).getTasksList())
                .extracting(t -> t.getTaskId().getValue()).containsExactlyInAnyOrder("t1", "t2");
    }

    @Test
    void operatorCallsWithABadAgentIdAreInvalidArguments() {
        StatusRuntimeException e = Assertions.assertThrows(StatusRuntimeException.class, () -> h.operator()
                .markAgentGone(MarkAgentGoneRequest.newBuilder().setAgentId(AgentID.newBuilder().setValue("a/b")).build()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.getStatus().getDescription()).contains("agent_id 'a/b' must be");
    }

    @Test
    void environmentValuesNeverShowInTheState() throws Exception {
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:1024");
        FakeScheduler s = h.scheduler(Protos.framework("fw").build());
        Offer offer = s.next(Event.Type.OFFERS).getOffers().getOffers(0);
        s.call(MasterTest.launch(offer, MasterTest.task("t1", offer, "cpus:1;mem:128")
                .setCommand(CommandInfo.newBuilder().setShell("true").setEnvironment(Environment.newBuilder()
                        .addVariables(Environment.Variable.newBuilder().setName("PASSWORD").setValue("hunter2"))))
                .build()));
        // The agent gets the value (it must run the task with it) ...
        assertThat(agent.next(MasterMessage.Type.RUN_TASK).toString()).contains("hunter2");
        // ... no view ever does.
        h.settle();
        assertThat(h.operator().getState(GetStateRequest.getDefaultInstance()).toString()).doesNotContain("hunter2");
        assertThat(List.of(h.operator().getTasks(io.mezzo.proto.v1.GetTasksRequest.getDefaultInstance()).toString()))
                .noneMatch(t -> t.contains("hunter2"));
    }
}
