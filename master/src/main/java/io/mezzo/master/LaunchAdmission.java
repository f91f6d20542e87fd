package io.mezzo.master;

import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Admission control of launches: a budget of launches in flight (tasks sent to their agent with
 * RUN_TASK whose agent has not yet sent a first update), and the pacing of offers that keeps the
 * master under it. Without it a scheduler that launches everything it is offered turns one
 * allocation cycle of a large cluster into tens of thousands of RUN_TASKs, then as many status
 * updates and acknowledgements: the loop's queue grows to tens of thousands of events (seconds of
 * latency for everything, heartbeats and pings included) and the outbound queues drop schedulers.
 *
 * <pre>
 *   ACCEPT -> TaskLifecycle.launch -> launched(task)         in flight + 1
 *   first agent update (STAGING -> anything) -> settled(task) in flight - 1; under the low mark and
 *                                                             a pass was held back: allocate again
 *   OfferManager.allocate: room = budget - in flight
 *       room <= 0           -> no pass (held back)
 *       else                -> at most ceil(room / launchesPerOffer) offers: the allocator
 *                              stops visiting agents there (the next pass is a full cycle)
 *   ACCEPT -> accepted(offers, launches): launchesPerOffer, a moving average
 * </pre>
 *
 * <p>Nothing is refused or dropped: an ACCEPT within an outstanding offer always launches; only new
 * offers wait. Invariants kept here:
 *
 * <ol>
 *   <li>A task counts as in flight only while it is the task record its agent holds and is
 *       TASK_STAGING: every other way out of STAGING (agent unreachable or gone, framework removed,
 *       a re-registration that replaced the record, a new leader) is pruned lazily, from the oldest
 *       launch on every pass and in full on the periodic pass, so the count never drifts upward for
 *       good (a stuck count would stop all offers).
 *   <li>With a budget of 0 (off) every pass runs in full, as before.
 * </ol>
 *
 * <p>State: all soft (a new leader starts with nothing in flight). Owner: {@link OfferManager}.
 * Thread: the master's event loop only.
 */
final class LaunchAdmission {

    /** The first estimate of tasks per accepted offer, before any ACCEPT was seen. */
    static final double INITIAL_LAUNCHES_PER_OFFER = 16;

    private final int budget;
    private final AgentLookup agents;
    /** Launches in flight, oldest first (identity: TaskRecord keeps Object's equals). */
    private final Set<TaskRecord> inFlight = new LinkedHashSet<>();
    private double launchesPerOffer = INITIAL_LAUNCHES_PER_OFFER;
    private boolean heldBack;

    LaunchAdmission(int budget, AgentLookup agents) {
        this.budget = budget;
        this.agents = agents;
    }

    boolean enabled() {
        return budget > 0;
    }

    /** A task was sent to its agent. */
    void launched(TaskRecord task) {
        if (enabled()) {
            inFlight.add(task);
        }
    }

    /**
     * The task's agent sent an update: it is no longer in flight. True when a pass was held back
     * and the count is now under half the budget: the caller asks for an allocation.
     */
    boolean settled(TaskRecord task) {
        if (!enabled() || !inFlight.remove(task)) {
            return false;
        }
        if (heldBack && inFlight.size() <= budget / 2) {
            heldBack = false;
            return true;
        }
        return false;
    }

    /** An ACCEPT used {@code offers} offers to launch {@code launches} tasks. */
    void accepted(int offers, int launches) {
        if (offers > 0) {
            launchesPerOffer = 0.8 * launchesPerOffer + 0.2 * Math.max(1.0, launches / (double) offers);
        }
    }

    /**
     * How many offers the next pass may make: {@link Integer#MAX_VALUE} when off; 0 when the
     * budget is spent (the pass is held back until launches settle).
     *
     * @param full whether to prune every stale entry (periodic pass) or only the oldest ones
     */
    int offerLimit(boolean full) {
        if (!enabled()) {
            return Integer.MAX_VALUE;
        }
        prune(full);
        int room = budget - inFlight.size();
        if (room <= 0) {
            heldBack = true;
            return 0;
        }
        return (int) Math.max(1, Math.ceil(room / launchesPerOffer));
    }

    /** Launches in flight now (after the last prune). */
    int inFlight() {
        return inFlight.size();
    }

    /** Launches in flight, every stale entry pruned first. */
    int inFlightNow() {
        prune(true);
        return inFlight.size();
    }

    /** Tasks per accepted offer, as estimated now. */
    double launchesPerOffer() {
        return launchesPerOffer;
    }

    /** Invariant 1: drops tasks that left STAGING without an update from their agent. */
    private void prune(boolean full) {
        Iterator<TaskRecord> it = inFlight.iterator();
        while (it.hasNext()) {
            TaskRecord task = it.next();
            if (stale(task)) {
                it.remove();
            } else if (!full) {
                return;
            }
        }
    }

    private boolean stale(TaskRecord task) {
        if (task.state != io.mezzo.proto.v1.TaskState.TASK_STAGING) {
            return true;
        }
        AgentRecord agent = agents.get(task.agent);
        return agent == null || agent.task(task.framework, task.id) != task;
    }
}
