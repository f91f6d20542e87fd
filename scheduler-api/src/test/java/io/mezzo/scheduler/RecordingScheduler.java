package io.mezzo.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.testkit.Timeouts;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * A scheduler that records every callback as a value in a queue, with the names of the threads that
 * ran them. Tests may hook offers and updates to make calls from inside the callbacks.
 */
final class RecordingScheduler implements Scheduler {

    /** One recorded callback. */
    sealed interface Callback {}

    record Subscribed(FrameworkID frameworkId, MasterInfo master) implements Callback {}

    record Offers(List<Offer> offers) implements Callback {}

    record Rescinded(OfferID offerId) implements Callback {}

    record Update(TaskStatus status) implements Callback {}

    record MessageReceived(AgentID agentId, ExecutorID executorId, String data) implements Callback {}

    record Failure(AgentID agentId, ExecutorID executorId, Integer status) implements Callback {}

    record ErrorReceived(SchedulerError error) implements Callback {}

    record Disconnected() implements Callback {}

    final BlockingQueue<Callback> callbacks = new LinkedBlockingQueue<>();
    final Set<String> threads = ConcurrentHashMap.newKeySet();
    volatile BiConsumer<SchedulerDriver, List<Offer>> onOffers = (driver, offers) -> {};
    volatile BiConsumer<SchedulerDriver, TaskStatus> onUpdate = (driver, status) -> {};

    /** The next callback; fails after {@link Timeouts#WAIT}. */
    Callback next() throws InterruptedException {
        Callback c = callbacks.poll(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(c).as("a scheduler callback").isNotNull();
        return c;
    }

    private void record(Callback c) {
        threads.add(Thread.currentThread().getName());
        callbacks.add(c);
    }

    @Override
    public void subscribed(SchedulerDriver driver, FrameworkID frameworkId, MasterInfo master) {
        record(new Subscribed(frameworkId, master));
    }

    @Override
    public void offers(SchedulerDriver driver, List<Offer> offers) {
        record(new Offers(offers));
        onOffers.accept(driver, offers);
    }

    @Override
    public void rescinded(SchedulerDriver driver, OfferID offerId) {
        record(new Rescinded(offerId));
    }

    @Override
    public void update(SchedulerDriver driver, TaskStatus status) {
        record(new Update(status));
        onUpdate.accept(driver, status);
    }

    @Override
    public void message(SchedulerDriver driver, AgentID agentId, ExecutorID executorId, byte[] data) {
        record(new MessageReceived(agentId, executorId, new String(data, StandardCharsets.UTF_8)));
    }

    @Override
    public void failure(SchedulerDriver driver, AgentID agentId, ExecutorID executorId, Integer status) {
        record(new Failure(agentId, executorId, status));
    }

    @Override
    public void error(SchedulerDriver driver, SchedulerError error) {
        record(new ErrorReceived(error));
    }

    @Override
    public void disconnected(SchedulerDriver driver) {
        record(new Disconnected());
    }
}
