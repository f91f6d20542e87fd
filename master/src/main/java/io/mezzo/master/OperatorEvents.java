package io.mezzo.master;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.mezzo.common.grpc.OutboundStream;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.FrameworkView;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.OperatorEvent;
import io.mezzo.proto.v1.Task;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator event stream ({@code Operator.Subscribe}): SUBSCRIBED with the state, then every
 * change, worked out by comparing each state snapshot the loop publishes with the one before.
 *
 * <pre>
 *  loop: StateSnapshots.publishNow --published(snapshot)--> [operator-events thread]
 *      diff(previous, snapshot) -> TASK_*, AGENT_*, FRAMEWORK_*, LEADER_CHANGED
 *      -> each Subscriber: a gRPC OutboundStream or an SSE client (EventStreamSubscriber),
 *         bounded at 1,000 events; a slower reader is dropped with a logged reason
 *  every 15 s: HEARTBEAT
 * </pre>
 *
 * <p>Invariants:
 *
 * <ol>
 *   <li>A subscriber sees SUBSCRIBED with snapshot S, then exactly the changes after S, in order:
 *       subscribing and diffing run on the one {@code operator-events} thread.
 *   <li>Nothing here runs on, or reads, the master's loop: the loop only hands over a snapshot.
 *   <li>Agent and framework views change with every offer and pong; only their state, connection
 *       and info count as an AGENT_UPDATED or FRAMEWORK_UPDATED, so the stream stays readable.
 * </ol>
 *
 * <p>Owner: {@link Master}. Threads: gRPC and HTTP threads subscribe; the loop hands snapshots over; the
 * rest runs on the {@code operator-events} thread.
 */
final class OperatorEvents implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(OperatorEvents.class);
    /** Events a subscriber may leave unread before it is dropped. */
    static final int QUEUE_CAPACITY = 1000;
    static final Duration HEARTBEAT = Duration.ofSeconds(15);

    private final Leadership leadership;
    private final io.mezzo.common.clock.Clock clock;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "operator-events");
        t.setDaemon(true);
        return t;
    });
    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
    /** The last snapshot diffed; operator-events thread only. */
    private StateSnapshot last = StateSnapshot.EMPTY;
    private volatile boolean closed;

    OperatorEvents(Leadership leadership, io.mezzo.common.clock.Clock clock) {
        this.leadership = leadership;
        this.clock = clock;
        thread.scheduleWithFixedDelay(this::heartbeat, HEARTBEAT.toMillis(), HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A new snapshot was published (loop thread): diff it off the loop. */
    void published(StateSnapshot snapshot) {
        if (closed) {
            // The master is stopping: its last snapshots have no one to go to.
            return;
        }
        try {
            thread.execute(() -> diff(snapshot));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            if (!closed) {
                throw e;
            }
        }
    }

    /**
     * Where events go: a gRPC stream ({@code Operator.Subscribe}) or a server-sent-events client
     * ({@link EventStreamSubscriber}). Each holds its own bounded queue and drops itself (telling
     * the reason) when its reader stays slow; {@link #send} is called on the operator-events thread.
     */
    interface Subscriber {
        /** Queues {@code event}; false when the subscriber is closed or was just dropped. */
        boolean send(OperatorEvent event);

        /** Ends the stream because the master stops or no longer leads; {@code reason} says which. */
        void end(String reason);

        /** Whether the reader went away or the stream ended. */
        boolean isClosed();
    }

    /** Subscribe: called on a gRPC thread by {@link OperatorService}, which checked leadership. */
    void subscribe(StreamObserver<OperatorEvent> observer) {
        ServerCallStreamObserver<OperatorEvent> call = (ServerCallStreamObserver<OperatorEvent>) observer;
        GrpcSubscriber[] holder = new GrpcSubscriber[1];
        OutboundStream<OperatorEvent> stream = OutboundStream.attach(call, QUEUE_CAPACITY, reason -> {
            LOG.warn("Dropped an operator event subscriber: {}", reason);
            subscribers.remove(holder[0]);
        });
        holder[0] = new GrpcSubscriber(stream);
        call.setOnCancelHandler(() -> {
            stream.markClosed();
            subscribers.remove(holder[0]);
        });
        subscribe(holder[0]);
    }

    /**
     * Subscribes {@code subscriber} (any thread): it gets SUBSCRIBED with the state last diffed,
     * then every change after it (invariant 1).
     */
    void subscribe(Subscriber subscriber) {
        if (closed) {
            subscriber.end("the master is stopping");
            return;
        }
        try {
            thread.execute(() -> {
                if (subscriber.isClosed()) {
                    return;
                }
                subscriber.send(OperatorEvent.newBuilder()
                        .setType(OperatorEvent.Type.SUBSCRIBED)
                        .setTime(now())
                        .setSubscribed(OperatorEvent.Subscribed.newBuilder()
                                .setState(last.state())
                                .setHeartbeatIntervalSeconds(HEARTBEAT.toSeconds()))
                        .build());
                subscribers.add(subscriber);
                LOG.info("Operator event subscriber joined ({} now)", subscribers.size());
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            subscriber.end("the master is stopping");
        }
    }

    /** Forgets {@code subscriber} (its reader went away); any thread. */
    void unsubscribe(Subscriber subscriber) {
        subscribers.remove(subscriber);
    }

    /** The gRPC side: an {@link OutboundStream} (bounded, drops a slow peer with RESOURCE_EXHAUSTED). */
    private record GrpcSubscriber(OutboundStream<OperatorEvent> stream) implements Subscriber {
        @Override
        public boolean send(OperatorEvent event) {
            return stream.send(event);
        }

        @Override
        public void end(String reason) {
            stream.fail(Status.UNAVAILABLE.withDescription(reason));
        }

        @Override
        public boolean isClosed() {
            return stream.isClosed();
        }
    }

    /** Ends every stream (the master stops). */
    @Override
    public void close() {
        closed = true;
        thread.shutdownNow();
        for (Subscriber s : subscribers) {
            s.end("the master is stopping");
        }
        subscribers.clear();
    }

    private double now() {
        return clock.millis() / 1000.0;
    }

    private void heartbeat() {
        OperatorEvent beat = OperatorEvent.newBuilder().setType(OperatorEvent.Type.HEARTBEAT).setTime(now()).build();
        subscribers.forEach(s -> s.send(beat));
    }

    private void diff(StateSnapshot next) {
        StateSnapshot prev = last;
        last = next;
        if (subscribers.isEmpty()) {
            return;
        }
        double time = next.takenAtMillis() / 1000.0;
        MasterInfo before = prev.state().getMasterInfo();
        MasterInfo after = next.state().getMasterInfo();
        if (prev.leading() && !next.leading()) {
            // This master stopped leading: say who leads, if known, and end the streams.
            OperatorEvent.Builder e = OperatorEvent.newBuilder().setType(OperatorEvent.Type.LEADER_CHANGED).setTime(time);
            MasterInfo leader = leadership.leader();
            if (leader != null && !leader.getId().equals(after.getId())) {
                e.setLeader(leader);
            }
            for (Subscriber s : subscribers) {
                s.send(e.build());
                s.end("this master no longer leads");
            }
            subscribers.clear();
            return;
        }
        if (!before.getId().equals(after.getId()) || before.getEpoch() != after.getEpoch()) {
            broadcast(OperatorEvent.newBuilder().setType(OperatorEvent.Type.LEADER_CHANGED).setTime(time)
                    .setLeader(after).build());
        }
        diffFrameworks(prev, next, time);
        diffAgents(prev, next, time);
        diffTasks(prev, next, time);
    }

    private void diffAgents(StateSnapshot prev, StateSnapshot next, double time) {
        Map<String, AgentView> before = new HashMap<>();
        prev.state().getAgentsList().forEach(a -> before.put(a.getAgentInfo().getId().getValue(), a));
        for (AgentView a : next.state().getAgentsList()) {
            AgentView old = before.remove(a.getAgentInfo().getId().getValue());
            if (old == null) {
                broadcast(OperatorEvent.newBuilder().setType(OperatorEvent.Type.AGENT_ADDED).setTime(time).setAgent(a).build());
            } else if (old.getState() != a.getState() || old.getConnected() != a.getConnected()) {
                broadcast(OperatorEvent.newBuilder().setType(OperatorEvent.Type.AGENT_UPDATED).setTime(time).setAgent(a).build());
            }
        }
        before.values().forEach(a -> broadcast(OperatorEvent.newBuilder().setType(OperatorEvent.Type.AGENT_REMOVED)
                .setTime(time).setAgent(a).build()));
    }

    private void diffFrameworks(StateSnapshot prev, StateSnapshot next, double time) {
        Map<String, FrameworkView> before = new HashMap<>();
        prev.state().getFrameworksList().forEach(f -> before.put(f.getFrameworkInfo().getId().getValue(), f));
        for (FrameworkView f : next.state().getFrameworksList()) {
            FrameworkView old = before.remove(f.getFrameworkInfo().getId().getValue());
            if (old == null) {
                broadcast(OperatorEvent.newBuilder().setType(OperatorEvent.Type.FRAMEWORK_ADDED).setTime(time)
                        .setFramework(f).build());
            } else if (old.getState() != f.getState() || !old.getFrameworkInfo().equals(f.getFrameworkInfo())) {
                broadcast(OperatorEvent.newBuilder().setType(OperatorEvent.Type.FRAMEWORK_UPDATED).setTime(time)
                        .setFramework(f).build());
            }
        }
        before.values().forEach(f -> broadcast(OperatorEvent.newBuilder().setType(OperatorEvent.Type.FRAMEWORK_REMOVED)
                .setTime(time).setFramework(f.toBuilder().setState(FrameworkView.State.REMOVED)).build()));
    }

    private void diffTasks(StateSnapshot prev, StateSnapshot next, double time) {
        Map<String, Task> before = new HashMap<>();
        prev.state().getTasksList().forEach(t -> before.put(key(t), t));
        prev.state().getCompletedTasksList().forEach(t -> before.putIfAbsent(key(t), t));
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (List<Task> list : List.of(next.state().getTasksList(), next.state().getCompletedTasksList())) {
            for (Task t : list) {
                if (!seen.add(key(t))) {
                    continue;
                }
                Task old = before.get(key(t));
                if (old == null) {
                    broadcast(OperatorEvent.newBuilder().setType(OperatorEvent.Type.TASK_ADDED).setTime(time).setTask(t)
                            .build());
                } else if (old.getState() != t.getState() || !old.getLatestStatus().equals(t.getLatestStatus())) {
                    broadcast(OperatorEvent.newBuilder().setType(OperatorEvent.Type.TASK_UPDATED).setTime(time)
                            .setTask(t).build());
                }
            }
        }
    }

    private static String key(Task t) {
        return t.getFrameworkId().getValue() + "/" + t.getTaskId().getValue();
    }

    private void broadcast(OperatorEvent e) {
        for (Subscriber s : subscribers) {
            if (!s.send(e)) {
                subscribers.remove(s);
            }
        }
    }
}
