package io.mezzo.master;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.stub.StreamObserver;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OperatorEvent;
import io.mezzo.proto.v1.OperatorGrpc;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.SubscribeRequest;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.testkit.FakeAgent;
import io.mezzo.testkit.FakeScheduler;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.Timeouts;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Operator.Subscribe: the state first, then each change of agents, frameworks and tasks.
 */
class OperatorEventsTest {

    private MasterHarness h;
    private final BlockingQueue<OperatorEvent> events = new LinkedBlockingQueue<>();

    @BeforeEach
    void start() throws Exception {
        h = new MasterHarness();
        h.settle();
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private void subscribe() {
        OperatorGrpc.newStub(h.channel).subscribe(SubscribeRequest.getDefaultInstance(), new StreamObserver<>() {
            @Override
            public void onNext(OperatorEvent e) {
                events.add(e);
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        });
    }

    /** The next event other than HEARTBEAT. */
    private OperatorEvent next() throws InterruptedException {
        while (true) {
            OperatorEvent e = events.poll(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(e).as("an operator event").isNotNull();
            if (e.getType() != OperatorEvent.Type.HEARTBEAT) {
                return e;
            }
        }
    }

    private OperatorEvent next(OperatorEvent.Type type) throws InterruptedException {
        while (true) {
            OperatorEvent e = next();
            if (e.getType() == type) {
                return e;
            }
        }
    }

    @Test
    void streamsTheStateThenEveryChange() throws Exception {
        FakeAgent before = h.agent("host-1", "cpus:4;mem:1024");
        h.settle();
        subscribe();
        OperatorEvent subscribed = next();
        assertThat(subscribed.getType()).isEqualTo(OperatorEvent.Type.SUBSCRIBED);
        assertThat(subscribed.getSubscribed().getState().getAgentsList()).extracting(a -> a.getAgentInfo().getHostname())
                .containsExactly("host-1");

        FakeAgent agent = h.agent("host-2", "cpus:4;mem:1024");
        h.settle();
        assertThat(next(OperatorEvent.Type.AGENT_ADDED).getAgent().getAgentInfo().getHostname()).isEqualTo("host-2");

        FakeScheduler scheduler = h.scheduler(Protos.framework("watched").build());
        h.settle();
        assertThat(next(OperatorEvent.Type.FRAMEWORK_ADDED).getFramework().getFrameworkInfo().getName())
                .isEqualTo("watched");

        Offer offer = scheduler.next(Event.Type.OFFERS).getOffers().getOffersList().stream()
                .filter(o -> o.getAgentId().equals(agent.agentId)).findFirst().orElseThrow();
        scheduler.send(Protos.launch(offer, Protos.task("t1", offer, "cpus:1;mem:64").build())
                .setFrameworkId(scheduler.frameworkId).build());
        agent.next(MasterMessage.Type.RUN_TASK);
        h.settle();
        OperatorEvent added = next(OperatorEvent.Type.TASK_ADDED);
        assertThat(added.getTask().getTaskId().getValue()).isEqualTo("t1");
        assertThat(added.getTask().getState()).isEqualTo(TaskState.TASK_STAGING);

        agent.send(AgentMessage.newBuilder().setType(AgentMessage.Type.STATUS_UPDATE).setAgentId(agent.agentId)
                .setStatusUpdate(StatusUpdate.newBuilder().setFrameworkId(scheduler.frameworkId)
                        .setStatus(TaskStatus.newBuilder().setTaskId(added.getTask().getTaskId())
                                .setState(TaskState.TASK_RUNNING)
                                .setUuid(uuid())))
                .build());
        h.settle();
        OperatorEvent updated = next(OperatorEvent.Type.TASK_UPDATED);
        assertThat(updated.getTask().getState()).isEqualTo(TaskState.TASK_RUNNING);

        before.close();
        h.settle();
        OperatorEvent disconnected = next(OperatorEvent.Type.AGENT_UPDATED);
        assertThat(disconnected.getAgent().getAgentInfo().getHostname()).isEqualTo("host-1");
        assertThat(disconnected.getAgent().getConnected()).isFalse();
        assertThat(disconnected.getAgent().getState()).isEqualTo(AgentView.State.REGISTERED);
    }

    private static com.google.protobuf.ByteString uuid() {
        UUID u = UUID.randomUUID();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16);
        b.putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
        return com.google.protobuf.ByteString.copyFrom(b.array());
    }
}
