package io.mezzo.common.retry;

import java.time.Duration;
import java.util.Random;

/**
 * Exponential backoff with full jitter: the n-th delay is uniform in [initial/2, min(max,
 * initial * 2^n)]. Not thread-safe; each retrying component owns one.
 */
public final class Backoff {

    private final long initialMillis;
    private final long maxMillis;
    private final Random random;
    private int attempt;

    /** A backoff from {@code initial} doubling up to {@code max}, jittered by {@code random}. */
    public Backoff(Duration initial, Duration max, Random random) {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < initial <= max");
        }
        this.initialMillis = initial.toMillis();
        this.maxMillis = max.toMillis();
        this.random = random;
    }

    /** The delay before the next attempt. */
    public Duration next() {
        long ceiling = initialMillis << Math.min(attempt, 30);
        if (ceiling <= 0 || ceiling > maxMillis) {
            ceiling = maxMillis;
        }
        attempt++;
        long floor = Math.min(initialMillis / 2, ceiling);
        return Duration.ofMillis(floor + (long) (random.nextDouble() * (ceiling - floor)));
    }

    /** Starts over after a success. */
    public void reset() {
        attempt = 0;
    }

    /** Attempts since the last reset. */
    public int attempts() {
        return attempt;
    }
}
