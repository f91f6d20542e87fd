package io.mezzo.sim;

import io.mezzo.ha.registry.FencedException;
import io.mezzo.ha.registry.Registry;
import io.mezzo.ha.registry.RegistryOp;
import io.mezzo.proto.v1.MasterInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * ZooKeeper as the masters see it: sessions, a leader election with epochs (the first live candidate
 * in joining order leads, as with a {@code LeaderLatch}), and the fenced registry. Like the
 * ZooKeeper registry, a leader's writes are applied atomically, in the order submitted, after a
 * delay, and a write of an epoch that is no longer current fails with {@link FencedException} when
 * it reaches the server.
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>At most one leader at a time, with an epoch higher than every earlier one.
 *   <li>Only the current epoch's writes change the data.
 * </ol>
 *
 * <p>Thread: the simulation's.
 */
final class SimZooKeeper {

    private final World world;
    private final Map<String, Map<String, byte[]>> data = new TreeMap<>();
    private final List<SimMaster> candidates = new ArrayList<>();
    private long epoch;
    private SimMaster leader;
    private MasterInfo leaderInfo;
    private boolean electionPending;
    private long lastWrite;

    SimZooKeeper(World world) {
        this.world = world;
    }

    /** The leader as a detector sees it (null: none). */
    SimMaster leader() {
        return leader;
    }

    MasterInfo leaderInfo() {
        return leaderInfo;
    }

    long epoch() {
        return epoch;
    }

    /** A copy of every record. */
    Map<String, Map<String, byte[]>> data() {
        Map<String, Map<String, byte[]>> copy = new HashMap<>();
        data.forEach((c, m) -> copy.put(c, new TreeMap<>(m)));
        return copy;
    }

    /** A master joins the election (its session starts). */
    void join(SimMaster master) {
        candidates.add(master);
        electSoon();
    }

    /**
     * A master's session is gone (expired, or closed when it gave leadership up): it leaves the
     * election; if it led, another is elected.
     */
    void leave(SimMaster master) {
        candidates.remove(master);
        if (leader == master) {
            leader = null;
            leaderInfo = null;
            world.trace("zk: leader " + master.name + " gone, epoch " + epoch + " over");
            tellDetectors();
            electSoon();
        }
    }

    private void electSoon() {
        if (leader != null || electionPending) {
            return;
        }
        electionPending = true;
        world.after(10 + world.random.nextInt(200), "zk: election", () -> {
            electionPending = false;
            elect();
        });
    }

    private void elect() {
        if (leader != null || candidates.isEmpty()) {
            return;
        }
        SimMaster next = candidates.get(0);
        epoch++;
        leader = next;
        leaderInfo = next.info().toBuilder().setEpoch(epoch).setElectedTime(world.clock.seconds()).build();
        world.trace("zk: " + next.name + " elected with epoch " + epoch);
        next.elected(leaderInfo, new EpochRegistry(epoch));
        tellDetectors();
    }

    private void tellDetectors() {
        for (SimMaster m : candidates) {
            m.leaderIs(leaderInfo);
        }
    }

    /** The registry as one term writes it: fenced by its epoch. */
    private final class EpochRegistry implements Registry {
        private final long term;

        EpochRegistry(long term) {
            this.term = term;
        }

        @Override
        public Map<String, Map<String, byte[]>> readAll() {
            return data();
        }

        @Override
        public CompletableFuture<Void> write(List<RegistryOp> ops) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            if (ops.isEmpty()) {
                done.complete(null);
                return done;
            }
            List<RegistryOp> copy = List.copyOf(ops);
            long at = Math.max(lastWrite, world.clock.millis() + 1 + world.random.nextInt(20));
            lastWrite = at;
            world.after(at - world.clock.millis(), "zk: write of epoch " + term + " " + describe(copy), () -> {
                if (term != epoch) {
                    done.completeExceptionally(new FencedException("epoch " + term + " was fenced by epoch " + epoch));
                    return;
                }
                for (RegistryOp op : copy) {
                    if (op.isDelete()) {
                        Map<String, byte[]> c = data.get(op.collection());
                        if (c != null) {
                            c.remove(op.key());
                        }
                    } else {
                        data.computeIfAbsent(op.collection(), k -> new TreeMap<>()).put(op.key(), op.value().clone());
                    }
                }
                done.complete(null);
            });
            return done;
        }

        @Override
        public void close() {}

        private String describe(List<RegistryOp> ops) {
            StringBuilder b = new StringBuilder();
            for (RegistryOp op : ops) {
                b.append(b.length() == 0 ? "" : ", ").append(op.isDelete() ? "delete " : "put ")
                        .append(op.collection()).append('/').append(op.key());
            }
            return b.toString();
        }
    }
}
