package io.mezzo.master.validation;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.OfferId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link AcceptValidation} as a pure function: plain inputs in, a plan or a refusal out, no
 * master, no threads. (The master's application of the outcome is covered end to end by {@code
 * io.mezzo.master.AcceptValidationTest}.)
 */
class AcceptValidationRulesTest {

    private static final FrameworkId FW = FrameworkId.of("fw-1");
    private static final AgentId A1 = AgentId.of("agent-1");
    private static final AgentId A2 = AgentId.of("agent-2");

    private final Map<OfferId, AcceptValidation.OfferView> offers = Map.of(
            OfferId.of("offer-1"), new AcceptValidation.OfferView(OfferId.of("offer-1"), FW, A1, "*",
                    ResourceText.parse("cpus:2;mem:1024")),
            OfferId.of("offer-2"), new AcceptValidation.OfferView(OfferId.of("offer-2"), FW, A2, "*",
                    ResourceText.parse("cpus:2;mem:1024")));

    private static TaskInfo task(String id, AgentId agent, String resources) {
        return TaskInfo.newBuilder()
                .setName("task " + id)
                .setTaskId(TaskID.newBuilder().setValue(id))
                .setAgentId(agent.toProto())
                .addAllResources(ResourceText.parse(resources).toProto())
                .setCommand(CommandInfo.newBuilder().setShell("echo " + id))
                .build();
    }

    private static Call.Accept.Builder launch(List<String> offerIds, TaskInfo... tasks) {
        Call.Accept.Builder accept = Call.Accept.newBuilder()
                .addOperations(Offer.Operation.newBuilder().setType(Offer.Operation.Type.LAUNCH)
                        .setLaunch(Offer.Operation.Launch.newBuilder().addAllTaskInfos(List.of(tasks))));
        offerIds.forEach(id -> accept.addOfferIds(OfferID.newBuilder().setValue(id)));
        return accept;
    }

    private AcceptValidation.Outcome validate(Call.Accept.Builder accept, Set<TaskId> inUse) {
        return AcceptValidation.validate(accept.build(), FW, "", offers::get, a -> true, inUse);
    }

    @Test
    void aValidAcceptIsAPlanWithWhatIsLeftUnused() {
        AcceptValidation.Outcome outcome = validate(launch(List.of("offer-1"), task("t1", A1, "cpus:1;mem:128")), Set.of());
        assertThat(outcome).isInstanceOfSatisfying(AcceptValidation.Plan.class, plan -> {
            assertThat(plan.agent()).isEqualTo(A1);
            assertThat(plan.offers()).containsExactly(OfferId.of("offer-1"));
            assertThat(plan.launches()).singleElement()
                    .satisfies(l -> assertThat(l.resources()).isEqualTo(ResourceText.parse("cpus:1;mem:128")));
            assertThat(plan.unused()).isEqualTo(ResourceText.parse("cpus:1;mem:896"));
            assertThat(plan.conversions()).isEmpty();
        });
    }

    @Test
    void offersOnTwoAgentsDropEveryTaskAndGiveBothOffersBack() {
        AcceptValidation.Outcome outcome = validate(
                launch(List.of("offer-1", "offer-2"), task("t1", A1, "cpus:1;mem:128")), Set.of());
        assertThat(outcome).isInstanceOfSatisfying(AcceptValidation.Refusal.class, refusal -> {
            assertThat(refusal.error()).contains("are on different agents");
            assertThat(refusal.agent()).isNull();
            assertThat(refusal.offers()).containsExactly(OfferId.of("offer-1"), OfferId.of("offer-2"));
            assertThat(refusal.tasks()).singleElement().satisfies(t -> {
                assertThat(t.state()).isEqualTo(TaskState.TASK_DROPPED);
                assertThat(t.reason()).isEqualTo(StatusReason.REASON_INVALID_OFFERS);
            });
        });
    }

    @Test
    void oneInvalidTaskIsAnErrorAndTheOthersAreDropped() {
        AcceptValidation.Outcome outcome = validate(launch(List.of("offer-1"),
                task("t1", A1, "cpus:1;mem:128"), task("t2", A1, "cpus:1;mem:128")), Set.of(TaskId.of("t2")));
        assertThat(outcome).isInstanceOfSatisfying(AcceptValidation.Refusal.class, refusal -> {
            assertThat(refusal.agent()).isEqualTo(A1);
            assertThat(refusal.tasks()).extracting(AcceptValidation.TaskRefusal::state)
                    .containsExactly(TaskState.TASK_DROPPED, TaskState.TASK_ERROR);
            assertThat(refusal.tasks().get(1).message()).isEqualTo("task_id t2 is already used by a task of this framework");
            assertThat(refusal.tasks().get(0).message()).startsWith("not launched: another operation");
        });
    }

    @Test
    void invalidFiltersAreAnInvalidCallThatKeepsTheOffers() {
        Call.Accept.Builder accept = launch(List.of("offer-1"), task("t1", A1, "cpus:1;mem:128"))
                .setFilters(Filters.newBuilder().setRefuseSeconds(-1));
        assertThat(validate(accept, Set.of())).isInstanceOfSatisfying(AcceptValidation.InvalidCall.class,
                call -> assertThat(call.error()).contains("refuse_seconds -1.0"));
    }

    @Test
    void anAgentThatCannotBeOfferedRefusesTheOffers() {
        AcceptValidation.Outcome outcome = AcceptValidation.validate(
                launch(List.of("offer-1"), task("t1", A1, "cpus:1;mem:128")).build(), FW, "", offers::get,
                a -> false, Set.of());
        assertThat(outcome).isInstanceOfSatisfying(AcceptValidation.Refusal.class, refusal ->
                assertThat(refusal.error()).isEqualTo("agent agent-1 is no longer registered and connected"));
    }

    @Test
    void aReservationMustBeDynamic() {
        Resources reserved = ResourceText.parse("cpus:1");
        String error = AcceptValidation.reservationError("", "a", reserved.toProto(), true);
        assertThat(error).isEqualTo("resource 'cpus' must carry a DYNAMIC reservation");
    }
}
