package io.mezzo.scheduler;

import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.KillPolicy;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskStatus;
import java.util.List;
import java.util.Optional;

/**
 * What a scheduler can ask of the master, and the client's lifecycle. {@link MezzoSchedulerClient}
 * is the implementation; build one with {@link MezzoSchedulerClient#builder}.
 *
 * <p><b>Threading.</b> Every method may be called from any thread, including from inside a {@link
 * Scheduler} callback; none of them blocks on the network.
 *
 * <p><b>Calls while not subscribed.</b> A call is sent only while the framework is subscribed
 * (after {@link Scheduler#subscribed} and before {@link Scheduler#disconnected}, or a fatal {@link
 * Scheduler#error}). A call made at any other time (before {@link #start}, while reconnecting,
 * after a fatal error, after {@link #teardown} or {@link #close}) is <em>not</em> queued for later:
 * the method logs one WARN line and returns {@code false}. Three kinds of call need no undoing
 * by the caller:
 *
 * <ul>
 *   <li><b>Launches</b> ({@link #launch}, or {@link #accept} with LAUNCH operations) that were not
 *       sent are answered like launches the master refused for void offers: each task gets a
 *       {@link Scheduler#update} with TASK_DROPPED (TASK_LOST without PARTITION_AWARE), reason
 *       {@code REASON_INVALID_OFFERS}, source {@code SOURCE_MASTER} and an empty uuid, as a later
 *       event (never inside the callback that launched). Offers never outlive a subscription, so
 *       a queued launch could never become valid: the task goes back through the same path as any
 *       other failed launch (retry it on a new offer). Nothing is delivered after the client
 *       stopped ({@link #teardown}, {@link #close}, a fatal error).
 *   <li><b>{@link #suppress} and {@link #revive}</b> are remembered whether sent or not: after
 *       every subscription the client sends SUPPRESS again for the roles still suppressed (every
 *       master starts a subscription unsuppressed, and a new leader never saw the first one).
 *   <li><b>Declines</b> of offers of a lost subscription need nothing: those offers are void.
 * </ul>
 *
 * Any other call that must happen after a reconnection belongs in {@link Scheduler#subscribed}.
 *
 * <p><b>Return values.</b> {@code true} means the call was queued on the stream to the master, not
 * that the master accepted it: the master answers a refused call with an ERROR event ({@link
 * Scheduler#error}) or, for launches on bad offers, with TASK_ERROR / TASK_DROPPED updates.
 *
 * <p>Arguments named as lists must not be null; those documented as nullable may be.
 */
public interface SchedulerDriver extends AutoCloseable {

    /**
     * Starts the client: it finds the leading master, opens the stream and subscribes. Callbacks
     * start with {@link Scheduler#subscribed}.
     *
     * @throws IllegalStateException when already started or closed
     */
    void start();

    /**
     * Uses offers: applies {@code operations} in order (LAUNCH, RESERVE, UNRESERVE). All offers
     * must be outstanding and on one agent. Offered resources that no operation uses go back to the
     * pool and are not offered to this framework again for {@code filters.refuse_seconds}.
     *
     * @param filters refusal filter for the unused resources; {@code null} for the master's default
     *     (5 seconds)
     */
    boolean accept(List<OfferID> offerIds, List<Offer.Operation> operations, Filters filters);

    /** Launches {@code tasks} on one offer: an ACCEPT with one LAUNCH operation. */
    boolean launch(OfferID offerId, List<TaskInfo> tasks);

    /**
     * Launches {@code tasks} on {@code offer}, completing them: each task without an {@code
     * agent_id} gets the offer's, and each resource without {@code allocation_info} gets the role
     * the offer was made under (see {@link OfferPacker}, which also packs tasks one by one and
     * says what is left). What the tasks do not use goes back to the pool (with the master's default
     * filter, 5 s).
     *
     * <pre>{@code
     * driver.launch(offer, TaskInfo.newBuilder()
     *         .setName("hello").setTaskId(Ids.task("hello-1"))
     *         .addAllResources(ResourceText.parse("cpus:0.1;mem:32").toProto())
     *         .setCommand(CommandInfo.newBuilder().setShell("echo hello"))
     *         .build());
     * }</pre>
     *
     * @return whether the ACCEPT was sent (when not, the tasks are answered with TASK_DROPPED or
     *     TASK_LOST updates: see "Calls while not subscribed" above)
     * @throws IllegalArgumentException when the tasks together need more than the offer has (the
     *     message says what is missing; nothing is sent), or a task names another agent
     */
    default boolean launch(Offer offer, TaskInfo... tasks) {
        OfferPacker packer = OfferPacker.of(offer);
        for (TaskInfo task : tasks) {
            if (!packer.add(task)) {
                throw new IllegalArgumentException("task " + task.getTaskId().getValue() + " needs "
                        + Resources.fromProto(task.getResourcesList())
                        + " but offer " + offer.getId().getValue() + " has only " + packer.remaining()
                        + " left after " + packer.tasks().size() + " tasks");
            }
        }
        return launch(offer.getId(), packer.tasks());
    }

    /** Launches {@code tasks} on offers of one agent: an ACCEPT with one LAUNCH operation. */
    boolean launch(List<OfferID> offerIds, List<TaskInfo> tasks);

    /**
     * Refuses offers. Their resources are not offered to this framework again for {@code
     * filters.refuse_seconds}.
     *
     * @param filters {@code null} for the master's default (5 seconds)
     */
    boolean decline(List<OfferID> offerIds, Filters filters);

    /**
     * Clears refusal filters and resumes offers for {@code roles}; no roles means all roles. The
     * client remembers it (see {@link #suppress}).
     *
     * @return whether the call was sent now; either way, the roles are no longer suppressed again
     *     after the next subscriptions
     */
    boolean revive(String... roles);

    /**
     * Stops offers for {@code roles} until {@link #revive}; no roles means all of the framework's
     * roles. The client remembers which of the framework's roles are suppressed and sends SUPPRESS
     * again after every subscription, before {@link Scheduler#subscribed}: a master starts every
     * subscription unsuppressed.
     *
     * @return whether the call was sent now; either way, it is sent after the next subscriptions
     */
    boolean suppress(String... roles);

    /**
     * Kills a task. The outcome arrives as a status update (TASK_KILLED, or TASK_UNKNOWN /
     * TASK_LOST when the master does not know the task).
     *
     * @param agentId the agent the task runs on, or {@code null} when not known
     * @param killPolicy overrides the task's kill policy for this kill, or {@code null}
     */
    boolean kill(TaskID taskId, AgentID agentId, KillPolicy killPolicy);

    /**
     * Acknowledges a status update (its agent id, task id and uuid), so that the agent stops
     * resending it. Needed only with {@code autoAcknowledge(false)}. An update with an empty uuid
     * needs no acknowledgement: nothing is sent and the method returns {@code true}.
     */
    boolean acknowledge(TaskStatus status);

    /**
     * Asks for the latest state of tasks. With an empty list (implicit reconciliation) the master
     * sends an update for every task of the framework it knows, and nothing about a task it does not
     * know. With tasks (explicit reconciliation) it sends one update per task once it is sure of the
     * answer: TASK_UNKNOWN (TASK_LOST without PARTITION_AWARE) for a task that does not exist,
     * TASK_GONE or TASK_UNREACHABLE after its agent. The client already does explicit
     * reconciliation of the tasks it launched after every subscription, unless built with {@code
     * reconcileLaunchedTasks(false)}.
     */
    boolean reconcile(List<Call.Reconcile.Task> tasks);

    /** Sends opaque data to an executor (for command tasks: the executor id is the task id). */
    boolean message(AgentID agentId, ExecutorID executorId, byte[] data);

    /**
     * Removes the framework: the master kills all its tasks and forgets it. The client then stops
     * for good (no reconnection, no more callbacks); {@link #close} it afterwards.
     */
    boolean teardown();

    /**
     * The framework id: the one in the {@code FrameworkInfo} given to the builder, or the one the
     * master assigned once subscribed. Empty before the first subscription of a new framework.
     */
    Optional<FrameworkID> frameworkId();

    /** True while subscribed, that is while calls are sent. */
    boolean isSubscribed();

    /**
     * Stops the client: half-closes the stream (the master then counts the framework as
     * disconnected and keeps its tasks for {@code failover_timeout}), shuts the channel down and
     * stops the client thread. Waits a bounded time (a few seconds at most). Idempotent; may be
     * called from a callback. No callback runs after it returns.
     */
    @Override
    void close();
}
