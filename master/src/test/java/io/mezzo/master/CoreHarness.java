package io.mezzo.master;

import io.grpc.stub.CallStreamObserver;
import io.mezzo.common.grpc.OutboundStream;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.ha.registry.RegistryOp;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.testkit.Loops;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.Timeouts;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A {@link MasterCore} on its own event loop with in-memory streams and a {@link GatedRegistry}:
 * for the orderings a real ZooKeeper cannot produce on demand (a stream closing while a removal is
 * being written, a write that completes while the term is suspended) and for recovery states read
 * from a registry the test writes. Time is a {@link ManualClock}; every action runs on the loop and
 * waits for it to settle. Closing checks that no fault was recorded.
 */
final class CoreHarness implements AutoCloseable {

    /** Records what the master sends on one stream; always ready. */
    static final class Recorder<T> extends CallStreamObserver<T> {
        final List<T> sent = new CopyOnWriteArrayList<>();
        volatile boolean completed;

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setOnReadyHandler(Runnable onReadyHandler) {}

        @Override
        public void disableAutoInboundFlowControl() {}

        @Override
        public void request(int count) {}

        @Override
        public void setMessageCompression(boolean enable) {}

        @Override
        public void onNext(T value) {
            sent.add(value);
        }

        @Override
        public void onError(Throwable t) {
            completed = true;
        }

        @Override
        public void onCompleted() {
            completed = true;
        }
    }

    /** A scheduler stream: what it was sent, and the framework it subscribed as. */
    final class Scheduler {
        final Recorder<Event> events = new Recorder<>();
        final SchedulerConnection conn =
                new SchedulerConnection(streams.incrementAndGet(), "scheduler:1", OutboundStream.attach(events, 1000, r -> {}));

        /** Sends a call stamped with the subscribed framework id. */
        void call(Call.Builder call) {
            run(() -> core.onSchedulerCall(conn, call.setFrameworkId(conn.framework.toProto()).build()));
        }

        /** The stream closes from the scheduler's side, as {@code SchedulerService} reports it. */
        void close() {
            run(() -> {
                core.onSchedulerClosed(conn, "scheduler closed the stream");
                conn.out.complete();
            });
        }

        /** The updates received, as statuses, oldest first. */
        List<TaskStatus> updates() {
            return events.sent.stream().filter(e -> e.getType() == Event.Type.UPDATE)
                    .map(e -> e.getUpdate().getStatus()).toList();
        }

        List<Event> ofType(Event.Type type) {
            return events.sent.stream().filter(e -> e.getType() == type).toList();
        }
    }

    /** An agent stream: what it was sent. */
    final class Agent {
        final Recorder<MasterMessage> messages = new Recorder<>();
        final AgentConnection conn =
                new AgentConnection(streams.incrementAndGet(), "agent:1", OutboundStream.attach(messages, 1000, r -> {}));
        AgentInfo info;

        void send(AgentMessage message) {
            run(() -> core.onAgentMessage(conn, message));
        }

        List<MasterMessage> ofType(MasterMessage.Type type) {
            return messages.sent.stream().filter(m -> m.getType() == type).toList();
        }

        /** The stream closes from the agent's side. */
        void close() {
            run(() -> {
                conn.out.markClosed();
                core.onAgentClosed(conn, "agent closed the stream");
            });
        }
    }

    final ManualClock clock = new ManualClock();
    final RecordingFaultHandler faults = new RecordingFaultHandler();
    final GatedRegistry registry;
    final EventLoop loop;
    final MasterCore core;
    private final AtomicLong streams = new AtomicLong();

    /** A core elected with a registry holding {@code records}, configured by {@code tweak}. */
    CoreHarness(List<RegistryOp> records, Consumer<MasterConfig.Builder> tweak) {
        MasterConfig.Builder b = MasterConfig.builder().clock(clock).faultHandler(faults).idPrefix("m1");
        tweak.accept(b);
        loop = new EventLoop("master-loop", clock, faults);
        core = new MasterCore(b.build(), loop, "m1", 42L, reason -> faults.handleFault("stepped down: " + reason, null));
        registry = new GatedRegistry(records);
        MasterInfo info = MasterInfo.newBuilder().setId("master-1").setHostname("localhost").setEpoch(2).build();
        run(() -> core.becomeLeader(info, registry, RegistryRecords.decode(registry.readAll())));
    }

    /** A freshly elected core with an empty registry. */
    CoreHarness() {
        this(List.of(), b -> {});
    }

    /** Runs {@code work} on the loop and waits until the loop is idle. */
    void run(Runnable work) {
        call(() -> {
            work.run();
            return null;
        });
    }

    /** Runs {@code work} on the loop, waits until the loop is idle, and returns its result. */
    <T> T call(Supplier<T> work) {
        try {
            T result = loop.call(work).get(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
            settle();
            return result;
        } catch (Exception e) {
            throw new AssertionError("the master's loop did not answer", e);
        }
    }

    /**
     * Waits until the loop is idle: a barrier, again while events appended meanwhile wait (a timer's
     * registry write appends its apply after the barrier that fired the timer).
     */
    void settle() {
        for (int i = 0; i < 10; i++) {
            Loops.settle(loop::barrier);
            if (loop.queueSize() == 0) {
                return;
            }
        }
    }

    /** Moves the clock forward, fires every timer due, and settles. */
    void advance(Duration d) {
        Loops.advance(clock, d, loop::barrier);
        settle();
    }

    /** A scheduler that SUBSCRIBEs with {@code info} (with an id to resubscribe). */
    Scheduler subscribe(FrameworkInfo info) {
        Scheduler s = new Scheduler();
        run(() -> core.onSchedulerCall(s.conn, Call.newBuilder().setType(Call.Type.SUBSCRIBE)
                .setSubscribe(Call.Subscribe.newBuilder().setFrameworkInfo(info)).build()));
        return s;
    }

    /** An agent that REGISTERs as {@code host} with 4 cpus and 1 GB. */
    Agent register(String host) {
        Agent a = new Agent();
        AgentInfo info = AgentInfo.newBuilder().setHostname(host)
                .addAllResources(ResourceText.parse("cpus:4;mem:1024").toProto()).build();
        a.send(AgentMessage.newBuilder().setType(AgentMessage.Type.REGISTER)
                .setRegister(AgentMessage.Register.newBuilder().setAgentInfo(info)).build());
        AgentID id = a.ofType(MasterMessage.Type.REGISTERED).get(0).getRegistered().getAgentId();
        a.info = info.toBuilder().setId(id).build();
        return a;
    }

    /** An agent that REREGISTERs as {@code info} (with its id) reporting {@code tasks} of {@code frameworks}. */
    Agent reregister(AgentInfo info, List<Task> tasks, FrameworkInfo... frameworks) {
        Agent a = new Agent();
        a.info = info;
        a.send(AgentMessage.newBuilder().setType(AgentMessage.Type.REREGISTER).setAgentId(info.getId())
                .setReregister(AgentMessage.Reregister.newBuilder().setAgentInfo(info)
                        .addAllFrameworks(List.of(frameworks)).addAllTasks(tasks))
                .build());
        return a;
    }

    /** An agent as a registry record would have admitted it: {@code id} at {@code host}, 4 cpus and 1 GB. */
    static AgentInfo agentInfo(String id, String host) {
        return AgentInfo.newBuilder().setId(AgentID.newBuilder().setValue(id)).setHostname(host)
                .addAllResources(ResourceText.parse("cpus:4;mem:1024").toProto()).build();
    }

    /** A running task of {@code framework} on {@code agent}, as the agent reports it in REREGISTER. */
    static Task runningTask(String taskId, FrameworkInfo framework, AgentInfo agent) {
        return Task.newBuilder()
                .setTaskId(io.mezzo.proto.v1.TaskID.newBuilder().setValue(taskId))
                .setFrameworkId(framework.getId())
                .setAgentId(agent.getId())
                .setName(taskId)
                .setState(TaskState.TASK_RUNNING)
                .addAllResources(ResourceText.parse("cpus:1;mem:128").toProto())
                .build();
    }

    @Override
    public void close() {
        loop.close();
        faults.assertNoFaults();
    }
}
