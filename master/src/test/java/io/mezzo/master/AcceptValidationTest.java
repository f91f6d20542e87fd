package io.mezzo.master;

import static io.mezzo.master.MasterTest.launch;
import static io.mezzo.master.MasterTest.task;
import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.common.resources.ResourceText;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.GetStateRequest;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.testkit.FakeAgent;
import io.mezzo.testkit.FakeScheduler;
import io.mezzo.testkit.Protos;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every invalid ACCEPT gets its specific error, launches nothing, and gives its offers back at
 * once (they are offered again without waiting for a filter).
 */
class AcceptValidationTest {

    private MasterHarness h;
    private FakeAgent agent;
    private FakeScheduler s;
    private Offer offer;

    @BeforeEach
    void start() throws Exception {
        h = new MasterHarness();
        agent = h.agent("host-1", "cpus:2;mem:1024;ports:[31000-31001]");
        s = h.scheduler(Protos.framework("fw").build());
        offer = s.next(Event.Type.OFFERS).getOffers().getOffers(0);
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    /** Sends the ACCEPT, checks nothing launched, and that the whole agent is offered again at once. */
    private void assertRefusedAndReoffered() throws Exception {
        s.sync();
        h.settle();
        agent.assertNone(MasterMessage.Type.RUN_TASK, s);
        assertThat(h.operator().getState(GetStateRequest.getDefaultInstance()).getTasksList()).isEmpty();
        Offer again = s.next(Event.Type.OFFERS).getOffers().getOffers(0);
        assertThat(Resources.fromProto(again.getResourcesList()))
                .isEqualTo(ResourceText.parse("cpus:2;mem:1024;ports:[31000-31001]"));
    }

    private TaskStatus launchOne(UnaryOperator<TaskInfo.Builder> change) throws Exception {
        s.call(launch(offer, change.apply(task("t1", offer, "cpus:1;mem:128")).build()));
        return s.next(Event.Type.UPDATE).getUpdate().getStatus();
    }

    private void assertTaskError(TaskStatus status, String message) {
        assertThat(status.getState()).isEqualTo(TaskState.TASK_ERROR);
        assertThat(status.getReason()).isEqualTo(StatusReason.REASON_TASK_INVALID);
        assertThat(status.getSource()).isEqualTo(StatusSource.SOURCE_MASTER);
        assertThat(status.getMessage()).contains(message);
    }

    @Test
    void taskWithoutCpus() throws Exception {
        assertTaskError(launchOne(t -> t.clearResources().addAllResources(ResourceText.parse("mem:128").toProto())),
                "task t1 has no cpus");
        assertRefusedAndReoffered();
    }

    @Test
    void taskWithoutMem() throws Exception {
        assertTaskError(launchOne(t -> t.clearResources().addAllResources(ResourceText.parse("cpus:1").toProto())),
                "task t1 has no mem");
        assertRefusedAndReoffered();
    }

    @Test
    void emptyCommand() throws Exception {
        assertTaskError(launchOne(t -> t.setCommand(CommandInfo.getDefaultInstance())), "command is empty");
        assertRefusedAndReoffered();
    }

    @Test
    void commandWithBothShellAndArgv() throws Exception {
        assertTaskError(launchOne(t -> t.setCommand(CommandInfo.newBuilder().setShell("true").addArgv("true"))),
                "sets both shell and argv");
        assertRefusedAndReoffered();
    }

    @Test
    void malformedTaskId() throws Exception {
        assertTaskError(launchOne(t -> t.setTaskId(io.mezzo.proto.v1.TaskID.newBuilder().setValue("../etc"))),
                "task_id '../etc' must be");
        assertRefusedAndReoffered();
    }

    @Test
    void resourcesNotInTheOffer() throws Exception {
        assertTaskError(launchOne(t -> t.clearResources().addAllResources(ResourceText.parse("cpus:3;mem:128").toProto())),
                "asks for cpus:3;mem:128 but the offers only hold");
        assertRefusedAndReoffered();
    }

    @Test
    void portsNotInTheOffer() throws Exception {
        assertTaskError(launchOne(t -> t.addAllResources(ResourceText.parse("ports:[8080-8080]").toProto())),
                "asks for");
        assertRefusedAndReoffered();
    }

    @Test
    void taskForAnotherAgent() throws Exception {
        assertTaskError(launchOne(t -> t.setAgentId(AgentID.newBuilder().setValue("elsewhere"))),
                "names agent 'elsewhere'");
        assertRefusedAndReoffered();
    }

    @Test
    void duplicateTaskIdsInOneAccept() throws Exception {
        s.call(launch(offer, task("dup", offer, "cpus:0.5;mem:64").build(), task("dup", offer, "cpus:0.5;mem:64").build()));
        TaskStatus first = s.next(Event.Type.UPDATE).getUpdate().getStatus();
        TaskStatus second = s.next(Event.Type.UPDATE).getUpdate().getStatus();
        assertThat(first.getState()).isEqualTo(TaskState.TASK_LOST);
        assertThat(first.getMessage()).contains("another operation of the same ACCEPT is invalid")
                .contains("appears twice");
        assertTaskError(second, "task_id dup appears twice in this ACCEPT");
        assertRefusedAndReoffered();
    }

    @Test
    void oneInvalidTaskStopsItsValidSiblingsToo() throws Exception {
        s.call(launch(offer, task("good", offer, "cpus:1;mem:64").build(),
                task("bad", offer, "cpus:1").build()));
        TaskStatus good = s.next(Event.Type.UPDATE).getUpdate().getStatus();
        TaskStatus bad = s.next(Event.Type.UPDATE).getUpdate().getStatus();
        assertThat(good.getTaskId().getValue()).isEqualTo("good");
        assertThat(good.getState()).isEqualTo(TaskState.TASK_LOST);
        assertThat(good.getReason()).isEqualTo(StatusReason.REASON_TASK_INVALID);
        assertTaskError(bad, "task bad has no mem");
        assertRefusedAndReoffered();
    }

    @Test
    void taskIdAlreadyInUse() throws Exception {
        s.call(launch(offer, task("t1", offer, "cpus:1;mem:128").build()));
        agent.next(MasterMessage.Type.RUN_TASK);
        h.advance(java.time.Duration.ofSeconds(6));
        Offer rest = s.next(Event.Type.OFFERS).getOffers().getOffers(0);
        s.call(launch(rest, task("t1", rest, "cpus:0.5;mem:64").build()));
        assertTaskError(s.next(Event.Type.UPDATE).getUpdate().getStatus(), "already used by a task of this framework");
        s.sync();
        h.settle();
        agent.assertNone(MasterMessage.Type.RUN_TASK, s);
    }

    @Test
    void unknownOffer() throws Exception {
        Offer fake = offer.toBuilder().setId(OfferID.newBuilder().setValue("no-such-offer")).build();
        s.call(launch(fake, task("t1", offer, "cpus:1;mem:128").build()));
        TaskStatus status = s.next(Event.Type.UPDATE).getUpdate().getStatus();
        assertThat(status.getState()).isEqualTo(TaskState.TASK_LOST);
        assertThat(status.getReason()).isEqualTo(StatusReason.REASON_INVALID_OFFERS);
        assertThat(status.getMessage()).contains("offer no-such-offer is unknown, expired, rescinded or already used");
        s.sync();
        h.settle();
        agent.assertNone(MasterMessage.Type.RUN_TASK, s);
    }

    @Test
    void offerUsedTwice() throws Exception {
        s.call(launch(offer, task("t1", offer, "cpus:1;mem:128").build()));
        agent.next(MasterMessage.Type.RUN_TASK);
        s.call(launch(offer, task("t2", offer, "cpus:1;mem:128").build()));
        TaskStatus status = s.next(Event.Type.UPDATE).getUpdate().getStatus();
        assertThat(status.getTaskId().getValue()).isEqualTo("t2");
        assertThat(status.getReason()).isEqualTo(StatusReason.REASON_INVALID_OFFERS);
        assertThat(status.getMessage()).contains("already used");
    }

    @Test
    void offersFromTwoAgents() throws Exception {
        FakeAgent second = h.agent("host-2", "cpus:2;mem:1024");
        Offer other = s.next(Event.Type.OFFERS).getOffers().getOffers(0);
        assertThat(other.getAgentId()).isEqualTo(second.agentId);
        Call.Builder accept = launch(offer, task("t1", offer, "cpus:1;mem:128").build());
        accept.getAcceptBuilder().addOfferIds(other.getId());
        s.call(accept);
        TaskStatus status = s.next(Event.Type.UPDATE).getUpdate().getStatus();
        assertThat(status.getReason()).isEqualTo(StatusReason.REASON_INVALID_OFFERS);
        assertThat(status.getMessage()).contains("are on different agents");
        s.sync();
        h.settle();
        agent.assertNone(MasterMessage.Type.RUN_TASK, s);
        second.assertNone(MasterMessage.Type.RUN_TASK, s);
        // Both offers came back: the two agents are offered again.
        Event again = s.next(Event.Type.OFFERS);
        int count = again.getOffers().getOffersCount();
        if (count < 2) {
            s.next(Event.Type.OFFERS);
        }
    }

    @Test
    void invalidFilterIsAnErrorAndChangesNothing() throws Exception {
        Call.Builder accept = launch(offer, task("t1", offer, "cpus:1;mem:128").build());
        accept.getAcceptBuilder().setFilters(Filters.newBuilder().setRefuseSeconds(-1));
        s.call(accept);
        Event error = s.next(Event.Type.ERROR);
        assertThat(error.getError().getCode()).isEqualTo(Event.Error.Code.INVALID_CALL);
        assertThat(error.getError().getMessage()).contains("refuse_seconds -1.0");
        s.sync();
        // The offer is still outstanding and usable.
        assertThat(h.operator().getState(GetStateRequest.getDefaultInstance()).getOffersList()).hasSize(1);
        s.call(launch(offer, task("t1", offer, "cpus:1;mem:128").build()));
        agent.next(MasterMessage.Type.RUN_TASK);
    }
}
