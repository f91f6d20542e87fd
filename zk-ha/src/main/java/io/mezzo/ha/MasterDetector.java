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
     * once at once with the current value.
     */
    void addListener(Consumer<Optional<MasterInfo>> listener);

    /** Stops following. */
    @Override
    void close();
}
