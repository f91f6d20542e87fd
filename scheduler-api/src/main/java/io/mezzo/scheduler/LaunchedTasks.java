package io.mezzo.scheduler;

import io.mezzo.common.task.TaskStates;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The tasks this client launched and has not yet seen end: what the client reconciles explicitly
 * after every (re)subscription, so that a launch the master never acted on (an ACCEPT that reached a
 * leader which died before applying it) comes back as an answer instead of silence.
 *
 * <pre>
 *  driver.accept / launch ──► launched(ops)   ──► task id → agent id   (kept while not terminal)
 *  UPDATE (agent, master,  ──► update(status) ──► forgets the task on a terminal state or TASK_UNKNOWN
 *    reconciliation answer)
 *  SUBSCRIBED              ──► startRound()   ──► nextBatch(): RECONCILE of at most {@link #BATCH} tasks
 *  answers to that batch   ──► update(status) ──► batchAnswered() ──► nextBatch() ... until the round is over
 * </pre>
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>A task is tracked from the moment its LAUNCH is handed to the stream until an update for it
 *       says it is terminal ({@link TaskStates#isTerminal}) or TASK_UNKNOWN, whatever the source
 *       (agent, master, reconciliation answer). TASK_UNKNOWN ends it because the master answers it
 *       only when it is sure the task does not exist; TASK_UNREACHABLE does not (the task may come
 *       back with its agent).
 *   <li>Memory is bounded by the framework's live tasks: one entry (two strings) per launched,
 *       non-terminal task; ended tasks are dropped at once, so a framework that launches millions
 *       over its life keeps only those still running.
 *   <li>A round (one per subscription) covers the tasks tracked when it started, in launch order,
 *       in batches of at most {@link #BATCH}; the next batch goes once every task of the previous
 *       one has had an update, so at most about one batch of answers waits on the master's bounded
 *       stream to the client (its slow-subscriber limit is 10,000 events by default). The owner
 *       sends the next batch anyway after a delay, in case the master withholds an answer.
 * </ol>
 *
 * <p><b>Thread:</b> the client's loop ({@code scheduler-client}) only. <b>Owner:</b> {@link
 * Subscription}. Soft state: lost with the client (a restarted scheduler process starts empty, and
 * reconciles what its own records say).
 */
final class LaunchedTasks {

    /**
     * Tasks per RECONCILE call: with task and agent ids of at most 255 characters a call stays far
     * below gRPC's 4 MB message limit, and the master answers one update per task.
     */
    static final int BATCH = 1000;

    private final int batchSize;
    // Task id -> agent id ("" when the launch named none); insertion order = launch order.
    private final Map<String, String> tasks = new LinkedHashMap<>();
    // The round of the current subscription: task ids not yet sent, or null when there is none.
    private ArrayDeque<String> round;
    // Task ids of the last batch sent that have had no update since.
    private final Set<String> awaiting = new HashSet<>();

    /** Tracks tasks and reconciles them in RECONCILE calls of {@link #BATCH} tasks. */
    LaunchedTasks() {
        this(BATCH);
    }

    /** Tracks tasks and reconciles them in RECONCILE calls of at most {@code batchSize} tasks. */
    LaunchedTasks(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        this.batchSize = batchSize;
    }

    /** Starts tracking the tasks launched by the LAUNCH operations among {@code operations}. */
    void launched(List<Offer.Operation> operations) {
        for (Offer.Operation op : operations) {
            if (op.getType() != Offer.Operation.Type.LAUNCH) {
                continue;
            }
            for (TaskInfo task : op.getLaunch().getTaskInfosList()) {
                String id = task.getTaskId().getValue();
                if (!id.isEmpty()) {
                    tasks.put(id, task.getAgentId().getValue());
                }
            }
        }
    }

    /**
     * Stops tracking the tasks of {@code operations}: their ACCEPT was not sent after all. A task id
     * launched again while still tracked is forgotten too; task ids are unique among live tasks.
     */
    void notSent(List<Offer.Operation> operations) {
        for (Offer.Operation op : operations) {
            if (op.getType() == Offer.Operation.Type.LAUNCH) {
                op.getLaunch().getTaskInfosList().forEach(t -> tasks.remove(t.getTaskId().getValue()));
            }
        }
    }

    /**
     * Takes note of an update: a terminal state or TASK_UNKNOWN ends the tracking; any other state
     * records the agent the update names. Returns true when the update ended a tracked task.
     */
    boolean update(TaskStatus status) {
        String id = status.getTaskId().getValue();
        awaiting.remove(id);
        if (!tasks.containsKey(id)) {
            return false;
        }
        TaskState state = status.getState();
        if (TaskStates.isTerminal(state) || state == TaskState.TASK_UNKNOWN) {
            tasks.remove(id);
            return true;
        }
        String agent = status.getAgentId().getValue();
        if (!agent.isEmpty()) {
            tasks.put(id, agent);
        }
        return false;
    }

    /** Tasks tracked now. */
    int size() {
        return tasks.size();
    }

    /** Whether {@code taskId} is tracked. */
    boolean contains(String taskId) {
        return tasks.containsKey(taskId);
    }

    // -----------------------------------------------------------------------------------------
    // Reconciliation rounds: one per subscription, paced by the master's answers.
    // -----------------------------------------------------------------------------------------

    /**
     * Starts a round over every task tracked now (a new subscription); a round in progress is
     * dropped. Returns how many tasks the round covers.
     */
    int startRound() {
        round = new ArrayDeque<>(tasks.keySet());
        awaiting.clear();
        return round.size();
    }

    /** Drops the round in progress (the subscription ended). */
    void endRound() {
        round = null;
        awaiting.clear();
    }

    /**
     * The next RECONCILE list of the round: at most {@code batchSize} tasks still tracked, in launch
     * order, with their agent ids; empty when the round is over (which ends it). The tasks of the
     * list are then awaited: see {@link #batchAnswered()}.
     */
    List<Call.Reconcile.Task> nextBatch() {
        awaiting.clear();
        List<Call.Reconcile.Task> batch = new ArrayList<>();
        while (round != null && !round.isEmpty() && batch.size() < batchSize) {
            String id = round.poll();
            String agent = tasks.get(id);
            if (agent == null) {
                continue; // ended since the round started
            }
            Call.Reconcile.Task.Builder task =
                    Call.Reconcile.Task.newBuilder().setTaskId(TaskID.newBuilder().setValue(id));
            if (!agent.isEmpty()) {
                task.setAgentId(AgentID.newBuilder().setValue(agent));
            }
            batch.add(task.build());
            awaiting.add(id);
        }
        if (batch.isEmpty()) {
            round = null;
        }
        return batch;
    }

    /**
     * True when every task of the last batch has had an update since it was sent and the round has
     * more to send: the moment to send the next batch, so that the master's answers never pile up
     * beyond one batch on the stream.
     */
    boolean batchAnswered() {
        return awaiting.isEmpty() && round != null && !round.isEmpty();
    }

    /** Whether a round has tasks left to send. */
    boolean roundInProgress() {
        return round != null && !round.isEmpty();
    }
}
