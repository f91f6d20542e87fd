package io.mezzo.common.clock;

/**
 * The source of time for core code. Core code never reads the system clock itself; it is given a
 * {@code Clock} so that tests can drive timeouts by advancing a manual clock (the testkit's
 * {@code ManualClock}).
 *
 * <p>Thread-safe. Implementations are shared by every thread of a daemon.
 */
public interface Clock {

    /** Milliseconds since the Unix epoch. */
    long millis();

    /** Seconds since the Unix epoch, as carried in protocol timestamps. */
    default double seconds() {
        return millis() / 1000.0;
    }

    /**
     * Registers a callback run whenever time jumps forward by other means than its natural flow
     * (a manual clock being advanced), so that waiters can re-check their deadlines. The system
     * clock never calls it.
     */
    default void onAdvance(Runnable listener) {}

    /** Removes a callback registered with {@link #onAdvance}. */
    default void removeOnAdvance(Runnable listener) {}
}
