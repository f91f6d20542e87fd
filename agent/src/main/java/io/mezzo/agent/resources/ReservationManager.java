package io.mezzo.agent.resources;

import io.mezzo.agent.checkpoint.Checkpointer;
import io.mezzo.common.resources.ResourceValidation;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.ReservationInfo;
import io.mezzo.proto.v1.ResourcesCheckpoint;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's dynamic reservations and the total it reports with them applied: the master's
 * CHECKPOINT_RESOURCES carries the full set; it is validated, written to {@code meta/resources.info},
 * and from then on the reserved amounts replace the same amounts of unreserved resources in the total
 * the agent reports on every REGISTER/REREGISTER.
 *
 * <pre>
 *   CHECKPOINT_RESOURCES -> every resource a DYNAMIC reservation? -> write resources.info -> apply
 *   total() = base - unreserved(reservations) + reservations   (base alone, WARN once, if they do not fit)
 * </pre>
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>Reservations are applied only once written (write, then apply); a set that fails validation or
 *       its write changes nothing.
 *   <li>A set that does not fit in the base total is reported unreserved, with one WARN line until the
 *       master sends a set that fits.
 * </ol>
 *
 * <p>Hard state: the reservations ({@code meta/resources.info}, restored by {@link #restore} after an
 * agent restart). Soft state: the base total (detected and configured at every start).
 *
 * <p>Thread: the agent's event loop. Owner: the agent's core. Public only so that the core can use it.
 */
public final class ReservationManager {

    private static final Logger LOG = LoggerFactory.getLogger(ReservationManager.class);

    private final Checkpointer checkpointer;
    private Resources baseTotal = Resources.EMPTY;
    // Hard state (meta/resources.info): the master's last CHECKPOINT_RESOURCES.
    private Resources reservations = Resources.EMPTY;
    private boolean reservationsDoNotFit;

    /** Writes the reservations through {@code checkpointer}. */
    public ReservationManager(Checkpointer checkpointer) {
        this.checkpointer = checkpointer;
    }

    /** Sets what the agent has before any reservation (known once its server is bound). */
    public void baseTotal(Resources total) {
        this.baseTotal = total;
    }

    /** Takes back the reservations a previous agent on this work directory checkpointed. */
    public void restore(ResourcesCheckpoint checkpointed) {
        reservations = Resources.fromProto(checkpointed.getResourcesList());
    }

    /** The total the agent reports: what it has, with its dynamic reservations applied. */
    public Resources total() {
        if (reservations.isEmpty()) {
            return baseTotal;
        }
        Resources unreserved = reservations.withoutReservations();
        if (!baseTotal.contains(unreserved)) {
            if (!reservationsDoNotFit) {
                reservationsDoNotFit = true;
                LOG.warn("Checkpointed reservations {} do not fit in the agent's resources {}; reporting them"
                        + " unreserved until the master sends reservations that fit", reservations, baseTotal);
            }
            return baseTotal;
        }
        return baseTotal.minus(unreserved).plus(reservations);
    }

    /** The master's full set of dynamic reservations: written to disk, then reported from now on. */
    public void checkpoint(MasterMessage.CheckpointResources body) {
        List<Resource> list = body.getResourcesList();
        String error = ResourceValidation.validate(list);
        for (int i = 0; error == null && i < list.size(); i++) {
            Resource r = list.get(i);
            if (!r.hasReservation() || r.getReservation().getType() != ReservationInfo.Type.DYNAMIC) {
                error = "resource " + i + " (" + r.getName() + ") is not a dynamic reservation";
            }
        }
        if (error != null) {
            LOG.warn("Ignored CHECKPOINT_RESOURCES: {}", error);
            return;
        }
        Resources dynamic = Resources.fromProto(list);
        if (!checkpointer.reservations(ResourcesCheckpoint.newBuilder().addAllResources(list).build(), dynamic)) {
            return;
        }
        reservations = dynamic;
        reservationsDoNotFit = false;
        LOG.info("Checkpointed dynamic reservations {}; total resources now {}", dynamic, total());
    }
}
