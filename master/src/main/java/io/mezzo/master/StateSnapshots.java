package io.mezzo.master;

import io.mezzo.common.clock.Clock;
import io.mezzo.common.clock.SystemClock;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.GetRolesResponse;
import io.mezzo.proto.v1.GetStateResponse;
import java.time.Duration;

/**
 * Publishes the master's state as an immutable {@link StateSnapshot} after it changes, so that the
 * read-only HTTP endpoints, the operator API's reads and the metrics never run on the event loop.
 *
 * <pre>
 *  any event ran --changed()--> whenIdle("state-snapshot") --due?--> publish: StateViews -> snapshot
 *                                                  \--not yet--> timer "state-snapshot" at last + interval
 *  readers (HTTP, gRPC, /metrics) --current()--> the last snapshot (a volatile read)
 * </pre>
 *
 * <p>Invariants:
 *
 * <ol>
 *   <li>Publication is coalesced: at most one per burst of events (an idle event) and, on the system
 *       clock, at most one per {@link #INTERVAL} (a tagged timer), whatever the rate of changes.
 *       With an injected clock (tests, the simulator) it is published at every idle moment, so that
 *       a test that settles the loop reads what it just did without advancing time.
 *   <li>A snapshot is built on the loop in one event: it shows one consistent state.
 * </ol>
 *
 * <p>Owner: {@link MasterCore}. Thread: {@link #changed()} and {@link #publishNow()} on the loop;
 * {@link #current()} from any thread.
 */
final class StateSnapshots {

    /** The longest a published snapshot lags the loop while changes keep coming (system clock). */
    static final Duration INTERVAL = Duration.ofMillis(100);

    static final String TIMER = "state-snapshot";

    private final EventLoop loop;
    private final Clock clock;
    private final LeaderTerm term;
    private final StateViews views;
    private final MasterMetrics metrics;
    private final long intervalMillis;
    private volatile StateSnapshot current = StateSnapshot.EMPTY;
    /** Told of every published snapshot, on the loop (it must hand the work off at once). */
    private volatile java.util.function.Consumer<StateSnapshot> listener = s -> {};

    // Loop thread only.
    /** Set by a publication so that the event that published does not ask for another. */
    private boolean justPublished;
    private long lastPublishedAt = Long.MIN_VALUE / 2;
    /** The election this term's failover timing counts from, and when no recovered agent was left. */
    private long timedElection = -1;
    private double agentsBackSeconds = Double.NaN;

    StateSnapshots(EventLoop loop, Clock clock, LeaderTerm term, StateViews views, MasterMetrics metrics) {
        this.loop = loop;
        this.clock = clock;
        this.term = term;
        this.views = views;
        this.metrics = metrics;
        this.intervalMillis = clock instanceof SystemClock ? INTERVAL.toMillis() : 0;
    }

    /** Tells {@code listener} of every snapshot published from now on (the operator event stream). */
    void onPublished(java.util.function.Consumer<StateSnapshot> listener) {
        this.listener = listener;
    }

    /** The last published snapshot. Any thread. */
    StateSnapshot current() {
        return current;
    }

    /** Something may have changed (called after every event): publish soon. Loop thread. */
    void changed() {
        if (justPublished) {
            justPublished = false;
            return;
        }
        if (!loop.isScheduled(TIMER)) {
            loop.whenIdle(TIMER, this::publishWhenDue);
        }
    }

    private void publishWhenDue() {
        long due = lastPublishedAt + intervalMillis;
        long now = clock.millis();
        if (now < due) {
            loop.schedule(TIMER, Duration.ofMillis(due - now), this::publishNow);
        } else {
            publishNow();
        }
    }

    /** Builds and publishes a snapshot now. Loop thread. */
    void publishNow() {
        long now = clock.millis();
        boolean leading = term.acting();
        GetStateResponse state = term.masterInfo() == null ? GetStateResponse.getDefaultInstance() : views.state();
        GetRolesResponse roles = term.masterInfo() == null ? GetRolesResponse.getDefaultInstance() : views.roles();
        if (term.masterInfo() != null && term.electedAt() != timedElection) {
            timedElection = term.electedAt();
            agentsBackSeconds = Double.NaN;
        }
        if (leading && Double.isNaN(agentsBackSeconds)
                && state.getAgentsList().stream().noneMatch(a -> a.getState() == AgentView.State.RECOVERED)) {
            agentsBackSeconds = (now - term.electedAt()) / 1000.0;
        }
        current = StateSnapshot.of(state, roles, leading, now, agentsBackSeconds,
                clock::millis);
        lastPublishedAt = now;
        justPublished = true;
        metrics.snapshotPublished();
        listener.accept(current);
    }
}
