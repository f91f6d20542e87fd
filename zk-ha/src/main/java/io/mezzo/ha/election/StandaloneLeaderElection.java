package io.mezzo.ha.election;

import io.mezzo.ha.MasterDetector;
import io.mezzo.ha.StandaloneMasterDetector;
import io.mezzo.ha.registry.InMemoryRegistry;
import io.mezzo.proto.v1.MasterInfo;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The election of a master that runs alone: it leads at once, with an in-memory registry. Its
 * epoch is the start time in milliseconds, so it still grows across restarts and agents that saw
 * an earlier run accept the new one.
 */
public final class StandaloneLeaderElection implements LeaderElection {

    private final long epoch;
    private final CopyOnWriteArrayList<Consumer<Optional<MasterInfo>>> listeners = new CopyOnWriteArrayList<>();
    private volatile MasterInfo leader;

    /** An election whose only term has epoch {@code epoch}. */
    public StandaloneLeaderElection(long epoch) {
        this.epoch = epoch;
    }

    @Override
    public void start(MasterInfo candidate, Listener listener) {
        leader = candidate.toBuilder().setEpoch(epoch).build();
        listener.elected(leader, new InMemoryRegistry());
        listeners.forEach(l -> l.accept(Optional.of(leader)));
    }

    @Override
    public MasterDetector detector() {
        return new MasterDetector() {
            @Override
            public Optional<MasterInfo> leader() {
                return Optional.ofNullable(leader);
            }

            @Override
            public void addListener(Consumer<Optional<MasterInfo>> listener) {
                listeners.add(listener);
                listener.accept(Optional.ofNullable(leader));
            }

            @Override
            public void close() {}

            @Override
            public String toString() {
                return leader == null ? "standalone" : new StandaloneMasterDetector(leader).toString();
            }
        };
    }

    @Override
    public void close() {}
}
