package io.mezzo.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.SchedulerGrpc;
import io.mezzo.proto.v1.TaskID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.awaitility.Awaitility;

/**
 * A scheduler that speaks the raw wire protocol to a real master: one {@code Scheduler.Subscribe}
 * stream, every event recorded in {@link #events}. For tests of the master's scheduler API that
 * must send what the Java client never would (malformed calls, replays, stale streams).
 *
 * <p>Thread-safe: gRPC threads record, the test thread sends and reads. Every wait is bounded by
 * {@link Timeouts#WAIT}.
 */
public final class FakeScheduler implements AutoCloseable {

    /** Every event received and not yet taken, oldest first. */
    public final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    /** True once the stream ended, from either side. */
    public volatile boolean closed;
    /** How the master ended the stream, when it failed it. */
    public volatile Throwable error;
    /** The framework id from SUBSCRIBED; {@link #call} stamps it on every call. */
    public volatile FrameworkID frameworkId;

    private final StreamObserver<Call> calls;
    private int syncs;

    /** Opens a stream and sends nothing yet. */
    public FakeScheduler(Channel channel) {
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

    /** Opens a stream, SUBSCRIBEs with {@code info} and waits for SUBSCRIBED. */
    public static FakeScheduler subscribe(Channel channel, FrameworkInfo info) throws InterruptedException {
        FakeScheduler s = new FakeScheduler(channel);
        s.send(Call.newBuilder().setType(Call.Type.SUBSCRIBE)
                .setSubscribe(Call.Subscribe.newBuilder().setFrameworkInfo(info)).build());
        s.frameworkId = s.next(Event.Type.SUBSCRIBED).getSubscribed().getFrameworkId();
        return s;
    }

    /** Sends a call as it is. */
    public synchronized void send(Call call) {
        calls.onNext(call);
    }

    /** Sends a call stamped with this scheduler's framework id. */
    public void call(Call.Builder call) {
        send(call.setFrameworkId(frameworkId).build());
    }

    /** The next event of this type, skipping heartbeats and other types; fails after the bound. */
    public Event next(Event.Type type) throws InterruptedException {
        long deadline = System.nanoTime() + Timeouts.WAIT.toNanos();
        while (true) {
            Event e = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            assertThat(e).as("waiting for %s", type).isNotNull();
            if (e.getType() == type) {
                return e;
            }
        }
    }

    /**
     * Waits until the master has processed every call sent before and everything it queued for
     * this stream has arrived: calls on one stream are handled in order, so the answer to a
     * RECONCILE of a made-up task comes after them. Other events seen meanwhile stay queued.
     *
     * <p>A master recovering after a failover holds that answer until recovery ends (it cannot
     * yet be sure the task is unknown); use {@link #syncWhileRecovering()} then.
     */
    public void sync() {
        String marker = "sync-" + (++syncs);
        call(Call.newBuilder().setType(Call.Type.RECONCILE).setReconcile(Call.Reconcile.newBuilder()
                .addTasks(Call.Reconcile.Task.newBuilder().setTaskId(TaskID.newBuilder().setValue(marker)))));
        Predicate<Event> isMarker = e -> e.getType() == Event.Type.UPDATE
                && e.getUpdate().getStatus().getTaskId().getValue().equals(marker);
        Awaitility.await(marker).atMost(Timeouts.WAIT).until(() -> events.stream().anyMatch(isMarker));
        events.removeIf(isMarker);
    }

    /**
     * Asserts that no event of this type arrived. A round trip on this stream comes first ({@link
     * #sync()}): whatever the master queued for this scheduler before it answered the marker has
     * arrived by then, so an event still on the wire cannot slip past the check.
     */
    public void assertNone(Event.Type type) {
        sync();
        assertThat(events).noneMatch(e -> e.getType() == type);
    }

    /**
     * Like {@link #sync()}, but through a call the master refuses at once in every phase, so it
     * also works while a master recovers after a failover (when it holds the answer to a
     * RECONCILE of an unknown task): an ACKNOWLEDGE naming a made-up agent, refused with ERROR
     * NOT_FOUND. The master changes nothing for it. Other events seen meanwhile stay queued.
     */
    public void syncWhileRecovering() {
        String marker = "sync-agent-" + (++syncs);
        call(Call.newBuilder().setType(Call.Type.ACKNOWLEDGE).setAcknowledge(Call.Acknowledge.newBuilder()
                .setAgentId(AgentID.newBuilder().setValue(marker))
                .setTaskId(TaskID.newBuilder().setValue(marker))
                .setUuid(ByteString.copyFrom(new byte[16]))));
        Predicate<Event> isMarker = e -> e.getType() == Event.Type.ERROR
                && e.getError().getCallType() == Call.Type.ACKNOWLEDGE
                && e.getError().getMessage().contains(marker + " ");
        Awaitility.await(marker).atMost(Timeouts.WAIT).until(() -> events.stream().anyMatch(isMarker));
        events.removeIf(isMarker);
    }

    /** Like {@link #assertNone}, after a {@link #syncWhileRecovering()} round trip. */
    public void assertNoneWhileRecovering(Event.Type type) {
        syncWhileRecovering();
        assertThat(events).noneMatch(e -> e.getType() == type);
    }

    /** Forgets every event received so far. */
    public void drain() {
        events.clear();
    }

    /** Half-closes the stream, as a scheduler that goes away cleanly. */
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
