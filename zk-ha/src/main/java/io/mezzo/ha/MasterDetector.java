package io.mezzo.ha;

import io.mezzo.proto.v1.MasterInfo;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Follows the current leading master. Agents, schedulers, the CLI and tests use it to know whom to
 * talk to. {@link StandaloneMasterDetector} names one fixed master; the ZooKeeper detector follows
 * elections.
 *
 * <p>Thread-safe. Listeners are called on a detector thread and must only hand the news over (for
 * example, append an event to their loop).
 *
 * <p>This interface, {@link StandaloneMasterDetector} and {@link MasterDetectors} use no Curator or
 * ZooKeeper class: the scheduler library ships them without Curator, which only the ZooKeeper
 * detector ({@code io.mezzo.ha.zk}) needs.
 */
public interface MasterDetector extends AutoCloseable {

    /** The leader as last seen, if any. */
    Optional<MasterInfo> leader();

    /**
     * Registers a listener told of every change of leader (empty when there is none). It is called
     * once at once with the current value. It may also be told the same value again: the ZooKeeper
     * detector repeats the current leader after it reads it anew (on a reconnection, in a new
     * session, on {@link #redetect()}); a repeat is a confirmation, and a listener that was waiting
     * to retry the leader may retry at once.
     */
    void addListener(Consumer<Optional<MasterInfo>> listener);

    /**
     * Asks the detector to find the leader again now and tell every listener, changed or not. A
     * client calls it when a master answers that it is not the leader (UNAVAILABLE with a {@code
     * mezzo-leader} hint, see {@link LeaderHints}): the detector may be behind. The ZooKeeper
     * detector reads the leader znode again; a detector with a fixed master does nothing. Returns at
     * once; any thread.
     */
    default void redetect() {}

    /** Stops following. */
    @Override
    void close();
}
