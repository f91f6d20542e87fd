package io.mezzo.agent.status;

import io.mezzo.common.task.TaskStates;
import com.google.protobuf.ByteString;
import io.mezzo.common.clock.Clock;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.retry.Backoff;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskStatus;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers task status updates to the master reliably, as the Mesos agent's task status update manager
 * does: each task has a stream of updates; only the head of a stream is in flight; it is resent with
 * exponential backoff until the master relays the framework's acknowledgement (STATUS_UPDATE_ACK with
 * the head's uuid); then the next update of that task goes out.
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>Per task, updates reach the sender in the order they were added; an update is sent only once
 *       every update before it was acknowledged.
 *   <li>At most one update per task is in flight, and while resumed exactly one retry timer (tag {@code
 *       status-retry/<framework>/<task>}) is pending per task that has updates.
 *   <li>While paused (no registered master) nothing is sent and no retry timer is pending; {@link
 *       #resume()} sends every head at once with a fresh backoff.
 *   <li>A stream ends when its terminal update is acknowledged; nothing may be added after a terminal
 *       update ({@link #add} throws, which the event loop reports as a fault).
 * </ol>
 *
 * <p>Thread: the agent's event loop only (its timers are loop timers on the loop's clock). Owner: the
 * agent's task manager, which feeds it updates and acknowledgements and pauses/resumes it with the
 * master link. Public only so that the agent's other packages can use it.
 */
public final class StatusUpdateManager {

    /** What an acknowledgement did. */
    public enum AckResult {
        /** It matched no update in flight (unknown task, old or wrong uuid); ignored. */
        IGNORED,
        /** It released the head of its task's stream. */
        ACKNOWLEDGED,
        /** It released the task's terminal update: the stream is gone and the task may be forgotten. */
        TERMINAL_ACKNOWLEDGED
    }

    /**
     * Told of every change of a task's stream before anything is sent, so that the stream can be
     * checkpointed first (write, then send). Called on the loop.
     */
    @FunctionalInterface
    public interface Journal {
        /**
         * The task's stream now holds {@code pending} (oldest first); {@code added} is the update just
         * queued, or null when an acknowledgement removed one.
         */
        void changed(TaskKey key, List<StatusUpdate> pending, StatusUpdate added);
    }

    private static final Logger LOG = LoggerFactory.getLogger(StatusUpdateManager.class);

    private final EventLoop loop;
    private final Clock clock;
    private final Duration retryInitial;
    private final Duration retryMax;
    private final Random random;
    private final Consumer<StatusUpdate> sender;
    // Insertion order, so that pending() lists tasks in the order they first reported.
    private final Map<TaskKey, UpdateStream> streams = new LinkedHashMap<>();
    private boolean resumed;
    private Journal journal = (key, pending, added) -> {};

    /**
     * A manager that starts paused.
     *
     * @param loop the event loop whose thread calls this object and whose timers drive retries
     * @param retryInitial first retry delay (jittered down to half)
     * @param retryMax longest retry delay
     * @param random jitter for the retry backoff
     * @param sender sends one update to the master; called only while resumed
     */
    public StatusUpdateManager(
            EventLoop loop, Duration retryInitial, Duration retryMax, Random random, Consumer<StatusUpdate> sender) {
        this.loop = loop;
        this.clock = loop.clock();
        this.retryInitial = retryInitial;
        this.retryMax = retryMax;
        this.random = random;
        this.sender = sender;
        // Fails early on a bad pair rather than on the first update.
        new Backoff(retryInitial, retryMax, random);
    }

    /** Sets who checkpoints the streams (the task manager). */
    public void journal(Journal journal) {
        this.journal = journal;
    }

    /**
     * Restores a task's stream from a checkpoint (an agent restart): the updates keep their uuids and
     * timestamps, and go out once the manager is resumed.
     */
    public void restore(FrameworkId framework, TaskId task, List<StatusUpdate> pending) {
        if (pending.isEmpty()) {
            return;
        }
        TaskKey key = new TaskKey(framework, task);
        UpdateStream stream = new UpdateStream(key, new Backoff(retryInitial, retryMax, random));
        stream.pending.addAll(pending);
        stream.terminated = TaskStates.isTerminal(pending.get(pending.size() - 1).getStatus().getState());
        streams.put(key, stream);
    }

    /**
     * Stamps {@code status} with a fresh uuid and the current time, queues it behind the task's earlier
     * updates and sends it at once if it is the head and the manager is resumed.
     *
     * @return the update as queued (with uuid and timestamp)
     * @throws IllegalStateException if the task's stream already holds a terminal update
     */
    public StatusUpdate add(FrameworkId framework, TaskStatus status) {
        TaskKey key = new TaskKey(framework, TaskId.of(status.getTaskId()));
        UpdateStream stream = streams.get(key);
        if (stream != null && stream.terminated) {
            throw new IllegalStateException(
                    "status update " + status.getState() + " for task " + key + " after its terminal update");
        }
        StatusUpdate update = stamp(framework, status);
        if (stream == null) {
            stream = new UpdateStream(key, new Backoff(retryInitial, retryMax, random));
            streams.put(key, stream);
        }
        stream.pending.add(update);
        stream.terminated = TaskStates.isTerminal(status.getState());
        journal.changed(key, List.copyOf(stream.pending), update);
        if (stream.pending.size() == 1 && resumed) {
            sendHead(stream);
        }
        return update;
    }

    /**
     * Stamps {@code status} and sends it once, without keeping or retrying it: for tasks of a framework
     * the master has forgotten, whose updates nobody would acknowledge. Dropped while paused.
     */
    public StatusUpdate sendOnce(FrameworkId framework, TaskStatus status) {
        StatusUpdate update = stamp(framework, status);
        if (resumed) {
            sender.accept(update);
        }
        return update;
    }

    /**
     * Handles the master's STATUS_UPDATE_ACK. Only an acknowledgement of the head of the task's stream
     * counts; any other is logged at DEBUG and ignored.
     */
    public AckResult acknowledge(TaskKey key, ByteString uuid) {
        UpdateStream stream = streams.get(key);
        StatusUpdate head = stream == null ? null : stream.pending.peek();
        if (head == null || !head.getStatus().getUuid().equals(uuid)) {
            LOG.debug("Ignored acknowledgement {} for task {}: not the update in flight", uuidText(uuid), key);
            return AckResult.IGNORED;
        }
        stream.pending.poll();
        stream.backoff.reset();
        loop.cancel(retryTag(key));
        LOG.debug(
                "Status update {} {} for task {} acknowledged",
                head.getStatus().getState(),
                uuidText(uuid),
                key);
        if (TaskStates.isTerminal(head.getStatus().getState())) {
            // Invariant 4: nothing can follow a terminal update, so the stream is done.
            streams.remove(key);
            return AckResult.TERMINAL_ACKNOWLEDGED;
        }
        journal.changed(key, List.copyOf(stream.pending), null);
        if (!stream.pending.isEmpty() && resumed) {
            sendHead(stream);
        }
        return AckResult.ACKNOWLEDGED;
    }

    /** Stops sending (the master link is down); updates keep queueing. */
    public void pause() {
        resumed = false;
        for (TaskKey key : streams.keySet()) {
            loop.cancel(retryTag(key));
        }
    }

    /** Starts sending again (the agent (re)registered): every head goes out now with a fresh backoff. */
    public void resume() {
        resumed = true;
        for (UpdateStream stream : streams.values()) {
            stream.backoff.reset();
            if (!stream.pending.isEmpty()) {
                sendHead(stream);
            }
        }
    }

    /** Whether updates are being sent. */
    public boolean isResumed() {
        return resumed;
    }

    /** Every unacknowledged update, oldest first per task, tasks in the order they first reported. */
    public List<StatusUpdate> pending() {
        List<StatusUpdate> out = new ArrayList<>();
        for (UpdateStream stream : streams.values()) {
            out.addAll(stream.pending);
        }
        return out;
    }

    /** The task's unacknowledged updates, oldest first. */
    public List<StatusUpdate> pending(TaskKey key) {
        UpdateStream stream = streams.get(key);
        return stream == null ? List.of() : List.copyOf(stream.pending);
    }

    /** The task's update in flight (the head of its stream), if any. */
    public Optional<StatusUpdate> inFlight(TaskKey key) {
        UpdateStream stream = streams.get(key);
        return stream == null ? Optional.empty() : Optional.ofNullable(stream.pending.peek());
    }

    /** True while the task has a stream: updates not yet acknowledged, or a terminal one not yet acknowledged. */
    public boolean hasStream(TaskKey key) {
        return streams.containsKey(key);
    }

    /**
     * Forgets every stream of a framework (the master removed it: nobody will acknowledge them).
     *
     * @return how many unacknowledged updates were dropped
     */
    public int dropFramework(FrameworkId framework) {
        int dropped = 0;
        for (Iterator<UpdateStream> it = streams.values().iterator(); it.hasNext(); ) {
            UpdateStream stream = it.next();
            if (stream.key.framework().equals(framework)) {
                dropped += stream.pending.size();
                loop.cancel(retryTag(stream.key));
                it.remove();
            }
        }
        return dropped;
    }

    /** Forgets everything (the agent stops). */
    public void clear() {
        pause();
        streams.clear();
    }

    /** The uuid bytes as the usual dashed text, for log lines. */
    public static String uuidText(ByteString uuid) {
        if (uuid.size() != 16) {
            return uuid.isEmpty() ? "<none>" : "<" + uuid.size() + " bytes>";
        }
        ByteBuffer b = uuid.asReadOnlyByteBuffer();
        return new UUID(b.getLong(), b.getLong()).toString();
    }

    private StatusUpdate stamp(FrameworkId framework, TaskStatus status) {
        UUID uuid = UUID.randomUUID();
        ByteBuffer bytes = ByteBuffer.allocate(16);
        bytes.putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits());
        return StatusUpdate.newBuilder()
                .setFrameworkId(framework.toProto())
                .setStatus(status.toBuilder()
                        .setUuid(ByteString.copyFrom(bytes.array()))
                        .setTimestamp(clock.seconds()))
                .build();
    }

    private void sendHead(UpdateStream stream) {
        StatusUpdate head = stream.pending.peek();
        ByteString uuid = head.getStatus().getUuid();
        LOG.debug(
                "Sending status update {} {} for task {} (attempt {})",
                head.getStatus().getState(),
                uuidText(uuid),
                stream.key,
                stream.backoff.attempts() + 1);
        TaskKey key = stream.key;
        // The timer first: whoever sees the update go out may rely on its retry being armed already.
        loop.schedule(retryTag(key), stream.backoff.next(), () -> retry(key, uuid));
        sender.accept(head);
    }

    private void retry(TaskKey key, ByteString uuid) {
        UpdateStream stream = streams.get(key);
        StatusUpdate head = stream == null ? null : stream.pending.peek();
        // A timer that lost a race with an ack or a pause finds another head, or none: nothing to do.
        if (!resumed || head == null || !head.getStatus().getUuid().equals(uuid)) {
            return;
        }
        sendHead(stream);
    }

    private static String retryTag(TaskKey key) {
        return "status-retry/" + key.framework() + "/" + key.task();
    }

    /** One task's queue. Loop thread only. */
    private static final class UpdateStream {
        final TaskKey key;
        final Backoff backoff;
        final ArrayDeque<StatusUpdate> pending = new ArrayDeque<>();
        boolean terminated;

        UpdateStream(TaskKey key, Backoff backoff) {
            this.key = key;
            this.backoff = backoff;
        }
    }
}
