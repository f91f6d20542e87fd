package io.mezzo.ha.registry;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The registry of a standalone master: kept in memory, lost on restart. Writes complete at once;
 * behind the same interface as the ZooKeeper registry so the master has one code path.
 */
public final class InMemoryRegistry implements Registry {

    private final Map<String, Map<String, byte[]>> records = new TreeMap<>();
    private boolean closed;

    @Override
    public synchronized Map<String, Map<String, byte[]>> readAll() {
        Map<String, Map<String, byte[]>> copy = new HashMap<>();
        records.forEach((c, m) -> copy.put(c, new HashMap<>(m)));
        return copy;
    }

    @Override
    public synchronized CompletableFuture<Void> write(List<RegistryOp> ops) {
        if (closed) {
            return CompletableFuture.failedFuture(new RegistryException("registry closed"));
        }
        // The same records are refused as by the ZooKeeper registry, so standalone behaves alike.
        RecordRejectedException rejected = RecordRejectedException.check(ops);
        if (rejected != null) {
            return CompletableFuture.failedFuture(rejected);
        }
        for (RegistryOp op : ops) {
            if (op.isDelete()) {
                Map<String, byte[]> c = records.get(op.collection());
                if (c != null) {
                    c.remove(op.key());
                }
            } else {
                records.computeIfAbsent(op.collection(), k -> new TreeMap<>()).put(op.key(), op.value().clone());
            }
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public synchronized void close() {
        closed = true;
    }
}
