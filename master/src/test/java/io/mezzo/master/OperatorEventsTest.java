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

    /**
     * A subscriber that reads nothing is dropped with RESOURCE_EXHAUSTED once 1,000 events wait for
     * it, rather than growing the master's memory; the master and a subscriber that reads go on.
     */
    @Test
    void aSubscriberThatStopsReadingIsDroppedAndTheOthersGoOn() throws Exception {
        // A small HTTP/2 window, so that the transport stops taking events after a few kilobytes
        // and they queue in the master, where the bound is.
        io.grpc.ManagedChannel slowChannel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
                .forAddress("127.0.0.1", h.master.port()).usePlaintext().flowControlWindow(16 * 1024).build();
        try {
            BlockingQueue<OperatorEvent> slowEvents = new LinkedBlockingQueue<>();
            java.util.concurrent.CompletableFuture<Throwable> slowEnd = new java.util.concurrent.CompletableFuture<>();
            io.grpc.stub.ClientCallStreamObserver<?>[] slowCall = new io.grpc.stub.ClientCallStreamObserver<?>[1];
            OperatorGrpc.newStub(slowChannel).subscribe(SubscribeRequest.getDefaultInstance(),
                    new io.grpc.stub.ClientResponseObserver<SubscribeRequest, OperatorEvent>() {
                        @Override
                        public void beforeStart(io.grpc.stub.ClientCallStreamObserver<SubscribeRequest> call) {
                            slowCall[0] = call;
                            call.disableAutoRequestWithInitial(1);
                        }

                        @Override
                        public void onNext(OperatorEvent e) {
                            slowEvents.add(e);
                        }

                        @Override
                        public void onError(Throwable t) {
                            slowEnd.complete(t);
                        }

                        @Override
                        public void onCompleted() {
                            slowEnd.complete(null);
                        }
                    });
            assertThat(slowEvents.poll(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS).getType())
                    .isEqualTo(OperatorEvent.Type.SUBSCRIBED);
            subscribe();
            assertThat(next().getType()).isEqualTo(OperatorEvent.Type.SUBSCRIBED);

            // 1,500 tasks launched at once: 1,500 TASK_ADDED events, more than the 1,000 that may wait.
            FakeScheduler scheduler = h.scheduler(Protos.framework("busy").build());
            java.util.List<Offer> offers = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                h.agent("big-" + i, "cpus:16;mem:65536");
            }
            h.settle();
            while (offers.size() < 3) {
                offers.addAll(scheduler.next(Event.Type.OFFERS).getOffers().getOffersList());
            }
            int n = 0;
            for (Offer offer : offers.subList(0, 3)) {
                io.mezzo.proto.v1.TaskInfo[] tasks = new io.mezzo.proto.v1.TaskInfo[500];
                for (int i = 0; i < tasks.length; i++) {
                    tasks[i] = Protos.task("t" + n++, offer, "cpus:0.01;mem:32").build();
                }
                scheduler.send(Protos.launch(offer, tasks).setFrameworkId(scheduler.frameworkId).build());
            }
            h.settle();

            // The reader sees all 1,500; the one that reads nothing is dropped.
            java.util.Set<String> added = new java.util.HashSet<>();
            while (added.size() < 1500) {
                added.add(next(OperatorEvent.Type.TASK_ADDED).getTask().getTaskId().getValue());
            }
            slowCall[0].request(Integer.MAX_VALUE);
            Throwable end = slowEnd.get(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(io.grpc.Status.fromThrowable(end).getCode()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED);
            assertThat(io.grpc.Status.fromThrowable(end).getDescription()).contains("too slow");
            assertThat(slowEvents.stream().filter(e -> e.getType() == OperatorEvent.Type.TASK_ADDED).count())
                    .isLessThan(1500);

            // The master serves on: a new agent reaches the reader.
            h.agent("after", "cpus:1;mem:64");
            h.settle();
            assertThat(next(OperatorEvent.Type.AGENT_ADDED).getAgent().getAgentInfo().getHostname()).isEqualTo("after");
        } finally {
            slowChannel.shutdownNow();
            slowChannel.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static com.google.protobuf.ByteString uuid() {
        UUID u = UUID.randomUUID();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16);
        b.putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
        return com.google.protobuf.ByteString.copyFrom(b.array());
    }
}
