package io.mezzo.scheduler;

import io.mezzo.common.clock.Clock;
import io.mezzo.common.clock.SystemClock;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.loop.FaultHandler;
import io.mezzo.common.loop.LoggingFaultHandler;
import io.mezzo.common.retry.Backoff;
import io.mezzo.common.security.BasicAuth;
import io.mezzo.common.security.Credential;
import io.mezzo.common.security.TlsContext;
import io.mezzo.common.security.TlsSettings;
import io.mezzo.ha.MasterDetector;
import io.mezzo.ha.MasterDetectors;
import io.mezzo.ha.StandaloneMasterDetector;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.KillPolicy;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskStatus;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The scheduler client: keeps one Subscribe stream to the leading master, delivers its events to a
 * {@link Scheduler} and sends the scheduler's calls.
 *
 * <pre>{@code
 * SchedulerDriver driver = MezzoSchedulerClient.builder(frameworkInfo, scheduler)
 *         .master("127.0.0.1:5050")
 *         .build();
 * driver.start();
 * ...
 * driver.close();
 * }</pre>
 *
 * <p><b>Role.</b> The public facade of the library: the builder, the driver calls and the
 * lifecycle. The connection itself (leader following, subscribe and resubscribe, backoff,
 * redirects, heartbeats, event delivery) is a package-private {@code Subscription}, which this
 * class creates and closes.
 *
 * <p><b>Threading.</b> All of the client's state is owned by one {@link EventLoop} thread named
 * {@code scheduler-client}, started by {@link Builder#build()} and stopped by {@link #close()}.
 * gRPC callbacks only enqueue what arrived; every {@link Scheduler} callback runs on the loop
 * thread, in event order. Calls ({@link #accept}, {@link #decline}, ...) may come from any thread:
 * they read the current subscription (published by the loop) and queue the call on its bounded
 * outbound stream. This class itself holds only immutable configuration and two start/close
 * flags.
 *
 * <p><b>Connection management.</b>
 *
 * <ol>
 *   <li>The first SUBSCRIBE carries the builder's {@code FrameworkInfo}; every later one carries
 *       the framework id the master assigned, so the master reattaches the framework's tasks.
 *   <li>When the stream ends, is dropped, or stays silent for {@code missedHeartbeats} heartbeat
 *       intervals, or the detector names another leader, the scheduler is told {@link
 *       Scheduler#disconnected} once and the client resubscribes after an exponential backoff. The
 *       master keeps the framework's tasks for {@code FrameworkInfo.failover_timeout} seconds.
 *   <li>A master that is not the leader answers UNAVAILABLE naming the leader in the {@code
 *       mezzo-leader} trailer; the next attempt goes there (at once the first time, after the
 *       backoff when redirects follow one another), whether the master was given as {@code
 *       host:port} or found through ZooKeeper, whose view may lag. Every failed attempt also asks
 *       the detector again; an attempt that fails without a hint goes to the leader it names now
 *       (with {@code host:port}: the configured address).
 *   <li>A SUBSCRIBED from a master whose epoch is older than the highest seen is refused.
 *   <li>Unless {@link Builder#reconcileLaunchedTasks} turns it off, the client tracks the tasks it
 *       launched until they end, and reconciles them explicitly after every (re)subscription.
 *   <li>The client stops for good on a fatal ERROR ({@link SchedulerError#fatal()}), after {@link
 *       #teardown()}, and on {@link #close()}.
 * </ol>
 *
 * <p><b>Master addresses.</b> {@link Builder#master} takes {@code host:port}, or a {@code
 * zk://host:port,.../path} URL when the framework also depends on {@code io.mezzo:mezzo-zk-ha}
 * (which brings Curator and ZooKeeper; without it a {@code zk://} address fails at once, naming
 * that dependency).
 */
public final class MezzoSchedulerClient implements SchedulerDriver {

    /** Name of the client's loop thread. */
    static final String THREAD_NAME = "scheduler-client";

    /** Heartbeat interval assumed until the master says otherwise. */
    static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(15);

    // Configuration; immutable.
    private final FrameworkInfo frameworkInfo;
    private final MasterDetector detector;
    private final boolean ownsDetector;
    private final Subscription subscription;

    // Any thread.
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();

    private MezzoSchedulerClient(Builder b) {
        this.frameworkInfo = b.frameworkInfo;
        this.detector = b.detector;
        this.ownsDetector = b.ownsDetector;
        this.subscription = new Subscription(
                b.frameworkInfo,
                b.scheduler,
                this,
                b.detector,
                b.autoAcknowledge,
                b.reconcileLaunchedTasks,
                b.declineUnusedOffers,
                new LaunchedTasks(),
                b.missedHeartbeats,
                new Backoff(b.backoffInitial, b.backoffMax, new Random()),
                b.clock,
                b.faultHandler);
        subscription.secure(TlsContext.of(b.tls), b.credential == null ? null : BasicAuth.callCredentials(b.credential));
    }

    /**
     * A builder for a client of the framework {@code frameworkInfo} (set its {@code id} to
     * resubscribe an existing framework, e.g. after the scheduler process restarted) that calls
     * {@code scheduler}.
     */
    public static Builder builder(FrameworkInfo frameworkInfo, Scheduler scheduler) {
        return new Builder(frameworkInfo, scheduler);
    }

    // ---------------------------------------------------------------------------------------
    // Lifecycle.
    // ---------------------------------------------------------------------------------------

    @Override
    public void start() {
        if (closed.get()) {
            throw new IllegalStateException("scheduler client is closed");
        }
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("scheduler client already started");
        }
        subscription.start();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        subscription.close();
        if (ownsDetector) {
            detector.close();
        }
    }

    // ---------------------------------------------------------------------------------------
    // Calls: any thread.
    // ---------------------------------------------------------------------------------------

    @Override
    public boolean accept(List<OfferID> offerIds, List<Offer.Operation> operations, Filters filters) {
        Objects.requireNonNull(offerIds, "offerIds");
        Objects.requireNonNull(operations, "operations");
        subscription.offersAnswered(offerIds);
        return subscription.sendAccept(operations, id -> Calls.accept(id, offerIds, operations, filters));
    }

    @Override
    public boolean launch(OfferID offerId, List<TaskInfo> tasks) {
        Objects.requireNonNull(offerId, "offerId");
        return launch(List.of(offerId), tasks);
    }

    @Override
    public boolean launch(List<OfferID> offerIds, List<TaskInfo> tasks) {
        return accept(offerIds, List.of(Calls.launch(tasks)), null);
    }

    @Override
    public boolean decline(List<OfferID> offerIds, Filters filters) {
        Objects.requireNonNull(offerIds, "offerIds");
        subscription.offersAnswered(offerIds);
        return subscription.send(Call.Type.DECLINE, id -> Calls.decline(id, offerIds, filters));
    }

    @Override
    public boolean revive(String... roles) {
        Objects.requireNonNull(roles, "roles");
        return subscription.updateSuppression(false, roles.clone());
    }

    @Override
    public boolean suppress(String... roles) {
        Objects.requireNonNull(roles, "roles");
        return subscription.updateSuppression(true, roles.clone());
    }

    @Override
    public boolean kill(TaskID taskId, AgentID agentId, KillPolicy killPolicy) {
        Objects.requireNonNull(taskId, "taskId");
        return subscription.send(Call.Type.KILL, id -> Calls.kill(id, taskId, agentId, killPolicy));
    }

    @Override
    public boolean acknowledge(TaskStatus status) {
        Objects.requireNonNull(status, "status");
        if (status.getUuid().isEmpty()) {
            return true;
        }
        return subscription.send(Call.Type.ACKNOWLEDGE, id -> Calls.acknowledge(id, status));
    }

    @Override
    public boolean reconcile(List<Call.Reconcile.Task> tasks) {
        Objects.requireNonNull(tasks, "tasks");
        return subscription.send(Call.Type.RECONCILE, id -> Calls.reconcile(id, tasks));
    }

    @Override
    public boolean message(AgentID agentId, ExecutorID executorId, byte[] data) {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(executorId, "executorId");
        Objects.requireNonNull(data, "data");
        return subscription.send(Call.Type.MESSAGE, id -> Calls.message(id, agentId, executorId, data));
    }

    @Override
    public boolean teardown() {
        boolean sent = subscription.send(Call.Type.TEARDOWN, Calls::teardown);
        if (sent) {
            subscription.stopForGoodSoon("framework torn down by the scheduler");
        }
        return sent;
    }

    @Override
    public Optional<FrameworkID> frameworkId() {
        return subscription.frameworkId();
    }

    @Override
    public boolean isSubscribed() {
        return subscription.isSubscribed();
    }

    @Override
    public String toString() {
        return "MezzoSchedulerClient[" + subscription.idText() + " '" + frameworkInfo.getName() + "']";
    }

    /**
     * Runs {@code event} on the client's thread, in order with the callbacks: at once when called
     * from a callback, else as the next event. For layers built on the client ({@link TaskQueue}).
     */
    void execute(Runnable event) {
        subscription.execute(event);
    }

    /** Completes once the loop has handled everything enqueued and fired due timers. For tests. */
    CompletableFuture<Void> barrier() {
        return subscription.barrier();
    }

    /** Events received from masters so far, read on the loop. For tests. */
    CompletableFuture<Long> eventsReceived() {
        return subscription.eventsReceived();
    }

    /** The lifecycle state, read on the loop. For tests. */
    CompletableFuture<ClientState> state() {
        return subscription.state();
    }

    /** How many launched tasks are tracked for reconciliation, read on the loop. For tests. */
    CompletableFuture<Integer> launchedTasksTracked() {
        return subscription.launchedTasksTracked();
    }

    /**
     * Configures a {@link MezzoSchedulerClient}. Exactly one of {@link #master} and {@link #detector}
     * must be given.
     */
    public static final class Builder {

        private final FrameworkInfo frameworkInfo;
        private final Scheduler scheduler;
        private MasterDetector detector;
        private boolean ownsDetector;
        private boolean autoAcknowledge = true;
        private boolean reconcileLaunchedTasks = true;
        private boolean declineUnusedOffers = true;
        private Clock clock = SystemClock.INSTANCE;
        private FaultHandler faultHandler = LoggingFaultHandler.INSTANCE;
        private Duration backoffInitial = Duration.ofSeconds(1);
        private Duration backoffMax = Duration.ofSeconds(30);
        private int missedHeartbeats = 5;
        private TlsSettings tls = TlsSettings.NONE;
        private Credential credential;

        private Builder(FrameworkInfo frameworkInfo, Scheduler scheduler) {
            this.frameworkInfo = Objects.requireNonNull(frameworkInfo, "frameworkInfo");
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        }

        /**
         * The master's {@code host:port}. Its "mezzo-leader" hints are followed when it is not the
         * leader.
         *
         * <p>Also takes {@code zk://[user:password@]host:port,.../path}, to follow the leader elected
         * in ZooKeeper; that needs the dependency {@code io.mezzo:mezzo-zk-ha} (Curator and
         * ZooKeeper), which this library does not bring by itself.
         *
         * @throws IllegalArgumentException when the address is not {@code host:port} (or a valid
         *     {@code zk://} URL)
         * @throws IllegalStateException for a {@code zk://} URL when Curator and ZooKeeper are not on
         *     the class path; the message names the dependency to add
         */
        public Builder master(String hostPort) {
            requireNoDetector();
            this.detector = MasterDetectors.fromAddress(hostPort);
            this.ownsDetector = true;
            return this;
        }

        /**
         * As {@link #master(String)}; a {@code zk://} address is followed over TLS to ZooKeeper with
         * {@code zkTls} ({@code mezzo run --zk_tls}): its CA verifies the ZooKeeper servers, its
         * certificate, if any, is presented to them. {@link TlsSettings#NONE} is plaintext.
         *
         * @throws IllegalArgumentException as {@link #master(String)}, or when TLS is asked for a
         *     {@code host:port} address
         */
        public Builder master(String address, TlsSettings zkTls) {
            requireNoDetector();
            this.detector = MasterDetectors.fromAddress(address, zkTls);
            this.ownsDetector = true;
            return this;
        }

        /**
         * Follows the leader that {@code detector} names. The caller owns the detector and closes
         * it after the client. Leader hints are followed as with {@link #master}; {@link
         * StandaloneMasterDetector} names one fixed master.
         */
        public Builder detector(MasterDetector detector) {
            requireNoDetector();
            this.detector = Objects.requireNonNull(detector, "detector");
            this.ownsDetector = false;
            return this;
        }

        /**
         * Whether the client acknowledges status updates after {@link Scheduler#update} returns
         * normally (default true). With false, the scheduler calls {@link
         * SchedulerDriver#acknowledge}.
         */
        public Builder autoAcknowledge(boolean autoAcknowledge) {
            this.autoAcknowledge = autoAcknowledge;
            return this;
        }

        /**
         * Whether the client reconciles the tasks it launched (default true). With true, every task
         * launched through {@link SchedulerDriver#accept} or {@link SchedulerDriver#launch} is
         * tracked until an update says it ended (a terminal state, or TASK_UNKNOWN), and after every
         * subscription and resubscription the client sends an explicit RECONCILE naming the tracked
         * tasks and their agents, before {@link Scheduler#subscribed} is called. The answers arrive
         * as ordinary {@link Scheduler#update} calls: so a launch the master never acted on (its
         * leader died first) comes back as TASK_UNKNOWN, or TASK_LOST without PARTITION_AWARE,
         * instead of silence. Large numbers go in calls of 1,000 tasks, each sent once the previous
         * one is answered; memory is one entry per launched task that has not ended.
         *
         * <p>Turn it off for a framework that keeps its own records of its tasks and reconciles
         * them itself from {@link Scheduler#subscribed}.
         */
        public Builder reconcileLaunchedTasks(boolean reconcile) {
            this.reconcileLaunchedTasks = reconcile;
            return this;
        }

        /**
         * Whether the client declines the offers a {@link Scheduler#offers} callback left alone
         * (default true). With true, when the callback returns, every offer of that call that was
         * neither used ({@link SchedulerDriver#accept}, {@link SchedulerDriver#launch}) nor
         * declined during it is declined in one DECLINE, with the master's default filter (5 s):
         * an offer nobody answers would keep its resources from every framework until the master
         * rescinds it.
         *
         * <p>Turn it off for a scheduler that holds offers past the callback (to combine them
         * later, or to answer them from another thread); it must then answer every offer itself.
         */
        public Builder declineUnusedOffers(boolean decline) {
            this.declineUnusedOffers = decline;
            return this;
        }

        /** The source of time for heartbeats and backoff (default the system clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Reconnection delays: exponential from {@code initial} up to {@code max}, with jitter
         * (default 1 s to 30 s). Reset once subscribed.
         */
        public Builder reconnectBackoff(Duration initial, Duration max) {
            Objects.requireNonNull(initial, "initial");
            Objects.requireNonNull(max, "max");
            if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("reconnect backoff needs 0 < initial <= max, got "
                        + initial + " and " + max);
            }
            this.backoffInitial = initial;
            this.backoffMax = max;
            return this;
        }

        /**
         * How many heartbeat intervals may pass without any event before the client counts the
         * stream as dead and reconnects (default 5). Until SUBSCRIBED, the interval is taken as 15 s.
         */
        public Builder missedHeartbeats(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("missedHeartbeats must be at least 1, got " + n);
            }
            this.missedHeartbeats = n;
            return this;
        }

        /**
         * Receives exceptions thrown by {@link Scheduler} callbacks and broken invariants of the
         * client (default: logged at ERROR).
         */
        public Builder faultHandler(FaultHandler faultHandler) {
            this.faultHandler = Objects.requireNonNull(faultHandler, "faultHandler");
            return this;
        }

        /**
         * Builds the client and starts its loop thread (but does not connect: see {@link
         * SchedulerDriver#start()}). Close the client to stop the thread.
         *
         * @throws IllegalStateException when neither {@link #master} nor {@link #detector} was
         *     given
         */
        /**
         * Reaches the masters over TLS: {@code tls.ca()} verifies the masters' certificates (the
         * address dialed must be in a master's certificate), and {@code tls.cert()} / {@code key()},
         * when given, are the framework's client certificate (mutual TLS; its common name is the
         * framework's principal). Default: plaintext. See docs/security.md.
         */
        public Builder tls(TlsSettings tls) {
            this.tls = tls == null ? TlsSettings.NONE : tls;
            return this;
        }

        /**
         * Authenticates as {@code credential}'s principal (Mesos {@code --credential}); the
         * framework's {@code principal} must then be that one or empty. Send it only over TLS.
         * Default: none.
         */
        public Builder credential(Credential credential) {
            this.credential = credential;
            return this;
        }

        public MezzoSchedulerClient build() {
            if (detector == null) {
                throw new IllegalStateException("give the master with master(\"host:port\") or detector(...)");
            }
            return new MezzoSchedulerClient(this);
        }

        private void requireNoDetector() {
            if (detector != null) {
                throw new IllegalStateException("the master is already set; give master(...) or detector(...) once");
            }
        }
    }
}
