package io.mezzo.scheduler;

import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.MaintenanceWindow;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.TaskStatus;
import java.util.List;

/**
 * The callbacks a framework implements: what the master tells it.
 *
 * <p><b>Threading.</b> The client calls every method on its one event-loop thread, named {@code
 * scheduler-client}, one at a time and in the order the master sent the events. A scheduler whose
 * state is only touched from these callbacks therefore needs no locks. Callbacks should return
 * promptly: while one runs, no other event is handled (and the master stops sending once a few
 * events wait). Calls on the {@link SchedulerDriver} may be made from inside a callback.
 *
 * <p><b>Exceptions.</b> A callback that throws is reported to the client's fault handler (by
 * default logged at ERROR) and the client goes on with the next event. An {@link #update} that
 * throws is not acknowledged, so the agent sends it again later.
 *
 * <p>Only {@link #offers} and {@link #update} must be implemented; the other methods do nothing by
 * default.
 */
public interface Scheduler {

    /**
     * The framework is subscribed: on the first subscription and again after every
     * resubscription (after a disconnection or a change of leading master). Calls on the driver
     * are sent from now on.
     *
     * <p>After a resubscription, offers made before the disconnection are void, and status updates
     * may have been missed. Unless built with {@code reconcileLaunchedTasks(false)}, the client has
     * already asked the master, by explicit reconciliation, about every task it launched and has
     * not seen end; the answers follow as {@link #update} calls. Reconcile here whatever else your
     * own records hold (see {@link SchedulerDriver#reconcile}).
     *
     * @param driver the client
     * @param frameworkId the id the master assigned (the same one on every resubscription)
     * @param master the master that answered
     */
    default void subscribed(SchedulerDriver driver, FrameworkID frameworkId, MasterInfo master) {}

    /**
     * New offers. Each offer must be used ({@link SchedulerDriver#accept}, {@link
     * SchedulerDriver#launch}) or declined ({@link SchedulerDriver#decline}); an offer left alone
     * keeps its resources away from every other framework until it is rescinded.
     */
    void offers(SchedulerDriver driver, List<Offer> offers);

    /** An offer is no longer valid (its agent went away, or the master took it back). */
    default void rescinded(SchedulerDriver driver, OfferID offerId) {}

    /**
     * A task changed state. When the client was built with {@code autoAcknowledge(true)} (the
     * default) it acknowledges the update after this method returns normally; otherwise the
     * scheduler calls {@link SchedulerDriver#acknowledge} itself once it has acted on the update
     * (updates with an empty {@code uuid} come from the master and need no acknowledgement).
     */
    void update(SchedulerDriver driver, TaskStatus status);

    /** Opaque data sent by an executor. */
    default void message(SchedulerDriver driver, AgentID agentId, ExecutorID executorId, byte[] data) {}

    /**
     * An agent, or an executor on it, failed.
     *
     * @param executorId the executor that exited, or {@code null} when the whole agent failed
     * @param status the executor's exit status, or {@code null} when not known
     */
    default void failure(SchedulerDriver driver, AgentID agentId, ExecutorID executorId, Integer status) {}

    /**
     * The master sent an ERROR. When {@link SchedulerError#fatal()} is true the framework was
     * removed, another scheduler took it over, or its subscription was refused: the client has
     * already stopped for good, sends nothing more and calls no other callback. Otherwise one call
     * was refused and the stream stays open.
     */
    default void error(SchedulerDriver driver, SchedulerError error) {}

    /**
     * The stream to the master was lost (closed by the master, failed, silent for too many
     * heartbeat intervals, or the leading master changed). The client resubscribes on its own and
     * calls {@link #subscribed} when it has; until then calls on the driver return {@code false}.
     * Outstanding offers are void. Called once per lost subscription.
     */
    default void disconnected(SchedulerDriver driver) {}

    /**
     * The master's pending maintenance schedule (Event.MAINTENANCE): each window's agents start
     * draining at its start time (seconds since the epoch), and their tasks are then killed with
     * reason {@code REASON_AGENT_DRAINING}. Sent when the schedule changes and after subscribing
     * while windows are pending; an empty list means none is pending any more. A service
     * scheduler moves its instances off those agents before the window starts.
     */
    default void maintenance(SchedulerDriver driver, List<MaintenanceWindow> windows) {}
}
