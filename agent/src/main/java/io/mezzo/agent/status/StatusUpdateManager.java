package io.mezzo.agent.status;

import com.google.protobuf.ByteString;
import io.mezzo.common.clock.Clock;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.retry.Backoff;
import io.mezzo.common.task.TaskStates;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskCheckpoint;
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
import org.slf4j.MDC;

/**
 * Delivers task status updates to the master reliably, as the Mesos agent's task status update manager
 * does: each task has a stream of updates; only the head of a stream is in flight; it is resent with
 * exponential backoff until the master relays the framework's acknowledgement (STATUS_UPDATE_ACK with
 * the head's uuid); then the next update of that task goes out.
 *
 * <pre>
 *   agent core: stamp -> task's state set -> add(update, record) -> checkpoint (record + stream) -> send head
 *   master link: STATUS_UPDATE_ACK -> acknowledge -> checkpoint the rest of the stream -> send the next
 *                                                  \-> terminal update acknowledged -> Listener (forget the task)
 * </pre>
 *
 * <p>Acknowledgements come straight from the master link; the agent's core hears only of the terminal
 * ones, so an update crosses the agent without turning back.
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
 *   <li>For a task whose framework checkpoints (its stream carries the task's record), every change of
 *       the stream is written with the record to the task's {@code task.info} before anything is sent:
 *       an added update before it can go out, an acknowledgement before the next goes out.
 *   <li>Only a terminal acknowledgement is passed on ({@link Listener#terminalAcknowledged}); every
 *       other acknowledgement ends here.
 * </ol>
 *
 * <p>Hard state for checkpointing tasks: the streams, in {@code meta/frameworks/<f>/tasks/<t>/task.info}
 * ({@link #restore} rebuilds them after an agent restart); soft otherwise (the backoffs, the timers).
 *
 * <p>Thread: the agent's event loop only (its timers are loop timers on the loop's clock). Owner: the
 * agent's core, which feeds it updates and pauses/resumes it with the master link; the master link hands
 * it acknowledgements. Public only so that the agent's other packages can use it.
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
     * Writes a checkpointing task's {@code task.info}: {@code record} is the task's record as its core
     * last gave it, with the stream's unacknowledged updates (oldest first). Called on the loop, before
     * anything of the stream is sent.
     */
    @FunctionalInterface
    public interface StreamCheckpoint {
        /** Writes {@code record} for {@code key}; a failure is the writer's to report. */
        void write(TaskKey key, TaskCheckpoint record);
    }

    /** What the agent's core hears from the manager. Called on the loop. */
    @FunctionalInterface
    public interface Listener {
        /** The task's terminal update was acknowledged: its stream is gone and the task may be forgotten. */
        void terminalAcknowledged(TaskKey key);
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
    /** Unacknowledged updates, as of the last send or acknowledgement (metrics; any thread reads). */
    private volatile int pendingCount;
    /** Updates resent because no acknowledgement came (metrics; any thread reads). */
    private final java.util.concurrent.atomic.LongAdder resent = new java.util.concurrent.atomic.LongAdder();
    private boolean resumed;
    private StreamCheckpoint checkpoint = (key, record) -> {};
    private Listener listener = key -> {};

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

    /** Sets who writes the streams of checkpointing tasks (the agent's checkpointer). Before any update. */
    public void streamCheckpoint(StreamCheckpoint checkpoint) {
        this.checkpoint = checkpoint;
    }

    /** Sets who hears of terminal acknowledgements (the agent's core). Before any update. */
    public void listener(Listener listener) {
        this.listener = listener;
    }

    /**
     * Restores a task's stream from its checkpointed record (an agent restart): the updates keep their
     * uuids and timestamps, and go out once the manager is resumed; later changes of the stream are
     * written with the record.
     */
    public void restore(TaskKey key, TaskCheckpoint record) {
        List<StatusUpdate> pending = record.getPendingUpdatesList();
        if (pending.isEmpty()) {
            return;
        }
        UpdateStream stream = new UpdateStream(key, new Backoff(retryInitial, retryMax, random));
        stream.pending.addAll(pending);
        stream.terminated = TaskStates.isTerminal(pending.get(pending.size() - 1).getStatus().getState());
        stream.record = record.toBuilder().clearPendingUpdates().build();
        streams.put(key, stream);
    }

    /**
     * Stamps {@code status} with a fresh uuid and the current time: the update as it will be sent. Nothing
     * is queued; pass it to {@link #add(StatusUpdate, TaskCheckpoint)} or {@link #sendOnce(StatusUpdate)}.
     */
    public StatusUpdate stamp(FrameworkId framework, TaskStatus status) {
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

    /**
     * Stamps {@code status}, queues it behind the task's earlier updates and sends it at once if it is the
     * head and the manager is resumed. For tasks the agent does not checkpoint (an invalid or unknown task).
     *
     * @return the update as queued (with uuid and timestamp)
     * @throws IllegalStateException if the task's stream already holds a terminal update
     */
    public StatusUpdate add(FrameworkId framework, TaskStatus status) {
        StatusUpdate update = stamp(framework, status);
        add(update, null);
        return update;
    }

    /**
     * Queues a {@link #stamp stamped} update behind the task's earlier updates, writes the stream with
     * {@code record} when the task is checkpointed (invariant 5), and sends it at once if it is the head
     * and the manager is resumed.
     *
     * @param record the task's record (its task with the state this update reports, its kill request;
     *     no updates), or null when its framework does not checkpoint
     * @throws IllegalStateException if the task's stream already holds a terminal update
     */
    public void add(StatusUpdate update, TaskCheckpoint record) {
        TaskKey key = new TaskKey(FrameworkId.of(update.getFrameworkId()), TaskId.of(update.getStatus().getTaskId()));
        UpdateStream stream = streams.get(key);
        if (stream != null && stream.terminated) {
            throw new IllegalStateException(
                    "status update " + update.getStatus().getState() + " for task " + key + " after its terminal update");
        }
        if (stream == null) {
            stream = new UpdateStream(key, new Backoff(retryInitial, retryMax, random));
            streams.put(key, stream);
        }
        stream.pending.add(update);
        stream.terminated = TaskStates.isTerminal(update.getStatus().getState());
        if (record != null) {
            stream.record = record;
        }
        write(stream);
        if (stream.pending.size() == 1 && resumed) {
            sendHead(stream);
        }
    }

    /**
     * The task's record changed without an update (a kill was requested): writes it with the task's
     * unacknowledged updates, and keeps it for the stream's later writes.
     */
    public void checkpoint(TaskKey key, TaskCheckpoint record) {
        UpdateStream stream = streams.get(key);
        if (stream == null) {
            checkpoint.write(key, record.toBuilder().clearPendingUpdates().build());
            return;
        }
        stream.record = record;
        write(stream);
    }

    /**
     * Stamps {@code status} and sends it once, without keeping or retrying it: for tasks of a framework
     * the master has forgotten, whose updates nobody would acknowledge. Dropped while paused.
     */
    public StatusUpdate sendOnce(FrameworkId framework, TaskStatus status) {
        StatusUpdate update = stamp(framework, status);
        sendOnce(update);
        return update;
    }

    /** Sends a {@link #stamp stamped} update once, without keeping or retrying it. Dropped while paused. */
    public void sendOnce(StatusUpdate update) {
        if (resumed) {
            sender.accept(update);
        }
    }

    /**
     * Handles the master's STATUS_UPDATE_ACK, straight from the master link: releases the head of the
     * task's stream (see {@link #acknowledge(TaskKey, ByteString)}).
     */
    public void acknowledge(MasterMessage.StatusUpdateAck ack) {
        String frameworkValue = ack.getFrameworkId().getValue();
        String taskValue = ack.getTaskId().getValue();
        if (!frameworkValue.isEmpty()) {
            MDC.put("framework", frameworkValue);
        }
        if (!taskValue.isEmpty()) {
            MDC.put("task", taskValue);
        }
        if (frameworkValue.isEmpty() || taskValue.isEmpty()) {
            LOG.warn("Ignored STATUS_UPDATE_ACK without a framework or task id");
            return;
        }
        acknowledge(new TaskKey(FrameworkId.of(frameworkValue), TaskId.of(taskValue)), ack.getUuid());
    }

    /**
     * Handles an acknowledgement of {@code uuid} for the task's stream. Only an acknowledgement of the
     * head counts; any other is logged at DEBUG and ignored. The rest of the stream is checkpointed before
     * the next update goes out (invariant 5); a terminal acknowledgement ends the stream and is passed on
     * to the {@link Listener} (invariant 6).
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
        countPending();
        LOG.debug(
                "Status update {} {} for task {} acknowledged",
                head.getStatus().getState(),
                uuidText(uuid),
                key);
        if (TaskStates.isTerminal(head.getStatus().getState())) {
            // Invariant 4: nothing can follow a terminal update, so the stream is done.
            streams.remove(key);
            listener.terminalAcknowledged(key);
            return AckResult.TERMINAL_ACKNOWLEDGED;
        }
        write(stream);
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

    /** Writes a checkpointing task's record with its stream (invariant 5); nothing for other tasks. */
    private void write(UpdateStream stream) {
        if (stream.record != null) {
            checkpoint.write(stream.key, stream.record.toBuilder()
                    .clearPendingUpdates()
                    .addAllPendingUpdates(stream.pending)
                    .build());
        }
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
        countPending();
    }

    /** Unacknowledged updates as of the last send or acknowledgement. Any thread. */
    public int pendingCount() {
        return pendingCount;
    }

    /** Updates resent so far for want of an acknowledgement. Any thread. */
    public long resentCount() {
        return resent.sum();
    }

    private void countPending() {
        int n = 0;
        for (UpdateStream s : streams.values()) {
            n += s.pending.size();
        }
        pendingCount = n;
    }

    private void retry(TaskKey key, ByteString uuid) {
        UpdateStream stream = streams.get(key);
        StatusUpdate head = stream == null ? null : stream.pending.peek();
        // A timer that lost a race with an ack or a pause finds another head, or none: nothing to do.
        if (!resumed || head == null || !head.getStatus().getUuid().equals(uuid)) {
            return;
        }
        resent.increment();
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
        /** The task's record, written with the stream; null when its framework does not checkpoint. */
        TaskCheckpoint record;

        UpdateStream(TaskKey key, Backoff backoff) {
            this.key = key;
            this.backoff = backoff;
        }
    }
}
