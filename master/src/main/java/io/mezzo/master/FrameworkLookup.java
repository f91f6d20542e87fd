package io.mezzo.master;

import io.mezzo.common.id.FrameworkId;
import java.util.Collection;

/**
 * Read access to the master's framework records, for the classes that {@link FrameworkManager}
 * itself calls ({@link OfferManager}, {@link TaskLifecycle}) and for {@link StateViews}: they look
 * frameworks up without depending on the manager, so calls only go one way. Implemented by {@link
 * FrameworkManager}; loop thread only.
 */
interface FrameworkLookup {

    /** The framework's record; null if it is unknown or removed. */
    FrameworkRecord get(FrameworkId id);

    /** Whether the framework was removed (its id can never subscribe again). */
    boolean isRemoved(FrameworkId id);

    /** Every framework record, in subscription order (a live view). */
    Collection<FrameworkRecord> all();
}
