package io.mezzo.master;

import io.grpc.Status;
import io.mezzo.common.validation.Limits;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.resources.Resources;
import io.mezzo.ha.registry.RecordRejectedException;
import io.mezzo.ha.registry.RegistryException;
import io.mezzo.master.allocator.RoleConfig;
import io.mezzo.master.validation.RoleConfigValidation;
import io.mezzo.proto.v1.UpdateQuotaRequest;
import io.mezzo.proto.v1.UpdateWeightsRequest;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Role weights and quotas, set by the operator API: write, persist, apply, reply. An update is
 * validated as the whole configuration it leads to ({@link RoleConfigValidation}), written to the
 * {@link RoleConfigStore}, and only then put in force in the allocator and answered.
 *
 * <pre>
 *  UpdateWeights / UpdateQuota --validate(head + update)--> head = next --> store.write(next)
 *      ok     --> allocator in force = next, allocation requested, reply OK
 *      failed --> head = what is in force, reply UNAVAILABLE (a registry refusal: step down)
 * </pre>
 *
 * <p>Owner: {@link MasterCore}. Calls {@link OfferManager} (which holds the allocator). Thread:
 * the master's event loop; the store's future may complete on any thread, and the result comes
 * back to the loop before anything changes.
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>Settings are in force only once durable; a failed write changes nothing in force.
 *   <li>Updates build on {@code roleConfigHead}, so two updates in flight do not lose each other.
 * </ol>
 *
 * <p>State: {@code roleConfigHead}, the newest settings written or being written (hard: {@code
 * registry/roles}; the allocator holds the ones in force); {@code roleConfigStore} (where they are
 * written: in memory standalone, the fenced registry with high availability).
 */
final class RoleSettingsManager {

    private static final Logger LOG = LoggerFactory.getLogger(RoleSettingsManager.class);

    private final EventLoop loop;
    private final LeaderTerm term;
    private final OfferManager offers;
    /** Persists weights and quotas before they apply; replaced by the registry with HA. */
    private RoleConfigStore roleConfigStore = RoleConfigStore.STANDALONE;
    /**
     * Hard state: the newest weights and quotas written (or being written) to the store. Updates
     * build on it, so two updates in flight do not lose each other; the allocator holds the one in
     * force.
     */
    private RoleConfig roleConfigHead = RoleConfig.EMPTY;

    RoleSettingsManager(EventLoop loop, LeaderTerm term, OfferManager offers) {
        this.loop = loop;
        this.term = term;
        this.offers = offers;
    }

    /**
     * Uses {@code store} for weights and quotas from now on and puts {@code recovered} (read back
     * from it by a new leader) in force.
     */
    void recover(RoleConfigStore store, RoleConfig recovered) {
        roleConfigStore = store;
        roleConfigHead = recovered;
        offers.putInForce(recovered);
        LOG.info("Recovered role settings: weights {}, quotas {}", recovered.weights(), recovered.quotas());
        offers.requestAllocation();
    }

    /** UpdateWeights: completes once the weights are in force, or fails with INVALID_ARGUMENT. */
    CompletableFuture<Void> updateWeights(UpdateWeightsRequest request) {
        return update("UpdateWeights", RoleConfigValidation.withWeights(roleConfigHead, request.getWeightsList()));
    }

    /**
     * UpdateQuota: completes once the quotas are in force, or fails with INVALID_ARGUMENT (also
     * when the guarantees would over-commit the cluster and the request does not set force).
     */
    CompletableFuture<Void> updateQuota(UpdateQuotaRequest request) {
        Resources total = offers.clusterTotal();
        Map<String, Long> totals = new TreeMap<>();
        total.scalarNames().forEach(name -> totals.put(name, total.scalar(name)));
        RoleConfigValidation.Outcome outcome = RoleConfigValidation.withQuotas(roleConfigHead, request.getQuotasList(),
                offers.scalarNames(), totals, request.getForce());
        if (request.getForce() && outcome.error() == null
                && RoleConfigValidation.overcommitError(roleConfigHead, outcome.config(), totals) != null) {
            LOG.warn("UpdateQuota forced guarantees above the cluster's total: {} guaranteed, total {}",
                    outcome.config().guaranteedInTotal(), total);
        }
        return update("UpdateQuota", outcome);
    }

    /** The new config was computed and validated as a whole; persist it, then apply it, then answer. */
    private CompletableFuture<Void> update(String call, RoleConfigValidation.Outcome outcome) {
        if (!term.acting()) {
            return CompletableFuture.failedFuture(
                    Status.UNAVAILABLE.withDescription("this master is not acting as leader").asRuntimeException());
        }
        if (outcome.error() != null) {
            String error = Limits.cut(outcome.error(), Limits.MESSAGE);
            LOG.info("Refused {}: {}", call, error);
            return CompletableFuture.failedFuture(Status.INVALID_ARGUMENT.withDescription(error).asRuntimeException());
        }
        RoleConfig next = outcome.config();
        roleConfigHead = next;
        CompletableFuture<Void> applied = new CompletableFuture<>();
        roleConfigStore.write(next).whenComplete((ok, error) -> loop.append(() -> {
            if (error != null) {
                roleConfigHead = offers.roleConfigInForce();
                LOG.warn("Dropped {}: the role settings could not be persisted: {}", call, error.toString());
                Throwable cause = error instanceof CompletionException ? error.getCause() : error;
                if (cause instanceof RecordRejectedException) {
                    // A record that can never be stored: nothing was written; leadership is not in question.
                    applied.completeExceptionally(Status.INVALID_ARGUMENT
                            .withDescription("the role settings cannot be stored: " + cause.getMessage())
                            .asRuntimeException());
                    return;
                }
                if (cause instanceof RegistryException && !term.stopped()) {
                    // The registry refused a write: this master can no longer trust its leadership.
                    term.stepDown("registry write of role settings failed: " + cause.getMessage());
                }
                applied.completeExceptionally(Status.UNAVAILABLE
                        .withDescription("the role settings could not be persisted: " + error).asRuntimeException());
                return;
            }
            offers.putInForce(next);
            LOG.info("Applied {}: weights {}, quotas {}", call, next.weights(), next.quotas());
            offers.requestAllocation();
            applied.complete(null);
        }));
        return applied;
    }
}
