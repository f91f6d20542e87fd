package io.mezzo.services;

import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.MaintenanceWindow;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.scheduler.Scheduler;
import io.mezzo.scheduler.SchedulerDriver;
import io.mezzo.scheduler.SchedulerError;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge between the scheduler client and the manager: every callback becomes an event on the
 * manager's loop and returns at once. Offers are answered on the loop (the client is built with
 * {@code declineUnusedOffers(false)}); updates are acknowledged by the client once this returns, which
 * is safe because the manager persists what it must before it acts, and reconciles after a restart.
 *
 * <p>Thread: the client's thread ({@code scheduler-client}). Owner: {@link ServicesDaemon}.
 */
final class ServicesScheduler implements Scheduler {

    private static final Logger LOG = LoggerFactory.getLogger(ServicesScheduler.class);

    private final EventLoop loop;
    private final ServiceManager manager;
    private final Consumer<String> fatal;

    ServicesScheduler(EventLoop loop, ServiceManager manager, Consumer<String> fatal) {
        this.loop = loop;
        this.manager = manager;
        this.fatal = fatal;
    }

    @Override
    public void subscribed(SchedulerDriver driver, FrameworkID frameworkId, MasterInfo master) {
        loop.append(() -> manager.subscribed(frameworkId));
    }

    @Override
    public void offers(SchedulerDriver driver, List<Offer> offers) {
        loop.append(() -> manager.offers(offers));
    }

    @Override
    public void update(SchedulerDriver driver, TaskStatus status) {
        loop.append(() -> manager.update(status));
    }

    @Override
    public void maintenance(SchedulerDriver driver, List<MaintenanceWindow> windows) {
        loop.append(() -> manager.maintenance(windows));
    }

    @Override
    public void disconnected(SchedulerDriver driver) {
        loop.append(manager::disconnected);
    }

    @Override
    public void error(SchedulerDriver driver, SchedulerError error) {
        if (error.fatal()) {
            LOG.error("The master ended the services framework: {}", error);
            if (error.code() == io.mezzo.proto.v1.Event.Error.Code.FRAMEWORK_REMOVED) {
                // Its tasks are gone with it: forget them and the framework id, so that the next
                // leader subscribes as a new framework and launches every service again.
                loop.append(() -> manager.frameworkRemoved(() -> fatal.accept("the master removed the framework: " + error)));
                return;
            }
            fatal.accept("the master ended the framework: " + error);
        } else {
            LOG.warn("The master refused a call: {}", error);
        }
    }
}
