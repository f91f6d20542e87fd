package io.mezzo.scheduler;

import io.mezzo.common.task.TaskStates;
import io.mezzo.ha.MasterDetector;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A framework that runs tasks to completion, for batch work that needs no offer loop: submit
 * {@link TaskSpec}s, get a future per task (or one for all) that completes with the task's {@link
 * TaskHistory} once it has finished or run out of retries.
 *
 * <pre>{@code
 * try (TaskQueue queue = TaskQueue.builder("nightly").master("zk://zk1:2181/mezzo")
 *         .retry(RetryPolicy.retries(2)).build()) {
 *     List<TaskHistory> done = queue.submitAll(specs).get(1, TimeUnit.HOURS);
 *     done.forEach(System.out::println);
 * }
 * }</pre>
 *
 * <p><b>What it does.</b> It is a {@link Scheduler} on a {@link MezzoSchedulerClient}, which keeps
 * the subscription alive across disconnections and master failovers and reconciles what it
 * launched. On every offer it packs as many waiting tasks as fit and pass their placement rule
 * ({@link OfferPacker}); the client declines the rest. Each attempt runs as task id {@code name.N}.
 * An attempt that ends (a terminal state, or TASK_UNKNOWN: the master is sure it is not running)
 * goes back to the queue when the {@link RetryPolicy} says so; TASK_UNREACHABLE is waited out, as
 * the task may come back. It suppresses offers while nothing waits and revives them on {@link
 * #submit}.
 *
 * <p><b>Threading.</b> Methods may be called from any thread. The queue's state lives on the
 * client's thread ({@code scheduler-client}); the futures complete there too, so dependent actions
 * ({@code thenAccept}, ...) should be quick or move to another executor.
 *
 * <p><b>Limits.</b> A task that fits no offer (too big, or a placement rule nothing passes) waits
 * until {@link #close}. The queue's memory is soft: a restarted process starts a new framework
 * ({@link Builder} names none to resubscribe).
 */
public final class TaskQueue implements AutoCloseable {

    // Logs under the client's name: one logger for the whole library.
    private static final Logger LOG = LoggerFactory.getLogger(MezzoSchedulerClient.class);

    /** Failover timeout of {@link #builder(String)}: longer than a master failover at worst. */
    static final double DEFAULT_FAILOVER_TIMEOUT_SECONDS = 600;

    private final MezzoSchedulerClient client;
    private final RetryPolicy retry;
    private final Predicate<Offer> placement;
    private final Set<String> unfinished = ConcurrentHashMap.newKeySet(); // any thread
    private final AtomicBoolean closed = new AtomicBoolean(); // any thread

    // Client thread only.
    private final Deque<Run> waiting = new ArrayDeque<>();
    private final Map<String, Run> launched = new HashMap<>(); // task id -> run
    private final Map<String, Integer> attemptsByName = new HashMap<>();
    private final List<Run> runs = new ArrayList<>();
    private boolean suppressed;
    private Throwable failure;

    /** One submitted spec: its attempts so far and its future. Client thread only. */
    private static final class Run {
        final TaskSpec spec;
        final CompletableFuture<TaskHistory> done = new CompletableFuture<>();
        final List<TaskHistory.Attempt> ended = new ArrayList<>();
        TaskID current;
        AgentID agent;
        final List<TaskStatus> updates = new ArrayList<>();
        int retriesUsed;

        Run(TaskSpec spec) {
            this.spec = spec;
        }

        TaskHistory history() {
            List<TaskHistory.Attempt> all = new ArrayList<>(ended);
            if (current != null) {
                all.add(new TaskHistory.Attempt(current, agent, updates));
            }
            return new TaskHistory(spec.name(), all);
        }
    }

    private TaskQueue(Builder b) {
        this.retry = b.retry;
        this.placement = b.placement;
        MezzoSchedulerClient.Builder cb = MezzoSchedulerClient.builder(b.info, new QueueScheduler());
        if (b.master != null) {
            cb.master(b.master);
        } else {
            cb.detector(b.detector);
        }
        b.clientOptions.accept(cb);
        // The queue relies on both: it answers offers only by launching, and needs lost launches back.
        cb.declineUnusedOffers(true).reconcileLaunchedTasks(true);
        this.client = cb.build();
        client.start();
    }

    /**
     * A queue for a new framework called {@code frameworkName}, whose tasks run as the agents'
     * user and keep running for 10 minutes while the queue is disconnected (a master failover).
     */
    public static Builder builder(String frameworkName) {
        return new Builder(FrameworkInfo.newBuilder()
                .setName(Objects.requireNonNull(frameworkName, "frameworkName"))
                .setFailoverTimeout(DEFAULT_FAILOVER_TIMEOUT_SECONDS)
                .build());
    }

    /** A queue for the framework {@code info} (for roles, user, capabilities, failover timeout). */
    public static Builder builder(FrameworkInfo info) {
        return new Builder(Objects.requireNonNull(info, "info"));
    }

    /**
     * Queues {@code spec}. The future completes with its history once an attempt finished or the
     * retry policy gave up (look at {@link TaskHistory#succeeded()}); it fails when the framework is
     * removed (a fatal error) or the queue is closed first.
     *
     * @throws IllegalArgumentException when a task of that name has not finished yet
     */
    public CompletableFuture<TaskHistory> submit(TaskSpec spec) {
        Objects.requireNonNull(spec, "spec");
        if (!unfinished.add(spec.name())) {
            throw new IllegalArgumentException("task " + spec.name() + " is already in the queue");
        }
        Run run = new Run(spec);
        client.execute(() -> enqueue(run));
        return run.done;
    }

    /**
     * Queues every spec; the future completes with their histories, in the same order, once all have
     * completed.
     *
     * @throws IllegalArgumentException when two specs share a name, or one is already in the queue
     */
    public CompletableFuture<List<TaskHistory>> submitAll(List<TaskSpec> specs) {
        List<CompletableFuture<TaskHistory>> each = specs.stream().map(this::submit).toList();
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                .thenApply(v -> each.stream().map(CompletableFuture::join).toList());
    }

    /** The framework id, once subscribed. */
    public Optional<FrameworkID> frameworkId() {
        return client.frameworkId();
    }

    /**
     * Tears the framework down (the master kills its tasks that still run and forgets it) and stops
     * the client. Futures not completed yet fail with {@link IllegalStateException}. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        client.execute(() -> failAll(new IllegalStateException("task queue closed")));
        client.teardown();
        client.close();
    }

    // ---------------------------------------------------------------------------------------
    // Client thread.
    // ---------------------------------------------------------------------------------------

    private void enqueue(Run run) {
        if (failure != null) {
            fail(run, failure);
            return;
        }
        runs.add(run);
        requeue(run);
    }

    /** Puts {@code run} in line for an offer, reviving offers if they were suppressed. */
    private void requeue(Run run) {
        waiting.add(run);
        if (suppressed) {
            suppressed = false;
            client.revive();
        }
    }

    private void failAll(Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
        runs.forEach(r -> fail(r, cause));
        runs.clear();
        waiting.clear();
        launched.clear();
    }

    private void fail(Run run, Throwable cause) {
        unfinished.remove(run.spec.name());
        run.done.completeExceptionally(cause);
    }

    private final class QueueScheduler implements Scheduler {

        @Override
        public void subscribed(SchedulerDriver driver, FrameworkID frameworkId, MasterInfo master) {
            LOG.info("Task queue {} subscribed with master {}: {} tasks waiting, {} launched", frameworkId.getValue(),
                    MasterConnection.address(master), waiting.size(),
                    launched.size());
        }

        @Override
        public void offers(SchedulerDriver driver, List<Offer> offers) {
            for (Offer offer : offers) {
                if (waiting.isEmpty()) {
                    break;
                }
                OfferPacker packer = OfferPacker.of(offer);
                for (Iterator<Run> it = waiting.iterator(); it.hasNext(); ) {
                    Run run = it.next();
                    Predicate<Offer> rule = run.spec.placement() != null ? run.spec.placement() : placement;
                    if (!rule.test(offer) || !packer.fits(run.spec.resources())) {
                        continue;
                    }
                    int attempt = attemptsByName.merge(run.spec.name(), 1, Integer::sum);
                    TaskID id = Ids.task(run.spec.name(), attempt);
                    packer.add(run.spec.taskInfo(id));
                    run.current = id;
                    run.agent = offer.getAgentId();
                    run.updates.clear();
                    launched.put(id.getValue(), run);
                    it.remove();
                }
                if (!packer.isEmpty()) {
                    driver.launch(offer.getId(), packer.tasks());
                }
            }
            if (waiting.isEmpty() && !suppressed) {
                suppressed = true;
                driver.suppress();
            }
        }

        @Override
        public void update(SchedulerDriver driver, TaskStatus status) {
            Run run = launched.get(status.getTaskId().getValue());
            if (run == null) {
                return; // an attempt that already ended, or not ours
            }
            run.updates.add(status);
            TaskState state = status.getState();
            if (!TaskStates.isTerminal(state) && state != TaskState.TASK_UNKNOWN) {
                return;
            }
            launched.remove(status.getTaskId().getValue());
            run.ended.add(new TaskHistory.Attempt(run.current, run.agent, run.updates));
            run.current = null;
            run.updates.clear();
            boolean neverRan = status.getReason() == StatusReason.REASON_INVALID_OFFERS
                    && (state == TaskState.TASK_DROPPED || state == TaskState.TASK_LOST);
            RetryPolicy policy = run.spec.retry() != null ? run.spec.retry() : retry;
            if (state != TaskState.TASK_FINISHED && (neverRan || policy.retries(state, run.retriesUsed))) {
                if (!neverRan) {
                    run.retriesUsed++;
                }
                LOG.info("Task {} ended {} ({}): running it again", status.getTaskId().getValue(), state,
                        status.getMessage());
                requeue(run);
                return;
            }
            runs.remove(run);
            unfinished.remove(run.spec.name());
            run.done.complete(run.history());
        }

        @Override
        public void error(SchedulerDriver driver, SchedulerError error) {
            if (error.fatal()) {
                failAll(new IllegalStateException("framework stopped: " + error));
            }
        }
    }

    /** Configures a {@link TaskQueue}. Exactly one of {@link #master} and {@link #detector}. */
    public static final class Builder {

        private final FrameworkInfo info;
        private String master;
        private MasterDetector detector;
        private RetryPolicy retry = RetryPolicy.none();
        private Predicate<Offer> placement = offer -> true;
        private Consumer<MezzoSchedulerClient.Builder> clientOptions = b -> {};

        private Builder(FrameworkInfo info) {
            this.info = info;
        }

        /** The master: {@code host:port}, or {@code zk://...} (see {@link MezzoSchedulerClient.Builder#master}). */
        public Builder master(String address) {
            this.master = Objects.requireNonNull(address, "address");
            return this;
        }

        /** Follows the leader {@code detector} names (the caller closes it after the queue). */
        public Builder detector(MasterDetector detector) {
            this.detector = Objects.requireNonNull(detector, "detector");
            return this;
        }

        /** The retry policy of specs without their own (default {@link RetryPolicy#none()}). */
        public Builder retry(RetryPolicy policy) {
            this.retry = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** Which offers specs without their own rule may run on (default any). Called on the client thread. */
        public Builder placement(Predicate<Offer> rule) {
            this.placement = Objects.requireNonNull(rule, "rule");
            return this;
        }

        /**
         * Further client options (backoff, heartbeats, fault handler, clock). {@code
         * declineUnusedOffers} and {@code reconcileLaunchedTasks} stay on: the queue relies on them.
         */
        public Builder client(Consumer<MezzoSchedulerClient.Builder> options) {
            this.clientOptions = Objects.requireNonNull(options, "options");
            return this;
        }

        /**
         * Builds the queue and starts its client: it subscribes at once and launches as offers come.
         *
         * @throws IllegalStateException when not exactly one of {@link #master} and {@link #detector} was given
         */
        public TaskQueue build() {
            if ((master == null) == (detector == null)) {
                throw new IllegalStateException("give the master with master(\"host:port\") or detector(...), once");
            }
            return new TaskQueue(this);
        }
    }
}
