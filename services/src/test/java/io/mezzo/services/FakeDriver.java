package io.mezzo.services;

import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.KillPolicy;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.scheduler.SchedulerDriver;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/** The driver boundary as values: what the manager asked of the master, recorded in order. */
final class FakeDriver implements SchedulerDriver {

    final List<TaskInfo> launched = new CopyOnWriteArrayList<>();
    final List<OfferID> launchedOn = new CopyOnWriteArrayList<>();
    final List<String> killed = new CopyOnWriteArrayList<>();
    final List<OfferID> declined = new CopyOnWriteArrayList<>();
    final List<List<Call.Reconcile.Task>> reconciled = new CopyOnWriteArrayList<>();
    volatile boolean suppressed;

    @Override
    public void start() {}

    @Override
    public boolean accept(List<OfferID> offerIds, List<Offer.Operation> operations, Filters filters) {
        for (Offer.Operation op : operations) {
            if (op.hasLaunch()) {
                launched.addAll(op.getLaunch().getTaskInfosList());
                op.getLaunch().getTaskInfosList().forEach(t -> launchedOn.add(offerIds.get(0)));
            }
        }
        return true;
    }

    @Override
    public boolean launch(OfferID offerId, List<TaskInfo> tasks) {
        launched.addAll(tasks);
        tasks.forEach(t -> launchedOn.add(offerId));
        return true;
    }

    @Override
    public boolean launch(List<OfferID> offerIds, List<TaskInfo> tasks) {
        return launch(offerIds.get(0), tasks);
    }

    @Override
    public boolean decline(List<OfferID> offerIds, Filters filters) {
        declined.addAll(offerIds);
        return true;
    }

    @Override
    public boolean revive(String... roles) {
        suppressed = false;
        return true;
    }

    @Override
    public boolean suppress(String... roles) {
        suppressed = true;
        return true;
    }

    @Override
    public boolean kill(TaskID taskId, AgentID agentId, KillPolicy killPolicy) {
        killed.add(taskId.getValue());
        return true;
    }

    @Override
    public boolean acknowledge(TaskStatus status) {
        return true;
    }

    @Override
    public boolean reconcile(List<Call.Reconcile.Task> tasks) {
        reconciled.add(tasks);
        return true;
    }

    @Override
    public boolean message(AgentID agentId, ExecutorID executorId, byte[] data) {
        return true;
    }

    @Override
    public boolean teardown() {
        return true;
    }

    @Override
    public Optional<FrameworkID> frameworkId() {
        return Optional.empty();
    }

    @Override
    public boolean isSubscribed() {
        return true;
    }

    @Override
    public void close() {}
}
