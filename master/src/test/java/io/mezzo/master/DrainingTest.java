package io.mezzo.master;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.common.grpc.OutboundStream;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Offer;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.RecordingFaultHandler;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Draining agents, on the master's state machine itself (there is no drain API yet, so the test
 * sets the state through {@link MasterCore#setDraining}): a draining agent is not offered and its
 * outstanding offers are rescinded. The streams are in-memory fakes; time is a manual clock.
 */
class DrainingTest {

    private final ManualClock clock = new ManualClock();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private EventLoop loop;
    private MasterCore core;

    @BeforeEach
    void start() throws Exception {
        MasterConfig config = MasterConfig.builder().clock(clock).faultHandler(faults).idPrefix("m1").build();
        loop = new EventLoop("master-loop", clock, faults);
        core = new MasterCore(config, loop, "m1", 42L, reason -> faults.handleFault("stepped down: " + reason, null));
        MasterInfo info = MasterInfo.newBuilder().setId("master-1").setHostname("localhost").setEpoch(1).build();
        onLoop(() -> {
            core.becomeLeader(info, new io.mezzo.ha.registry.InMemoryRegistry(),
                    RegistryRecords.decode(java.util.Map.of()));
            return null;
        });
    }

    @AfterEach
    void stop() {
        loop.close();
        faults.assertNoFaults();
    }

    private <T> T onLoop(Supplier<T> work) throws Exception {
        T result = loop.call(work).get(10, TimeUnit.SECONDS);
        loop.barrier().get(10, TimeUnit.SECONDS);
        return result;
    }

    private AgentId agent(String host, CoreHarness.Recorder<MasterMessage> out) throws Exception {
        AgentConnection conn = new AgentConnection(host.hashCode(), host + ":1", OutboundStream.attach(out, 100, r -> {}));
        onLoop(() -> {
            core.onAgentMessage(conn, AgentMessage.newBuilder().setType(AgentMessage.Type.REGISTER)
                    .setRegister(AgentMessage.Register.newBuilder().setAgentInfo(AgentInfo.newBuilder()
                            .setHostname(host).addAllResources(ResourceText.parse("cpus:2;mem:1024").toProto())))
                    .build());
            return null;
        });
        return AgentId.of(conn.agent.value());
    }

    private static List<Offer> offers(CoreHarness.Recorder<Event> out) {
        return out.sent.stream().filter(e -> e.getType() == Event.Type.OFFERS)
                .flatMap(e -> e.getOffers().getOffersList().stream()).toList();
    }

    @Test
    void aDrainingAgentIsNotOfferedAndItsOffersAreRescinded() throws Exception {
        AgentId a1 = agent("host-1", new CoreHarness.Recorder<>());
        AgentId a2 = agent("host-2", new CoreHarness.Recorder<>());
        assertThat(onLoop(() -> core.setDraining(a1, true))).isTrue();

        CoreHarness.Recorder<Event> events = new CoreHarness.Recorder<>();
        SchedulerConnection conn = new SchedulerConnection(1, "scheduler:1", OutboundStream.attach(events, 100, r -> {}));
        onLoop(() -> {
            core.onSchedulerCall(conn, Call.newBuilder().setType(Call.Type.SUBSCRIBE).setSubscribe(Call.Subscribe
                    .newBuilder().setFrameworkInfo(Protos.framework("fw"))).build());
            return null;
        });
        assertThat(offers(events)).extracting(o -> o.getAgentId().getValue()).containsExactly(a2.value());

        // Back from draining: offered again.
        assertThat(onLoop(() -> core.setDraining(a1, false))).isTrue();
        assertThat(offers(events)).extracting(o -> o.getAgentId().getValue()).containsExactly(a2.value(), a1.value());

        // Draining with an offer outstanding rescinds it.
        assertThat(onLoop(() -> core.setDraining(a1, true))).isTrue();
        assertThat(events.sent).filteredOn(e -> e.getType() == Event.Type.RESCIND).singleElement()
                .satisfies(e -> assertThat(e.getRescind().getOfferId()).isEqualTo(offers(events).get(1).getId()));
        assertThat(core.views().agentViews()).filteredOn(v -> v.getAgentInfo().getId().getValue().equals(a1.value()))
                .singleElement().satisfies(v -> assertThat(v.getState()).isEqualTo(io.mezzo.proto.v1.AgentView.State.DRAINING));
        // Only a registered agent drains; only a draining one comes back.
        assertThat(onLoop(() -> core.setDraining(a1, true))).isFalse();
        assertThat(onLoop(() -> core.setDraining(AgentId.of("nope"), true))).isFalse();
    }
}
