package io.mezzo.master;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import io.mezzo.common.id.AgentId;
import io.mezzo.ha.registry.RegistryOp;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.RegistryAgent;
import io.mezzo.proto.v1.RegistryFramework;
import io.mezzo.testkit.Protos;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Removals stay removed, whatever races with them: a framework's tombstone and an agent's GONE
 * record are the last records written for them, so a new leader can never bring them back. On the
 * core with a registry whose writes the test completes, so each race is played in a fixed order
 * (the ZooKeeper versions, across real failovers, are in {@code MasterHaTest}).
 */
class RemovalsTest {

    private final CoreHarness h = new CoreHarness(List.of(), b -> b.agentPingInterval(Duration.ofSeconds(15))
            .maxAgentPingTimeouts(2));

    @AfterEach
    void stop() {
        h.close();
    }

    /** The framework records written for {@code id}, as states, in submission order. */
    private List<RegistryFramework.State> frameworkWrites(String id) {
        List<RegistryFramework.State> states = new ArrayList<>();
        for (List<RegistryOp> write : h.registry.submitted) {
            for (RegistryOp op : write) {
                if (op.collection().equals(RegistryRecords.FRAMEWORKS) && op.key().equals(id) && !op.isDelete()) {
                    states.add(parse(() -> RegistryFramework.parseFrom(op.value()).getState()));
                }
            }
        }
        return states;
    }

    /** The agent records written for {@code id}, as states, in submission order. */
    private List<RegistryAgent.State> agentWrites(String id) {
        List<RegistryAgent.State> states = new ArrayList<>();
        for (List<RegistryOp> write : h.registry.submitted) {
            for (RegistryOp op : write) {
                if (op.collection().equals(RegistryRecords.AGENTS) && op.key().equals(id) && !op.isDelete()) {
                    states.add(parse(() -> RegistryAgent.parseFrom(op.value()).getState()));
                }
            }
        }
        return states;
    }

    private interface Parse<T> {
        T get() throws InvalidProtocolBufferException;
    }

    private static <T> T parse(Parse<T> p) {
        try {
            return p.get();
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    private RegistryFramework.State storedFramework(String id) {
        return parse(() -> RegistryFramework.parseFrom(h.registry.record(RegistryRecords.FRAMEWORKS, id)).getState());
    }

    private RegistryAgent.State storedAgent(String id) {
        return parse(() -> RegistryAgent.parseFrom(h.registry.record(RegistryRecords.AGENTS, id)).getState());
    }

    private CoreHarness.Scheduler subscribed() {
        CoreHarness.Scheduler s = h.subscribe(Protos.framework("fw").build());
        assertThat(s.conn.framework).isNotNull();
        return s;
    }

    @Test
    void aStreamClosingRightAfterTeardownWritesNothingAfterTheTombstone() {
        CoreHarness.Scheduler s = subscribed();
        String id = s.conn.framework.value();
        h.registry.hold();
        s.call(Call.newBuilder().setType(Call.Type.TEARDOWN));
        s.close();
        h.registry.release();
        h.settle();

        assertThat(frameworkWrites(id)).containsExactly(RegistryFramework.State.ACTIVE, RegistryFramework.State.REMOVED);
        assertThat(storedFramework(id)).isEqualTo(RegistryFramework.State.REMOVED);
        assertThat(h.core.views().frameworkViews()).isEmpty();
    }

    @Test
    void aRemovalThatBecomesDurableWhileSuspendedIsAppliedOnResumeAndNeverUndone() {
        CoreHarness.Scheduler s = subscribed();
        String id = s.conn.framework.value();
        h.registry.hold();
        s.call(Call.newBuilder().setType(Call.Type.TEARDOWN));
        h.run(h.core::suspend);
        h.registry.release();
        h.settle();
        h.run(h.core::resume);

        assertThat(h.core.views().frameworkViews()).as("the durable removal is applied on resume").isEmpty();
        assertThat(frameworkWrites(id)).containsExactly(RegistryFramework.State.ACTIVE, RegistryFramework.State.REMOVED);
        assertThat(storedFramework(id)).isEqualTo(RegistryFramework.State.REMOVED);
    }

    @Test
    void aRemovalStillBeingWrittenWhenTheTermResumesIsNotUndoneByTheResume() {
        CoreHarness.Scheduler s = subscribed();
        String id = s.conn.framework.value();
        h.registry.hold();
        s.call(Call.newBuilder().setType(Call.Type.TEARDOWN));
        h.run(h.core::suspend);
        h.run(h.core::resume);
        h.registry.release();
        h.settle();

        assertThat(frameworkWrites(id)).containsExactly(RegistryFramework.State.ACTIVE, RegistryFramework.State.REMOVED);
        assertThat(h.core.views().frameworkViews()).isEmpty();
        // Its failover timeout never removes it a second time.
        h.advance(Duration.ofMinutes(2));
        assertThat(frameworkWrites(id)).containsExactly(RegistryFramework.State.ACTIVE, RegistryFramework.State.REMOVED);
    }

    @Test
    void aResubscriptionWhileTheRemovalIsBeingWrittenIsRefusedAndWritesNothing() {
        CoreHarness.Scheduler s = subscribed();
        String id = s.conn.framework.value();
        h.registry.hold();
        s.call(Call.newBuilder().setType(Call.Type.TEARDOWN));
        // With a changed info, which would be written as active.
        CoreHarness.Scheduler again = h.subscribe(Protos.framework("fw").setFailoverTimeout(120)
                .setId(s.conn.framework.toProto()).build());
        assertThat(again.ofType(Event.Type.ERROR)).singleElement()
                .satisfies(e -> assertThat(e.getError().getCode()).isEqualTo(Event.Error.Code.FRAMEWORK_REMOVED));
        assertThat(again.events.completed).isTrue();
        h.registry.release();
        h.settle();
        assertThat(frameworkWrites(id)).containsExactly(RegistryFramework.State.ACTIVE, RegistryFramework.State.REMOVED);
    }

    @Test
    void anAgentBeingMarkedGoneIsNeverWrittenBackAsAdmittedOrUnreachable() {
        CoreHarness.Agent agent = h.register("host-1");
        String id = agent.info.getId().getValue();
        h.registry.hold();
        List<String> answers = new ArrayList<>();
        h.run(() -> h.core.markGone(AgentId.of(id), error -> answers.add(String.valueOf(error))));

        // It re-registers with a changed info (which would be written as admitted) ...
        AgentInfo changed = agent.info.toBuilder().setHostname("host-1b").build();
        CoreHarness.Agent back = h.reregister(changed, List.of());
        assertThat(back.ofType(MasterMessage.Type.ERROR)).singleElement()
                .satisfies(m -> assertThat(m.getShutdown().getMessage()).contains("being removed"));
        // ... and misses its pings (which would be written as unreachable).
        agent.close();
        for (int i = 0; i < 3; i++) {
            h.advance(Duration.ofSeconds(15));
        }

        h.registry.release();
        h.settle();
        assertThat(answers).containsExactly("null");
        assertThat(agentWrites(id)).containsExactly(RegistryAgent.State.ADMITTED, RegistryAgent.State.GONE);
        assertThat(storedAgent(id)).isEqualTo(RegistryAgent.State.GONE);
        assertThat(h.core.views().agentViews()).singleElement()
                .satisfies(v -> assertThat(v.getState()).isEqualTo(AgentView.State.GONE));

        // When it tries again it is told to shut down, and nothing is written.
        CoreHarness.Agent later = h.reregister(changed, List.of());
        assertThat(later.ofType(MasterMessage.Type.SHUTDOWN)).hasSize(1);
        assertThat(agentWrites(id)).containsExactly(RegistryAgent.State.ADMITTED, RegistryAgent.State.GONE);
    }

    @Test
    void markingAnAgentGoneTwiceWhileTheFirstIsBeingWrittenAppliesOnce() {
        CoreHarness.Agent agent = h.register("host-1");
        AgentId id = AgentId.of(agent.info.getId().getValue());
        h.registry.hold();
        List<String> answers = new ArrayList<>();
        h.run(() -> h.core.markGone(id, error -> answers.add(String.valueOf(error))));
        h.run(() -> h.core.markGone(id, error -> answers.add(String.valueOf(error))));
        h.registry.release();
        h.settle();
        assertThat(answers).containsExactly("null", "null");
        assertThat(agent.ofType(MasterMessage.Type.SHUTDOWN)).hasSize(1);
        assertThat(storedAgent(id.value())).isEqualTo(RegistryAgent.State.GONE);
    }
}
