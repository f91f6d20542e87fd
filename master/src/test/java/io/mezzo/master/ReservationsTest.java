package io.mezzo.master;

import static io.mezzo.master.MasterTest.task;
import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.common.resources.ResourceText;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.ReservationInfo;
import io.mezzo.proto.v1.Resource;
import io.mezzo.testkit.FakeAgent;
import io.mezzo.testkit.FakeScheduler;
import io.mezzo.testkit.Protos;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Dynamic reservations over real gRPC: RESERVE and UNRESERVE in an ACCEPT, the CHECKPOINT_RESOURCES
 * the agent is sent, reserved resources offered only to their role, and how an agent's reported
 * reservations and the master's are reconciled when it re-registers.
 */
class ReservationsTest {

    private MasterHarness h;

    @BeforeEach
    void start() throws Exception {
        h = new MasterHarness();
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    /** Resources parsed from text with every reservation made DYNAMIC for principal "p". */
    static Resources dynamic(String text) {
        Resources parsed = ResourceText.parse(text);
        Resources.Builder b = Resources.builder();
        for (Resources.Key k : parsed.keys()) {
            ReservationInfo res = k.reservation() == null ? null : k.reservation().toBuilder()
                    .setType(ReservationInfo.Type.DYNAMIC).setPrincipal("p").build();
            if (parsed.scalar(k) > 0) {
                b.scalar(k.name(), res, parsed.scalar(k));
            } else {
                b.ranges(k.name(), res, parsed.filter(k::equals).ranges(k.name()));
            }
        }
        return b.build();
    }

    private static FrameworkInfo inRole(String name, String role) {
        return Protos.framework(name).addRoles(role).build();
    }

    private static Call.Builder operation(Offer offer, Offer.Operation op, double refuseSeconds) {
        return Call.newBuilder().setType(Call.Type.ACCEPT).setAccept(Call.Accept.newBuilder()
                .addOfferIds(offer.getId()).addOperations(op).setFilters(Filters.newBuilder().setRefuseSeconds(refuseSeconds)));
    }

    private static Offer.Operation reserve(Resources r) {
        return Offer.Operation.newBuilder().setType(Offer.Operation.Type.RESERVE)
                .setReserve(Offer.Operation.Reserve.newBuilder().addAllResources(r.toProto())).build();
    }

    private static Offer.Operation unreserve(Resources r) {
        return Offer.Operation.newBuilder().setType(Offer.Operation.Type.UNRESERVE)
                .setUnreserve(Offer.Operation.Unreserve.newBuilder().addAllResources(r.toProto())).build();
    }

    private static Resources checkpointed(MasterMessage m) {
        return Resources.fromProto(m.getCheckpointResources().getResourcesList());
    }

    private static Offer offer(FakeScheduler s) throws InterruptedException {
        return s.next(Event.Type.OFFERS).getOffers().getOffers(0);
    }

    @Test
    void reserveIsCheckpointedOnTheAgentAndOfferedOnlyToItsRole() throws Exception {
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:2048");
        FakeScheduler eng = h.scheduler(inRole("eng", "eng"));
        Offer first = offer(eng);
        Resources reserved = dynamic("cpus(eng):2;mem(eng):1024");
        // Reserve half and launch a task on part of the reservation, in one ACCEPT.
        Call.Builder accept = operation(first, reserve(reserved), 0);
        accept.getAcceptBuilder().addOperations(Offer.Operation.newBuilder().setType(Offer.Operation.Type.LAUNCH)
                .setLaunch(Offer.Operation.Launch.newBuilder().addTaskInfos(task("t1", first, "cpus:1;mem:512")
                        .clearResources().addAllResources(dynamic("cpus(eng):1;mem(eng):512").toProto()))));
        eng.call(accept);

        // The agent hears its new reservations before the task that runs on them.
        MasterMessage checkpoint = agent.next(MasterMessage.Type.CHECKPOINT_RESOURCES);
        assertThat(checkpointed(checkpoint)).isEqualTo(reserved);
        agent.next(MasterMessage.Type.RUN_TASK);

        // The rest comes back: eng is offered the unreserved half and what is left of its reservation.
        Offer again = offer(eng);
        assertThat(Resources.fromProto(again.getResourcesList()))
                .isEqualTo(ResourceText.parse("cpus:2;mem:1024").plus(dynamic("cpus(eng):1;mem(eng):512")));

        // ops, offered after eng suppresses, never sees eng's reservation.
        eng.call(Call.newBuilder().setType(Call.Type.DECLINE).setDecline(Call.Decline.newBuilder().addOfferIds(again.getId())));
        eng.call(Call.newBuilder().setType(Call.Type.SUPPRESS));
        eng.sync();
        FakeScheduler ops = h.scheduler(inRole("ops", "ops"));
        assertThat(Resources.fromProto(offer(ops).getResourcesList())).isEqualTo(ResourceText.parse("cpus:2;mem:1024"));
    }

    @Test
    void unreserveCheckpointsWhatIsLeft() throws Exception {
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:2048");
        FakeScheduler eng = h.scheduler(inRole("eng", "eng"));
        Resources reserved = dynamic("cpus(eng):2;mem(eng):1024");
        eng.call(operation(offer(eng), reserve(reserved), 0));
        assertThat(checkpointed(agent.next(MasterMessage.Type.CHECKPOINT_RESOURCES))).isEqualTo(reserved);
        Offer withReservation = offer(eng);
        eng.call(operation(withReservation, unreserve(dynamic("cpus(eng):2;mem(eng):1024")), 0));
        assertThat(checkpointed(agent.next(MasterMessage.Type.CHECKPOINT_RESOURCES)).isEmpty()).isTrue();
        assertThat(Resources.fromProto(offer(eng).getResourcesList())).isEqualTo(ResourceText.parse("cpus:4;mem:2048"));
    }

    @Test
    void aReservationMustBeForTheRoleTheOffersWereMadeTo() throws Exception {
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:2048");
        FakeScheduler s = h.scheduler(Protos.framework("multi").addRoles("a").addRoles("b")
                .addCapabilities(FrameworkInfo.Capability.newBuilder().setType(FrameworkInfo.Capability.Type.MULTI_ROLE))
                .build());
        Offer offer = offer(s);
        String offeredTo = offer.getResources(0).getAllocationInfo().getRole();
        String other = offeredTo.equals("a") ? "b" : "a";
        s.call(operation(offer, reserve(dynamic("cpus(" + other + "):1")), 0));
        Event error = s.next(Event.Type.ERROR);
        assertThat(error.getError().getMessage()).contains("reserved for role '" + other + "'")
                .contains("offers were made to role '" + offeredTo + "'");
        h.settle();
        agent.assertNone(MasterMessage.Type.CHECKPOINT_RESOURCES, s);
    }

    @Test
    void reservationsSurviveAMasterRestartThroughTheAgentsReport() throws Exception {
        // A master that never saw this agent (it restarted): the agent re-registers with the
        // reservations it checkpointed, and they are the truth.
        Resources total = ResourceText.parse("cpus:2;mem:1024").plus(dynamic("cpus(eng):2;mem(eng):1024"));
        FakeAgent agent = reregister("m0-S7", total);
        agent.next(MasterMessage.Type.REGISTERED);
        FakeScheduler ops = h.scheduler(inRole("ops", "ops"));
        assertThat(Resources.fromProto(offer(ops).getResourcesList())).isEqualTo(ResourceText.parse("cpus:2;mem:1024"));
        FakeScheduler eng = h.scheduler(inRole("eng", "eng"));
        assertThat(Resources.fromProto(offer(eng).getResourcesList())).isEqualTo(dynamic("cpus(eng):2;mem(eng):1024"));
        h.settle();
        agent.assertNone(MasterMessage.Type.CHECKPOINT_RESOURCES, eng);
    }

    @Test
    void anAgentThatMissedACheckpointIsSentItAgainWhenItComesBack() throws Exception {
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:2048");
        FakeScheduler eng = h.scheduler(inRole("eng", "eng"));
        Resources reserved = dynamic("cpus(eng):2;mem(eng):1024");
        eng.call(operation(offer(eng), reserve(reserved), 60));
        agent.next(MasterMessage.Type.CHECKPOINT_RESOURCES);
        // Say the message was lost with the stream: the agent comes back reporting no reservation.
        agent.close();
        FakeAgent back = reregister(agent.agentId.getValue(), ResourceText.parse("cpus:4;mem:2048"));
        back.next(MasterMessage.Type.REGISTERED);
        assertThat(checkpointed(back.next(MasterMessage.Type.CHECKPOINT_RESOURCES))).isEqualTo(reserved);
        // And the master still offers the reservation to eng only.
        eng.call(Call.newBuilder().setType(Call.Type.REVIVE));
        assertThat(Resources.fromProto(offer(eng).getResourcesList()))
                .isEqualTo(ResourceText.parse("cpus:2;mem:1024").plus(reserved));
    }

    @Test
    void anAgentThatReportsWhatTheMasterHasIsNotSentAnything() throws Exception {
        FakeAgent agent = h.agent("host-1", "cpus:4;mem:2048");
        FakeScheduler eng = h.scheduler(inRole("eng", "eng"));
        Resources reserved = dynamic("cpus(eng):2;mem(eng):1024");
        eng.call(operation(offer(eng), reserve(reserved), 60));
        agent.next(MasterMessage.Type.CHECKPOINT_RESOURCES);
        agent.close();
        FakeAgent back = reregister(agent.agentId.getValue(), ResourceText.parse("cpus:2;mem:1024").plus(reserved));
        back.next(MasterMessage.Type.REGISTERED);
        h.advance(Duration.ofSeconds(1));
        back.assertNone(MasterMessage.Type.CHECKPOINT_RESOURCES, eng);
    }

    /** A raw agent that re-registers as {@code id} with these total resources and no tasks. */
    private FakeAgent reregister(String id, Resources total) {
        FakeAgent a = new FakeAgent(h.channel);
        a.agentId = io.mezzo.proto.v1.AgentID.newBuilder().setValue(id).build();
        List<Resource> resources = total.toProto();
        a.info = AgentInfo.newBuilder().setHostname("host-back").setId(a.agentId).addAllResources(resources).build();
        a.send(AgentMessage.newBuilder().setType(AgentMessage.Type.REREGISTER).setAgentId(a.agentId)
                .setReregister(AgentMessage.Reregister.newBuilder().setAgentInfo(a.info)).build());
        return a;
    }
}
