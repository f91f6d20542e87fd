package io.mezzo.scheduler;

import static io.mezzo.scheduler.Events.agentId;
import static io.mezzo.scheduler.Events.frameworkId;
import static io.mezzo.scheduler.Events.offerId;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.DurationInfo;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.KillPolicy;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import java.util.List;
import org.junit.jupiter.api.Test;

class CallsTest {

    private static final FrameworkID ID = frameworkId("framework-1");

    @Test
    void aFirstSubscribeHasNoFrameworkIdAndAResubscribeHasOne() {
        FrameworkInfo fresh = FrameworkInfo.newBuilder().setName("f").build();
        assertThat(Calls.subscribe(fresh).hasFrameworkId()).isFalse();
        assertThat(Calls.subscribe(fresh).getSubscribe().getFrameworkInfo()).isEqualTo(fresh);

        Call again = Calls.subscribe(fresh.toBuilder().setId(ID).build());
        assertThat(again.getFrameworkId()).isEqualTo(ID);
        assertThat(again.getSubscribe().getFrameworkInfo().getId()).isEqualTo(ID);
    }

    @Test
    void launchIsAnAcceptWithOneLaunchOperationAndNoFilters() {
        TaskInfo task = TaskInfo.newBuilder()
                .setName("hello")
                .setTaskId(TaskID.newBuilder().setValue("hello-1"))
                .setAgentId(agentId("agent-1"))
                .setCommand(CommandInfo.newBuilder().setShell("echo hello"))
                .build();
        Call call = Calls.accept(ID, List.of(offerId("offer-1")), List.of(Calls.launch(List.of(task))), null);

        assertThat(call)
                .isEqualTo(Call.newBuilder()
                        .setFrameworkId(ID)
                        .setType(Call.Type.ACCEPT)
                        .setAccept(Call.Accept.newBuilder()
                                .addOfferIds(offerId("offer-1"))
                                .addOperations(Offer.Operation.newBuilder()
                                        .setType(Offer.Operation.Type.LAUNCH)
                                        .setLaunch(Offer.Operation.Launch.newBuilder().addTaskInfos(task))))
                        .build());
        assertThat(call.getAccept().hasFilters()).isFalse();
    }

    @Test
    void declineWithoutFiltersLeavesTheMasterDefault() {
        assertThat(Calls.decline(ID, List.of(offerId("offer-1")), null).getDecline().hasFilters()).isFalse();
    }

    @Test
    void killCarriesOnlyWhatIsKnown() {
        TaskID task = TaskID.newBuilder().setValue("task-1").build();
        Call.Kill bare = Calls.kill(ID, task, null, null).getKill();
        assertThat(bare.hasAgentId()).isFalse();
        assertThat(bare.hasKillPolicy()).isFalse();

        KillPolicy policy = KillPolicy.newBuilder()
                .setGracePeriod(DurationInfo.newBuilder().setNanoseconds(1_000_000_000L))
                .build();
        Call.Kill full = Calls.kill(ID, task, agentId("agent-1"), policy).getKill();
        assertThat(full.getAgentId()).isEqualTo(agentId("agent-1"));
        assertThat(full.getKillPolicy()).isEqualTo(policy);
    }

    @Test
    void acknowledgeQuotesAgentTaskAndUuidOfTheStatus() {
        var status = Events.status("task-1", "agent-1", TaskState.TASK_RUNNING, "uuid-1");
        assertThat(Calls.acknowledge(ID, status).getAcknowledge())
                .isEqualTo(Call.Acknowledge.newBuilder()
                        .setAgentId(agentId("agent-1"))
                        .setTaskId(TaskID.newBuilder().setValue("task-1"))
                        .setUuid(ByteString.copyFromUtf8("uuid-1"))
                        .build());
    }

    @Test
    void reviveSuppressReconcileAndMessageCarryTheirBodies() {
        assertThat(Calls.revive(ID).getRevive().getRolesList()).isEmpty();
        assertThat(Calls.suppress(ID, "eng", "ops").getSuppress().getRolesList()).containsExactly("eng", "ops");
        assertThat(Calls.reconcile(ID, List.of()).getReconcile().getTasksList()).isEmpty();
        Call message = Calls.message(
                ID, agentId("agent-1"), ExecutorID.newBuilder().setValue("task-1").build(), new byte[] {1, 2});
        assertThat(message.getMessage().getData()).isEqualTo(ByteString.copyFrom(new byte[] {1, 2}));
        assertThat(Calls.teardown(ID))
                .isEqualTo(Call.newBuilder().setFrameworkId(ID).setType(Call.Type.TEARDOWN).build());
    }
}
