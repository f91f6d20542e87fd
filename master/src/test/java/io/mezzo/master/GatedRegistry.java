package io.mezzo.master;

import io.mezzo.ha.registry.InMemoryRegistry;
import io.mezzo.ha.registry.Registry;
import io.mezzo.ha.registry.RegistryOp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A registry whose writes the test completes: while {@link #hold()} is on, writes queue in
 * submission order and complete only at {@link #release()}, as a slow ZooKeeper would. Every
 * write submitted is also kept in {@link #submitted}, so that a test can check what was written
 * after what. Records live in an {@link InMemoryRegistry}.
 *
 * <p>Thread-safe: the master's loop writes, the test holds, releases and reads.
 */
final class GatedRegistry implements Registry {

    private record Pending(List<RegistryOp> ops, CompletableFuture<Void> done) {}

    /** Every write submitted, in submission order. */
    final List<List<RegistryOp>> submitted = new CopyOnWriteArrayList<>();

    private final InMemoryRegistry store = new InMemoryRegistry();
    private final List<Pending> pending = new ArrayList<>();
    private boolean holding;

    /** A registry holding {@code records} (collection, key, bytes), as a new leader reads them. */
    GatedRegistry(List<RegistryOp> records) {
        store.write(records).join();
    }

    @Override
    public Map<String, Map<String, byte[]>> readAll() {
        return store.readAll();
    }

    /** The record's bytes now, or null. */
    byte[] record(String collection, String key) {
        return store.readAll().getOrDefault(collection, Map.of()).get(key);
    }

    @Override
    public synchronized CompletableFuture<Void> write(List<RegistryOp> ops) {
        List<RegistryOp> copy = List.copyOf(ops);
        submitted.add(copy);
        if (holding) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            pending.add(new Pending(copy, done));
            return done;
        }
        return store.write(copy);
    }

    /** From now on, writes wait for {@link #release()}. */
    synchronized void hold() {
        holding = true;
    }

    /** Writes waiting now complete, in submission order; later writes complete at once. */
    void release() {
        List<Pending> now;
        synchronized (this) {
            holding = false;
            now = List.copyOf(pending);
            pending.clear();
            // Stored under the lock, so that no later write overtakes them.
            now.forEach(p -> store.write(p.ops()).join());
        }
        now.forEach(p -> p.done().complete(null));
    }

    /** The writes waiting for {@link #release()}. */
    synchronized int waiting() {
        return pending.size();
    }

    @Override
    public void close() {
        store.close();
    }
}
