package io.mezzo.sim;

/**
 * The in-memory network's delays: a few milliseconds per message, with seeded slow spells (a
 * delay fault) during which messages take up to {@link #SLOW_MAX_MILLIS}. Order within a stream is
 * kept by {@link Link}; this only says how long one message takes.
 *
 * <p>Thread: the simulation's.
 */
final class Network {

    static final int SLOW_MAX_MILLIS = 3_000;

    private final World world;
    private long slowUntil;

    Network(World world) {
        this.world = world;
    }

    /** Milliseconds the next message takes. */
    long delay() {
        if (world.clock.millis() < slowUntil) {
            return 1 + world.random.nextInt(SLOW_MAX_MILLIS);
        }
        return 1 + world.random.nextInt(5);
    }

    /** A slow spell of {@code millis}: every message sent meanwhile may take seconds. */
    void slowFor(long millis) {
        slowUntil = Math.max(slowUntil, world.clock.millis() + millis);
    }
}
