package io.mezzo.scheduler;

import io.mezzo.ha.MasterDetector;
import io.mezzo.proto.v1.MasterInfo;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A detector whose leader the test sets, standing in for an election: listeners are told on the
 * test thread, as the ZooKeeper detector tells them on its own thread.
 */
final class SwitchingDetector implements MasterDetector {

    private final List<Consumer<Optional<MasterInfo>>> listeners = new CopyOnWriteArrayList<>();
    private volatile Optional<MasterInfo> leader;

    SwitchingDetector(MasterInfo initial) {
        this.leader = Optional.ofNullable(initial);
    }

    /** Elects {@code next} (or nobody) and tells every listener. */
    void elect(Optional<MasterInfo> next) {
        leader = next;
        listeners.forEach(l -> l.accept(next));
    }

    /**
     * Changes the leader without telling the listeners, as a detector whose watch was lost (a
     * ZooKeeper session expiry) would still answer {@link #leader()} right after re-reading.
     */
    void electSilently(Optional<MasterInfo> next) {
        leader = next;
    }

    @Override
    public Optional<MasterInfo> leader() {
        return leader;
    }

    @Override
    public void addListener(Consumer<Optional<MasterInfo>> listener) {
        listeners.add(listener);
        listener.accept(leader);
    }

    @Override
    public void close() {
        listeners.clear();
    }
}
