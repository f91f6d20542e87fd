package io.mezzo.ha.registry;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The master's durable state: records grouped in collections (agents, frameworks, weights, ...),
 * one record per key. Writes are batched, atomic and fenced: a deposed leader's writes fail with
 * {@link FencedException}. The master acts on a change only after its write completed.
 *
 * <p>Thread-safe; writes complete on a registry thread (callers hand the result to their loop).
 */
public interface Registry extends AutoCloseable {

    /**
     * Reads every record: collection, then key, then bytes. Blocking; called once, when a master
     * takes leadership, before it acts.
     *
     * @throws RegistryException if the registry cannot be read
     */
    Map<String, Map<String, byte[]>> readAll();

    /**
     * Applies the operations atomically, in order, after the writes submitted before (several
     * submissions may share one transaction). An empty list completes at once.
     */
    CompletableFuture<Void> write(List<RegistryOp> ops);

    /** Stops writing; pending writes fail. */
    @Override
    void close();
}
