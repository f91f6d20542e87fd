package io.mezzo.testkit;

import java.time.Duration;

/**
 * The bounds every wait in Mezzo's tests uses, so that a hung test fails with a message instead of
 * hanging CI, and so that the bounds are chosen in one place. They are ceilings, not expectations:
 * a healthy test is done long before; no test may assert that something was fast.
 *
 * <p>Constants only; any thread.
 */
public final class Timeouts {

    private Timeouts() {}

    /** In-process work on loopback: a loop settling, a message crossing one gRPC stream. */
    public static final Duration WAIT = Duration.ofSeconds(10);

    /** Work that spans processes or sandboxes: a task process starting and exiting, a fetch. */
    public static final Duration PROCESS = Duration.ofSeconds(30);

    /**
     * ZooKeeper at work: session timeouts, elections, a failover with agents re-registering, or
     * daemons started as separate JVMs.
     */
    public static final Duration FAILOVER = Duration.ofSeconds(60);

    /** A whole multi-process cluster started from the launcher script on a loaded 2-core machine. */
    public static final Duration CLUSTER = Duration.ofSeconds(120);
}
