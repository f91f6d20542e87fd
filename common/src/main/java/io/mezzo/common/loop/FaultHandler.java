package io.mezzo.common.loop;

/**
 * Receives broken invariants: an event handler that threw, an illegal state transition. Production
 * daemons log them at ERROR; tests record them and fail.
 *
 * <p>Called on the thread that found the fault; implementations must be thread-safe.
 */
@FunctionalInterface
public interface FaultHandler {

    /** Reports a fault. Must not throw. */
    void handleFault(String message, Throwable cause);
}
