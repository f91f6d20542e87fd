package io.mezzo.ha.election;

import io.mezzo.ha.MasterDetector;
import io.mezzo.ha.registry.Registry;
import io.mezzo.proto.v1.MasterInfo;

/**
 * Leadership among masters, as a session with an epoch: a master takes part, is told when it is
 * elected (with its epoch and a registry fenced by that epoch), told to stop acting while its
 * coordination service connection is suspended, and told when it has lost leadership for good.
 * {@link ZkLeaderElection} elects through ZooKeeper; {@link StandaloneLeaderElection} elects the
 * only master at once.
 *
 * <p>Thread-safe. Listener methods run on an election thread, one at a time, in order.
 */
public interface LeaderElection extends AutoCloseable {

    /** What a candidate is told. */
    interface Listener {
        /**
         * This master leads. {@code self} is its MasterInfo with the epoch of this term set;
         * {@code registry} accepts writes only while no later term has begun. Called at most once.
         */
        void elected(MasterInfo self, Registry registry);

        /** The connection to the coordination service is suspended: stop acting at once. */
        default void suspended() {}

        /** The connection is back within the session: this master still leads. */
        default void reconnected() {}

        /** Leadership is lost for good (session lost, fenced, or closed). Called at most once. */
        void lost(String reason);
    }

    /** Starts taking part with {@code candidate} (its epoch is set on election). */
    void start(MasterInfo candidate, Listener listener);

    /** Follows whoever leads (this master included). */
    MasterDetector detector();

    /** Leaves the election; a leader gives leadership up at once so another takes over quickly. */
    @Override
    void close();
}
