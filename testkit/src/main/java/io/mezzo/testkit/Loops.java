package io.mezzo.testkit;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Pause, advance, settle: the way tests drive a daemon's event loop on a {@link ManualClock}.
 * {@code barrier} is any "everything queued so far has run" future: {@code EventLoop::barrier},
 * {@code Master::barrier}, {@code Agent::barrier}.
 *
 * <p>Test thread only.
 */
public final class Loops {

    private Loops() {}

    /** Waits (at most {@link Timeouts#WAIT}) until the loop has run every event queued so far. */
    public static void settle(Supplier<CompletableFuture<Void>> barrier) {
        try {
            barrier.get().get(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for the loop to settle", e);
        } catch (ExecutionException e) {
            throw new AssertionError("the loop failed while settling: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("the loop did not settle within " + Timeouts.WAIT, e);
        }
    }

    /**
     * Settles, moves the clock forward, and settles again, so that every timer due by then has
     * fired and everything it queued has run.
     */
    public static void advance(ManualClock clock, Duration by, Supplier<CompletableFuture<Void>> barrier) {
        settle(barrier);
        clock.advance(by);
        settle(barrier);
    }
}
