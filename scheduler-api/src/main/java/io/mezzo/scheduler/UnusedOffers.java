package io.mezzo.scheduler;

import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The offers of the {@link Scheduler#offers} callback that is running, minus those the scheduler
 * answered (accepted, launched on or declined) so far: what the client declines for it when the
 * callback returns ({@code Builder.declineUnusedOffers}, on by default).
 *
 * <p><b>Thread.</b> {@link #begin} and {@link #end} run on the client's loop, around the callback;
 * {@link #answered} is called by driver calls from any thread (normally the loop itself, inside the
 * callback). <b>Owner:</b> {@link Callbacks}. An offer answered from another thread after the
 * callback returned has already been declined: schedulers that hold offers turn the feature off.
 */
final class UnusedOffers {

    private final Set<OfferID> open = ConcurrentHashMap.newKeySet();
    private List<OfferID> batch = List.of(); // loop thread only

    /** The callback for {@code offers} starts. */
    void begin(List<Offer> offers) {
        open.clear();
        batch = offers.stream().map(Offer::getId).toList();
        open.addAll(batch);
    }

    /** The scheduler used or declined {@code offerIds}. */
    void answered(Collection<OfferID> offerIds) {
        if (!open.isEmpty()) {
            open.removeAll(offerIds);
        }
    }

    /** The callback returned: the offers it left alone, in the order they came. */
    List<OfferID> end() {
        List<OfferID> left = new ArrayList<>();
        for (OfferID id : batch) {
            if (open.contains(id)) {
                left.add(id);
            }
        }
        open.clear();
        batch = List.of();
        return left;
    }
}
