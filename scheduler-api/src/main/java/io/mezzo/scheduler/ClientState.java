package io.mezzo.scheduler;

import java.util.EnumSet;
import java.util.Set;

/**
 * Lifecycle of a {@link MezzoSchedulerClient}. Owned and changed by the client's loop thread only.
 *
 * <pre>
 *   NEW ──start, leader known──► CONNECTING ──SUBSCRIBED──► SUBSCRIBED
 *                                 ▲       │                     │
 *                     timer fires │       │ stream ended,       │ stream ended, missed
 *                                 │       ▼ missed heartbeats   ▼ heartbeats, leader changed
 *                                 │     BACKING_OFF ◄───────────┘
 *                                 │       │ detector: no leader
 *                 leader detected │       ▼
 *                                 └──── NO_LEADER   (also entered from NEW, CONNECTING and
 *                                                    SUBSCRIBED when no leader is known)
 *
 *   any state ──fatal ERROR, teardown, close──► STOPPED (terminal)
 * </pre>
 */
enum ClientState {
    /** Built, not started. */
    NEW,
    /** A stream to a master is open (or opening) and SUBSCRIBE was sent; waiting for SUBSCRIBED. */
    CONNECTING,
    /** SUBSCRIBED was received; calls are sent. */
    SUBSCRIBED,
    /** No stream; the reconnect timer is pending. */
    BACKING_OFF,
    /** No stream; waiting for the detector to name a leader. */
    NO_LEADER,
    /** Stopped for good: fatal error, teardown or close. */
    STOPPED;

    private Set<ClientState> next() {
        return switch (this) {
            case NEW -> EnumSet.of(CONNECTING, NO_LEADER, STOPPED);
            case CONNECTING -> EnumSet.of(SUBSCRIBED, BACKING_OFF, NO_LEADER, STOPPED);
            case SUBSCRIBED -> EnumSet.of(BACKING_OFF, NO_LEADER, STOPPED);
            case BACKING_OFF -> EnumSet.of(CONNECTING, NO_LEADER, STOPPED);
            case NO_LEADER -> EnumSet.of(CONNECTING, STOPPED);
            case STOPPED -> EnumSet.noneOf(ClientState.class);
        };
    }

    /** Whether the client may move from this state to {@code to}. */
    boolean canMoveTo(ClientState to) {
        return next().contains(to);
    }

    /** True while a stream to a master is open. */
    boolean hasStream() {
        return this == CONNECTING || this == SUBSCRIBED;
    }
}
