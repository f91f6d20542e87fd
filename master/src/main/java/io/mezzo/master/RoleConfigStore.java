package io.mezzo.master;

import io.mezzo.master.allocator.RoleConfig;
import java.util.concurrent.CompletableFuture;

/**
 * Where the master persists role weights and quotas before they take effect ("write, persist,
 * apply, reply"): {@link RoleSettingsManager} computes and validates the new {@link RoleConfig}, writes it
 * here, and gives it to the allocator and answers the operator only once the write completes. A
 * failed write changes nothing.
 *
 * <p>A standalone master keeps the config in memory only ({@link #STANDALONE}). With high
 * availability, a store backed by the fenced ZooKeeper registry writes it (checking the leader's
 * epoch), and a new leader reads it back and hands it to {@link RoleSettingsManager#recover}
 * before serving.
 *
 * <p>Owner: {@link RoleSettingsManager} (given it by {@link MasterCore#becomeLeader}). Called on
 * the master's event loop; the future may complete on any thread (the manager moves back to its
 * loop).
 */
interface RoleConfigStore {

    /** Keeps nothing: the config lives in the master's memory. */
    RoleConfigStore STANDALONE = next -> CompletableFuture.completedFuture(null);

    /** Persists the whole new config; completes when it is durable, exceptionally when it is not. */
    CompletableFuture<Void> write(RoleConfig next);
}
