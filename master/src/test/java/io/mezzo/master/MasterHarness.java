package io.mezzo.master;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.mezzo.common.clock.ManualClock;
import io.mezzo.common.loop.RecordingFaultHandler;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentLinkGrpc;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.OperatorGrpc;
import io.mezzo.proto.v1.SchedulerGrpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A real master on 127.0.0.1 with a manual clock, plus raw protocol peers (a scheduler stream and
 * agent streams speaking the wire protocol directly) that record what the master sends. Closes
 * everything in reverse order.
 */
final class MasterHarness implements AutoCloseable {

    static final Duration WAIT = Duration.ofSeconds(10);

    final ManualClock clock = new ManualClock();
    final RecordingFaultHandler faults = new RecordingFaultHandler();
    final Master master;
    final ManagedChannel channel;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    MasterHarness() throws Exception {
        this(b -> {});
    }

    MasterHarness(Consumer<MasterConfig.Builder> tweak) throws Exception {
        MasterConfig.Builder b = MasterConfig.builder()
                .ip("127.0.0.1")
                .port(0)
                .httpPort(0)
                .clock(clock)
                .faultHandler(faults)
                .idPrefix("m1")
                .allocatorSeed(42L);
        tweak.accept(b);
        master = new Master(b.build());
        master.start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", master.port()).usePlaintext().build();
    }

    OperatorGrpc.OperatorBlockingStub operator() {
        return OperatorGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    /** Waits for the master's loop to run everything queued so far. */
    void settle() throws Exception {
        master.barrier().get(10, TimeUnit.SECONDS);
    }

    /** Advances the clock, then settles. */
    void advance(Duration d) throws Exception {
        settle();
        clock.advance(d);
        settle();
    }

    RawScheduler scheduler(FrameworkInfo info) throws Exception {
        RawScheduler s = new RawScheduler(channel);
        closeables.add(s);
        s.send(Call.newBuilder().setType(Call.Type.SUBSCRIBE)
                .setSubscribe(Call.Subscribe.newBuilder().setFrameworkInfo(info)).build());
        Event subscribed = s.next(Event.Type.SUBSCRIBED);
        s.frameworkId = subscribed.getSubscribed().getFrameworkId();
        return s;
    }

    static FrameworkInfo.Builder framework(String name) {
        return FrameworkInfo.newBuilder().setName(name).setUser("nobody").setFailoverTimeout(60);
    }

    RawAgent agent(String hostname, String resources) throws Exception {
        RawAgent a = new RawAgent(channel);
        closeables.add(a);
        a.send(AgentMessage.newBuilder().setType(AgentMessage.Type.REGISTER)
                .setRegister(AgentMessage.Register.newBuilder().setAgentInfo(AgentInfo.newBuilder()
                        .setHostname(hostname)
                        .addAllResources(ResourceText.parse(resources).toProto())))
                .build());
        MasterMessage registered = a.next(MasterMessage.Type.REGISTERED);
        a.agentId = registered.getRegistered().getAgentId();
        a.info = AgentInfo.newBuilder().setHostname(hostname).setId(a.agentId)
                .addAllResources(ResourceText.parse(resources).toProto()).build();
        return a;
    }

    @Override
    public void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        channel.shutdownNow();
        channel.awaitTermination(5, TimeUnit.SECONDS);
        master.close();
        faults.assertNoFaults();
    }

    /** A scheduler speaking the raw protocol. */
    static final class RawScheduler implements AutoCloseable {
        final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        final StreamObserver<Call> calls;
        volatile boolean closed;
        volatile Throwable error;
        FrameworkID frameworkId;

        RawScheduler(ManagedChannel channel) {
            calls = SchedulerGrpc.newStub(channel).subscribe(new StreamObserver<>() {
                @Override
                public void onNext(Event e) {
                    events.add(e);
                }

                @Override
                public void onError(Throwable t) {
                    error = t;
                    closed = true;
                }

                @Override
                public void onCompleted() {
                    closed = true;
                }
            });
        }

        synchronized void send(Call call) {
            calls.onNext(call);
        }

        void call(Call.Builder call) {
            send(call.setFrameworkId(frameworkId).build());
        }

        private int syncs;

        /**
         * Waits until the master has processed every call sent before: calls on one stream are
         * handled in order, so the answer to a RECONCILE of a made-up task comes after them. Other
         * events seen meanwhile stay queued.
         */
        void sync() throws InterruptedException {
            String marker = "sync-" + (++syncs);
            call(Call.newBuilder().setType(Call.Type.RECONCILE).setReconcile(Call.Reconcile.newBuilder()
                    .addTasks(Call.Reconcile.Task.newBuilder().setTaskId(
                            io.mezzo.proto.v1.TaskID.newBuilder().setValue(marker)))));
            java.util.function.Predicate<Event> isMarker = e -> e.getType() == Event.Type.UPDATE
                    && e.getUpdate().getStatus().getTaskId().getValue().equals(marker);
            org.awaitility.Awaitility.await(marker).atMost(WAIT).until(() -> events.stream().anyMatch(isMarker));
            events.removeIf(isMarker);
        }

        /** The next event of this type, skipping heartbeats and other types. */
        Event next(Event.Type type) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (true) {
                Event e = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                assertThat(e).as("waiting for %s", type).isNotNull();
                if (e.getType() == type) {
                    return e;
                }
            }
        }

        /**
         * Asserts that no event of this type arrived. A round trip on this stream comes first
         * ({@link #sync()}): whatever the master queued for this scheduler before it answered the
         * marker has arrived by then, so an event still on the wire cannot slip past the check.
         */
        void assertNone(Event.Type type) throws InterruptedException {
            sync();
            assertThat(events).noneMatch(e -> e.getType() == type);
        }

        void drain() {
            events.clear();
        }

        @Override
        public void close() {
            if (!closed) {
                try {
                    calls.onCompleted();
                } catch (RuntimeException ignored) {
                    // already cancelled
                }
            }
        }
    }

    /** An agent speaking the raw protocol; it does not answer pings unless told to. */
    static final class RawAgent implements AutoCloseable {
        final BlockingQueue<MasterMessage> messages = new LinkedBlockingQueue<>();
        final StreamObserver<AgentMessage> out;
        volatile boolean closed;
        volatile boolean answerPings = true;
        io.mezzo.proto.v1.AgentID agentId;
        AgentInfo info;

        RawAgent(ManagedChannel channel) {
            out = AgentLinkGrpc.newStub(channel).connect(new StreamObserver<>() {
                @Override
                public void onNext(MasterMessage m) {
                    if (m.getType() == MasterMessage.Type.PING && answerPings) {
                        send(AgentMessage.newBuilder().setType(AgentMessage.Type.PONG).setAgentId(agentId)
                                .setPong(AgentMessage.Pong.newBuilder().setSequence(m.getPing().getSequence())).build());
                        return;
                    }
                    messages.add(m);
                }

                @Override
                public void onError(Throwable t) {
                    closed = true;
                }

                @Override
                public void onCompleted() {
                    closed = true;
                }
            });
        }

        synchronized void send(AgentMessage m) {
            out.onNext(m);
        }

        MasterMessage next(MasterMessage.Type type) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (true) {
                MasterMessage m = messages.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                assertThat(m).as("waiting for %s", type).isNotNull();
                if (m.getType() == type) {
                    return m;
                }
            }
        }

        private int syncs;

        /**
         * Waits until every message the master queued for this agent so far has arrived. An agent
         * has no call that the master answers on its own stream without side effects, so the
         * round trip goes through {@code via}, a subscribed scheduler: it ACKNOWLEDGEs a made-up
         * task on this agent, and the master forwards every ACKNOWLEDGE for a connected agent as
         * a STATUS_UPDATE_ACK on the agent's stream (it looks the task up only afterwards, and
         * finds nothing to change). The master handles the ACKNOWLEDGE after every call {@code
         * via} sent before it and after every event already on its loop, and its outbound stream
         * keeps order, so the marker arrives after anything they made it send here. The agent must
         * be registered and connected. Other messages seen meanwhile stay queued.
         */
        void sync(RawScheduler via) throws InterruptedException {
            String marker = "sync-" + (++syncs);
            via.call(Call.newBuilder().setType(Call.Type.ACKNOWLEDGE).setAcknowledge(Call.Acknowledge.newBuilder()
                    .setAgentId(agentId)
                    .setTaskId(io.mezzo.proto.v1.TaskID.newBuilder().setValue(marker))
                    .setUuid(com.google.protobuf.ByteString.copyFrom(new byte[16]))));
            java.util.function.Predicate<MasterMessage> isMarker = m -> m.getType() == MasterMessage.Type.STATUS_UPDATE_ACK
                    && m.getStatusUpdateAck().getTaskId().getValue().equals(marker);
            org.awaitility.Awaitility.await(marker).atMost(WAIT).until(() -> messages.stream().anyMatch(isMarker));
            messages.removeIf(isMarker);
        }

        /**
         * Asserts that no message of this type arrived, after a round trip to this agent through
         * {@code via} ({@link #sync(RawScheduler)}), so a message still on the wire cannot slip
         * past the check.
         */
        void assertNone(MasterMessage.Type type, RawScheduler via) throws InterruptedException {
            sync(via);
            assertThat(messages).noneMatch(m -> m.getType() == type);
        }

        @Override
        public void close() {
            if (!closed) {
                try {
                    out.onCompleted();
                } catch (RuntimeException ignored) {
                    // already cancelled
                }
            }
        }
    }
}
