package io.mezzo.services;

import io.mezzo.ha.registry.InMemoryRegistry;
import io.mezzo.ha.registry.Registry;
import io.mezzo.ha.registry.RegistryOp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * An in-memory store whose writes can be held (the caller's future stays pending) and then let
 * through or failed, to test what the manager does while a write is in flight and after it fails.
 *
 * <p>Thread-safe. Owner: the test.
 */
final class GatedRegistry implements Registry {

    private record Held(List<RegistryOp> ops, CompletableFuture<Void> future) {}

    private final InMemoryRegistry store = new InMemoryRegistry();
    private final List<Held> held = new ArrayList<>();
    private boolean holding;
    private int writes;

    /** From now on, writes wait for {@link #release} or {@link #fail}. */
    synchronized void hold() {
        holding = true;
    }

    /** How many writes are held. */
    synchronized int held() {
        return held.size();
    }

    /** How many writes were asked for, held or not. */
    synchronized int writes() {
        return writes;
    }

    /** Applies the held writes in order and stops holding. */
    void release() {
        List<Held> out;
        synchronized (this) {
            holding = false;
            out = List.copyOf(held);
            held.clear();
        }
        out.forEach(h -> store.write(h.ops).whenComplete((v, e) -> {
            if (e != null) {
                h.future.completeExceptionally(e);
            } else {
                h.future.complete(null);
            }
        }));
    }

    /** Fails the held writes (as a write of a fenced, deposed leader fails); nothing is stored. */
    void fail(RuntimeException why) {
        List<Held> out;
        synchronized (this) {
            holding = false;
            out = List.copyOf(held);
            held.clear();
        }
        out.forEach(h -> h.future.completeExceptionally(why));
    }

    @Override
    public Map<String, Map<String, byte[]>> readAll() {
        return store.readAll();
    }

    @Override
    public CompletableFuture<Void> write(List<RegistryOp> ops) {
        synchronized (this) {
            writes++;
            if (holding) {
                CompletableFuture<Void> f = new CompletableFuture<>();
                held.add(new Held(List.copyOf(ops), f));
                return f;
            }
        }
        return store.write(ops);
    }

    @Override
    public void close() {
        store.close();
    }
}
