package io.mezzo.master;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.ReservationInfo;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The master's view of one agent. Owned by the {@link AgentManager} (which alone changes its
 * lifecycle; {@link AgentReregistration} rebuilds it, {@link TaskLifecycle} and {@link OfferManager}
 * keep {@code used}, {@code tasks} and {@code offered}); touched only on the master's event loop.
 *
 * <p>Hard state (in {@code registry/agents/<id>}, read back by a new leader): {@code id}, {@code
 * info} as admitted, {@code state} as far as RECOVERED, UNREACHABLE and GONE go, {@code
 * registeredAt} and {@code unreachableAt}. Soft state, rebuilt from the agent's REREGISTER after a
 * master failover: the current {@code info}, {@code total}, {@code dynamicReservations} (the agent
 * checkpoints them), {@code used}, {@code tasks}; and, made again by this master, {@code offered},
 * {@code connection} with {@code connectionChangedAt} and {@code lastHeardAt} (shown to operators),
 * and the ping counters.
 *
 * <p>Invariants:
 *
 * <ol>
 *   <li>{@code used + offered} is contained in {@code total}.
 *   <li>{@code used} is the sum of the resources of the non-terminal tasks in {@code tasks}.
 *   <li>{@code connection != null} only in state REGISTERED, DRAINING or DRAINED.
 * </ol>
 */
final class AgentRecord {

    /** Lifecycle of an agent in the master. */
    enum State {
        /** Known from the registry after a failover; not yet re-registered. */
        RECOVERED,
        /** Registered (possibly momentarily disconnected; pings decide). */
        REGISTERED,
        /** Registered, not offered; its tasks are being drained ({@code drain} is set). */
        DRAINING,
        /** Registered, not offered, no live task left; waits to be reactivated or marked gone. */
        DRAINED,
        /** Missed its pings; its tasks are unreachable. */
        UNREACHABLE,
        /** Removed for good; told to shut down if it returns. */
        GONE;

        Set<State> next() {
            return switch (this) {
                case RECOVERED -> EnumSet.of(REGISTERED, DRAINING, DRAINED, UNREACHABLE, GONE);
                case REGISTERED -> EnumSet.of(REGISTERED, DRAINING, UNREACHABLE, GONE);
                case DRAINING, DRAINED -> EnumSet.of(REGISTERED, DRAINING, DRAINED, UNREACHABLE, GONE);
                case UNREACHABLE -> EnumSet.of(REGISTERED, DRAINING, DRAINED, GONE);
                case GONE -> EnumSet.noneOf(State.class);
            };
        }

        /** Registered with this master: REGISTERED, DRAINING or DRAINED. */
        boolean registered() {
            return this == REGISTERED || this == DRAINING || this == DRAINED;
        }
    }

    final AgentId id;
    AgentInfo info;
    State state;
    /** Total resources, including dynamic reservations made through this master. */
    Resources total;
    /**
     * The agent's dynamic reservations: made by RESERVE/UNRESERVE, sent to the agent to checkpoint
     * (CHECKPOINT_RESOURCES) and reported back in its total when it re-registers; see {@code
     * AgentReregistration.reconcileReservations} for which side wins when they differ.
     */
    Resources dynamicReservations = Resources.EMPTY;
    /** Resources of non-terminal tasks. */
    Resources used = Resources.EMPTY;
    /** Resources in outstanding offers. */
    Resources offered = Resources.EMPTY;
    /** The open stream to the agent; null while disconnected. */
    AgentConnection connection;
    /** Tasks on the agent, by framework and task id, until their terminal update is acknowledged. */
    final Map<FrameworkId, Map<TaskId, TaskRecord>> tasks = new LinkedHashMap<>();

    long registeredAt;
    /**
     * The principal that registered the agent ("" when it was anonymous): only it may re-register
     * with this id. Hard state: {@code registry/agents/<id>} field {@code principal}.
     */
    String principal = "";
    long unreachableAt;
    /**
     * When {@code connection} last changed (clock millis): the stream registered, or the last one
     * closed; for an agent known only from the registry, this master's election. Soft.
     */
    long connectionChangedAt;
    /** When this master last received any message from the agent (clock millis); 0 if never. Soft. */
    long lastHeardAt;
    /** Sequence of the last PING sent; 0 before the first. */
    long pingSequence;
    /** Whether the last PING is still unanswered. */
    boolean awaitingPong;
    /** PINGs in a row that went unanswered (or could not be sent). */
    int missedPings;
    /** An UNREACHABLE record is being written; the agent is marked once it is durable. */
    boolean markingUnreachable;
    /**
     * A GONE record is being written (set when issued, never cleared): nothing writes the agent as
     * admitted or unreachable again ({@link AgentManager} invariant 4).
     */
    boolean markingGone;
    /**
     * The agent's drain (DrainAgent or a maintenance window), null when it is not draining. Hard
     * state: {@code registry/drains/<id>}, apart from the agent's own record so that a
     * re-admission never undoes it; a registered agent with a drain is DRAINING or DRAINED.
     */
    io.mezzo.proto.v1.DrainInfo drain;
    /** A DRAINED record (or the reactivation) is being written for this agent. Soft. */
    boolean drainWriting;

    AgentRecord(AgentId id, AgentInfo info, Resources total, State state) {
        this.id = id;
        this.info = info;
        this.total = total;
        this.state = state;
    }

    /** What may still be offered: total minus used minus offered. */
    Resources available() {
        return total.minus(used).minus(offered);
    }

    /** True when new offers may be made on this agent. */
    boolean offerable() {
        return state == State.REGISTERED && connection != null;
    }

    /** The state a registered agent is in: DRAINING or DRAINED while it has a drain, else REGISTERED. */
    State registeredState() {
        if (drain == null) {
            return State.REGISTERED;
        }
        return drain.getState() == io.mezzo.proto.v1.DrainState.DRAIN_STATE_DRAINED ? State.DRAINED : State.DRAINING;
    }

    /** Every task on the agent (a copy, so that tasks can be completed while iterating). */
    List<TaskRecord> allTasks() {
        List<TaskRecord> all = new ArrayList<>();
        tasks.values().forEach(m -> all.addAll(m.values()));
        return all;
    }

    /** Whether a resource carries a dynamic reservation (made by RESERVE, not by the agent's flags). */
    static boolean isDynamic(Resources.Key key) {
        return key.reservation() != null && key.reservation().getType() == ReservationInfo.Type.DYNAMIC;
    }

    TaskRecord task(FrameworkId framework, TaskId task) {
        Map<TaskId, TaskRecord> byId = tasks.get(framework);
        return byId == null ? null : byId.get(task);
    }

    void addTask(TaskRecord task) {
        tasks.computeIfAbsent(task.framework, f -> new LinkedHashMap<>()).put(task.id, task);
    }

    void removeTask(TaskRecord task) {
        Map<TaskId, TaskRecord> byId = tasks.get(task.framework);
        if (byId != null) {
            byId.remove(task.id);
            if (byId.isEmpty()) {
                tasks.remove(task.framework);
            }
        }
    }

    @Override
    public String toString() {
        return id + "@" + info.getHostname() + " " + state;
    }
}
