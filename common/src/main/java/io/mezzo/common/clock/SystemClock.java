package io.mezzo.common.clock;

/** The real wall clock. The only place production code reads the time from. */
public final class SystemClock implements Clock {

    /** The one instance. */
    public static final SystemClock INSTANCE = new SystemClock();

    private final java.time.Clock utc = java.time.Clock.systemUTC();

    private SystemClock() {}

    @Override
    public long millis() {
        return utc.millis();
    }

    @Override
    public String toString() {
        return "SystemClock";
    }
}
