package io.mezzo.scheduler;

import io.mezzo.common.loop.FaultHandler;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.MaintenanceWindow;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.TaskStatus;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Delivers what the master sent to the framework's {@link Scheduler}: one event, one callback. The
 * counterpart of {@link Calls}, which builds what goes the other way.
 *
 * <p><b>Thread.</b> Loop thread only ({@code scheduler-client}): {@link Subscription} calls it from
 * its events, so callbacks run one at a time, in the order the master sent the events. <b>Owner:</b>
 * the {@link Subscription}, which decides <i>whether</i> an event is delivered (current stream,
 * right state); this class only decides <i>how</i>. It holds no state of its own.
 *
 * <p>Rules kept here:
 *
 * <ol>
 *   <li>A callback that throws goes to the fault handler; the next event is delivered as usual.
 *   <li>With {@code declineUnusedOffers} (the default), the offers of an {@link Scheduler#offers}
 *       callback that it neither used nor declined are declined, in one DECLINE with the master's
 *       default filter, when it returns (also when it threw).
 *   <li>With auto-acknowledgement, an update with a uuid is acknowledged after {@link
 *       Scheduler#update} returned normally, and only while still subscribed (the callback may have
 *       torn down or closed the client). An update that threw is not acknowledged, so the agent
 *       sends it again.
 * </ol>
 */
final class Callbacks {

    // Logs under the client's name: SREs and log configurations know that logger.
    private static final Logger LOG = LoggerFactory.getLogger(MezzoSchedulerClient.class);
    private static final String MDC_TASK = "task";

    private final Scheduler scheduler;
    private final SchedulerDriver driver;
    private final boolean autoAcknowledge;
    private final FaultHandler faultHandler;
    private final Supplier<String> idText;
    private final UnusedOffers unusedOffers; // null: the scheduler answers every offer itself

    /**
     * Callbacks of {@code scheduler}, given {@code driver}; {@code idText} names the framework in
     * fault reports; {@code unusedOffers}, when not null, collects the offers left alone by an
     * {@link Scheduler#offers} callback, which are declined when it returns.
     */
    Callbacks(
            Scheduler scheduler,
            SchedulerDriver driver,
            boolean autoAcknowledge,
            FaultHandler faultHandler,
            Supplier<String> idText,
            UnusedOffers unusedOffers) {
        this.scheduler = scheduler;
        this.driver = driver;
        this.autoAcknowledge = autoAcknowledge;
        this.faultHandler = faultHandler;
        this.idText = idText;
        this.unusedOffers = unusedOffers;
    }

    /** Delivers an OFFERS, RESCIND, UPDATE, MESSAGE, FAILURE or MAINTENANCE event; other types are ignored. */
    void deliver(Event event) {
        switch (event.getType()) {
            case OFFERS -> {
                List<Offer> offers = event.getOffers().getOffersList();
                LOG.debug("Received {} offers", offers.size());
                offers(offers);
            }
            case RESCIND -> {
                OfferID offerId = event.getRescind().getOfferId();
                LOG.debug("Offer {} rescinded", offerId.getValue());
                invoke("rescinded", () -> scheduler.rescinded(driver, offerId));
            }
            case UPDATE -> update(event.getUpdate().getStatus());
            case MESSAGE -> {
                Event.Message m = event.getMessage();
                LOG.debug("Message from executor {} on agent {} ({} bytes)",
                        m.getExecutorId().getValue(), m.getAgentId().getValue(), m.getData().size());
                invoke("message", () -> scheduler.message(
                        driver, m.getAgentId(), m.getExecutorId(), m.getData().toByteArray()));
            }
            case FAILURE -> {
                Event.Failure f = event.getFailure();
                ExecutorID executorId = f.hasExecutorId() && !f.getExecutorId().getValue().isEmpty()
                        ? f.getExecutorId()
                        : null;
                Integer status = f.hasStatus() ? f.getStatus() : null;
                LOG.info("Failure of agent {} executor {} status {}",
                        f.getAgentId().getValue(), executorId == null ? "-" : executorId.getValue(), status);
                invoke("failure", () -> scheduler.failure(driver, f.getAgentId(), executorId, status));
            }
            case MAINTENANCE -> {
                List<MaintenanceWindow> windows = event.getMaintenance().getWindowsList();
                LOG.info("Maintenance schedule from the master: {} pending windows", windows.size());
                invoke("maintenance", () -> scheduler.maintenance(driver, windows));
            }
            default -> throw new IllegalArgumentException(event.getType() + " is not delivered by Callbacks");
        }
    }

    /** {@link Scheduler#subscribed}. */
    void subscribed(FrameworkID id, MasterInfo master) {
        invoke("subscribed", () -> scheduler.subscribed(driver, id, master));
    }

    /** {@link Scheduler#disconnected}. */
    void disconnected() {
        invoke("disconnected", () -> scheduler.disconnected(driver));
    }

    /** {@link Scheduler#error}. */
    void error(SchedulerError error) {
        invoke("error", () -> scheduler.error(driver, error));
    }

    private void offers(List<Offer> offers) {
        if (unusedOffers == null) {
            invoke("offers", () -> scheduler.offers(driver, offers));
            return;
        }
        unusedOffers.begin(offers);
        invoke("offers", () -> scheduler.offers(driver, offers));
        List<OfferID> left = unusedOffers.end();
        // Skip quietly when the scheduler stopped the client (teardown, close) in the callback.
        if (!left.isEmpty() && driver.isSubscribed()) {
            LOG.debug("Declining {} offers the scheduler left alone", left.size());
            driver.decline(left, null);
        }
    }

    private void update(TaskStatus status) {
        MDC.put(MDC_TASK, status.getTaskId().getValue());
        LOG.debug("Update for task {}: {} from {} ({})",
                status.getTaskId().getValue(), status.getState(), status.getSource(), status.getReason());
        try {
            boolean handled = invoke("update", () -> scheduler.update(driver, status));
            // Skip quietly when the scheduler stopped the client (teardown, close) in the callback.
            if (handled && autoAcknowledge && !status.getUuid().isEmpty() && driver.isSubscribed()) {
                driver.acknowledge(status);
            }
        } finally {
            MDC.remove(MDC_TASK);
        }
    }

    /** Runs a scheduler callback; a throwing one goes to the fault handler. */
    private boolean invoke(String callback, Runnable call) {
        try {
            call.run();
            return true;
        } catch (RuntimeException e) {
            faultHandler.handleFault("Scheduler." + callback + " of framework " + idText.get() + " threw", e);
            return false;
        }
    }
}
