package io.mezzo.master;

import io.mezzo.proto.v1.Call;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fault injection on a running {@link Master}, for tests and benchmarks only: the few failures that
 * cannot be caused from outside the process without reaching into it. Production code never calls
 * it; it exists so that tests need no reflection into the master.
 *
 * <ul>
 *   <li>{@link #crash()}: the host dies. The master stops serving at once, without a word to
 *       ZooKeeper; its session lingers until it expires on the servers, as after a real crash.
 *   <li>{@link #crashOnNext(Call.Type)}: the host dies at a chosen moment: the next scheduler call
 *       of a type reaches the master's loop and is dropped there, before it is acted on, and the
 *       master crashes as with {@link #crash()}. It makes "the leader died before acting on the
 *       ACCEPT" a deterministic test instead of a race.
 *   <li>{@link #wedgeLoop()}: an event never returns (a bug, a blocking call on the loop): the loop
 *       stops answering until the returned handle is closed, so {@code /health/live} can be tested.
 *   <li>{@link #expireZkSession()}: ZooKeeper expires this master's session (what Curator's {@code
 *       KillSession} does), so a leader loses leadership for good and steps down.
 * </ul>
 *
 * <p>Obtained from {@link Master#faults()}. Thread-safe: any thread, after {@link Master#start()};
 * the armed crash is checked on the master's event loop ({@link #tripsOn}).
 */
public final class MasterFaults {

    private static final Logger LOG = LoggerFactory.getLogger(MasterFaults.class);

    private final Master master;
    /** The call type whose next arrival crashes the master; null when none is armed. */
    private final AtomicReference<Call.Type> crashOn = new AtomicReference<>();

    MasterFaults(Master master) {
        this.master = master;
    }

    /**
     * Stops serving at once, as a crash of the host would look to the others: gRPC and HTTP
     * streams break and the loop stops acting, but nothing is said to ZooKeeper. The ZooKeeper
     * client is closed later by {@link Master#close()}, which must still be called. In one JVM that
     * client keeps the session alive (a real crash would silence it): call {@link
     * #expireZkSession()} next to let another master take over, or cut its ZooKeeper traffic.
     */
    public void crash() {
        master.halt();
    }

    /**
     * Arms a crash on the next scheduler call of {@code type} (from any scheduler): when it reaches
     * the master's event loop, it is dropped before it is dispatched, this master stops acting at
     * once (nothing queued after it is acted on either) and then stops serving, as {@link #crash()}.
     * Nothing of the call is applied, persisted or answered. Fires once; arming again replaces a
     * crash not yet fired. {@link Master#close()} must still be called.
     */
    public void crashOnNext(Call.Type type) {
        crashOn.set(Objects.requireNonNull(type, "type"));
    }

    /**
     * Wedges the master's event loop: an event that blocks until the returned handle is closed.
     * Nothing queued after it runs meanwhile; {@code /health/live} and {@code GetHealth} report the
     * master not live. Close the handle (and only then the master) to let the loop go on.
     */
    public AutoCloseable wedgeLoop() {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch wedged = new java.util.concurrent.CountDownLatch(1);
        master.onLoop(() -> {
            wedged.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            if (!wedged.await(10, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new IllegalStateException("the master's loop did not reach the wedge within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.warn("Wedged the master's event loop (MasterFaults.wedgeLoop)");
        return release::countDown;
    }

    /**
     * Loop thread, before a scheduler call is dispatched: whether the call trips the armed crash.
     * If it does, the master has stopped acting when this returns (the caller drops the call).
     */
    boolean tripsOn(Call call) {
        Call.Type armed = crashOn.get();
        if (armed == null || call.getType() != armed || !crashOn.compareAndSet(armed, null)) {
            return false;
        }
        LOG.warn("Crashing on {} of framework {} as armed by MasterFaults.crashOnNext; the call is dropped", armed,
                call.getFrameworkId().getValue());
        master.crashOnLoop("crashed on " + armed + " (MasterFaults.crashOnNext)");
        return true;
    }

    /**
     * Expires this master's ZooKeeper session from the client side, as the servers would after a
     * partition: the client sees the expiry, the election calls the master's lost-leadership path.
     *
     * @throws IllegalStateException if the master runs standalone (it has no session) or its
     *     ZooKeeper client has no connection to expire yet
     */
    public void expireZkSession() {
        var client = master.zkClient();
        if (client == null) {
            throw new IllegalStateException("a standalone master has no ZooKeeper session to expire");
        }
        try {
            client.getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
        } catch (Exception e) {
            throw new IllegalStateException("cannot reach the master's ZooKeeper client: " + e.getMessage(), e);
        }
    }
}
