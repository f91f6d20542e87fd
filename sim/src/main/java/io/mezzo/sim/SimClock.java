package io.mezzo.sim;

import io.mezzo.common.clock.Clock;

/**
 * The simulation's virtual clock: it moves only when the {@link World} moves it to the next
 * action or timer. Thread: the simulation's.
 */
final class SimClock implements Clock {

    /** 2026-01-01T00:00:00Z: a fixed start, so that replays print the same times. */
    static final long START = 1_767_225_600_000L;

    private long now = START;

    @Override
    public long millis() {
        return now;
    }

    void set(long millis) {
        if (millis < now) {
            throw new IllegalStateException("the virtual clock cannot go back from " + now + " to " + millis);
        }
        now = millis;
    }

    /** Milliseconds since the simulation began. */
    long elapsed() {
        return now - START;
    }
}
