package io.mezzo.master;

/**
 * Fault injection on a running {@link Master}, for tests and benchmarks only: the few failures that
 * cannot be caused from outside the process without reaching into it. Production code never calls
 * it; it exists so that tests need no reflection into the master.
 *
 * <ul>
 *   <li>{@link #crash()}: the host dies. The master stops serving at once, without a word to
 *       ZooKeeper; its session lingers until it expires on the servers, as after a real crash.
 *   <li>{@link #expireZkSession()}: ZooKeeper expires this master's session (what Curator's {@code
 *       KillSession} does), so a leader loses leadership for good and steps down.
 * </ul>
 *
 * <p>Obtained from {@link Master#faults()}. Thread-safe: any thread, after {@link Master#start()}.
 */
public final class MasterFaults {

    private final Master master;

    MasterFaults(Master master) {
        this.master = master;
    }

    /**
     * Stops serving at once, as a crash of the host would look to the others: gRPC and HTTP
     * streams break and the loop stops acting, but nothing is said to ZooKeeper. The ZooKeeper
     * client is closed later by {@link Master#close()}, which must still be called.
     */
    public void crash() {
        master.halt();
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
