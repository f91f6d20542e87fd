package io.mezzo.testkit;

import io.mezzo.common.clock.Clock;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that only moves when told to. Tests advance it, then wait for the event loops that use it
 * to settle (see {@code EventLoop#barrier()}).
 *
 * <p>Thread-safe: tests advance it from the test thread while loops read it.
 */
public final class ManualClock implements Clock {

    private final AtomicLong now;
    private final CopyOnWriteArrayList<Runnable> listeners = new CopyOnWriteArrayList<>();

    /** A clock starting at {@code startMillis} since the epoch. */
    public ManualClock(long startMillis) {
        this.now = new AtomicLong(startMillis);
    }

    /** A clock starting at 2026-01-01T00:00:00Z. */
    public ManualClock() {
        this(1_767_225_600_000L);
    }

    @Override
    public long millis() {
        return now.get();
    }

    /** Moves time forward and wakes every loop that waits on a deadline. */
    public void advance(Duration duration) {
        if (duration.isNegative()) {
            throw new IllegalArgumentException("time never goes back: " + duration);
        }
        now.addAndGet(duration.toMillis());
        listeners.forEach(Runnable::run);
    }

    @Override
    public void onAdvance(Runnable listener) {
        listeners.add(listener);
    }

    @Override
    public void removeOnAdvance(Runnable listener) {
        listeners.remove(listener);
    }

    @Override
    public String toString() {
        return "ManualClock[" + now.get() + "]";
    }
}
