package io.mezzo.scheduler;

import io.grpc.ManagedChannel;
import io.mezzo.common.clock.Clock;
import io.mezzo.common.clock.SystemClock;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.loop.FaultHandler;
import io.mezzo.common.loop.LoggingFaultHandler;
import io.mezzo.common.retry.Backoff;
import io.mezzo.ha.MasterDetector;
import io.mezzo.ha.MasterDetectors;
import io.mezzo.ha.StandaloneMasterDetector;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.KillPolicy;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.slf4j.event.Level;

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
 * <p><b>Threading.</b> All of the client's state is owned by one {@link EventLoop} thread named
 * {@code scheduler-client}, started by {@link Builder#build()} and stopped by {@link #close()}.
 * gRPC callbacks only enqueue what arrived; every {@link Scheduler} callback runs on the loop
 * thread, in event order. Calls ({@link #accept}, {@link #decline}, ...) may come from any thread:
 * they read the current subscription (published by the loop) and queue the call on its bounded
 * outbound stream.
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
 *   <li>With a standalone master address, a master that is not the leader answers UNAVAILABLE
 *       naming the leader in the {@code mezzo-leader} trailer; the next attempt goes there (at once
 *       the first time, after the backoff when redirects follow one another). An attempt that fails
 *       without a hint goes back to the configured address.
 *   <li>A SUBSCRIBED from a master whose epoch is older than the highest seen is refused.
 *   <li>The client stops for good on a fatal ERROR ({@link SchedulerError#fatal()}), after {@link
 *       #teardown()}, and on {@link #close()}.
 * </ol>
 */
public final class MezzoSchedulerClient implements SchedulerDriver {

    private static final Logger LOG = LoggerFactory.getLogger(MezzoSchedulerClient.class);

    /** Name of the client's loop thread. */
    static final String THREAD_NAME = "scheduler-client";

    /** Heartbeat interval assumed until the master says otherwise. */
    static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(15);

    private static final double MAX_HEARTBEAT_SECONDS = 3600;
    private static final String RECONNECT_TIMER = "reconnect";
    private static final String WATCHDOG_TIMER = "heartbeat-watchdog";
    private static final String MDC_FRAMEWORK = "framework";
    private static final String MDC_TASK = "task";
    private static final long CLOSE_WAIT_SECONDS = 2;

    /** What a call sees of the subscription: published by the loop, read by any thread. */
    private record Session(FrameworkID frameworkId, MasterConnection connection) {}

    // Configuration; immutable.
    private final FrameworkInfo frameworkInfo;
    private final Scheduler scheduler;
    private final MasterDetector detector;
    private final boolean ownsDetector;
    private final boolean followLeaderHints;
    private final boolean autoAcknowledge;
    private final int missedHeartbeats;
    private final FaultHandler faultHandler;
    private final EventLoop loop;

    // Written by the loop, read by any thread.
    private volatile Session session;
    private volatile FrameworkID frameworkId;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();

    // Loop thread only.
    private ClientState state = ClientState.NEW;
    private final Backoff backoff;
    private MasterConnection connection;
    private long connectionSerial;
    private final List<ManagedChannel> channels = new ArrayList<>();
    private Optional<MasterInfo> leader = Optional.empty();
    private MasterInfo redirect;
    private int redirectsInARow;
    private long highestEpoch;
    private Duration heartbeatInterval = DEFAULT_HEARTBEAT;
    private boolean schedulerSubscribed;
    private long eventsReceived;

    private MezzoSchedulerClient(Builder b) {
        this.frameworkInfo = b.frameworkInfo;
        this.scheduler = b.scheduler;
        this.detector = b.detector;
        this.ownsDetector = b.ownsDetector;
        this.followLeaderHints = b.detector instanceof StandaloneMasterDetector;
        this.autoAcknowledge = b.autoAcknowledge;
        this.missedHeartbeats = b.missedHeartbeats;
        this.faultHandler = b.faultHandler;
        this.backoff = new Backoff(b.backoffInitial, b.backoffMax, new Random());
        FrameworkID given = frameworkInfo.getId();
        this.frameworkId = given.getValue().isEmpty() ? null : given;
        this.loop = new EventLoop(THREAD_NAME, b.clock, b.faultHandler);
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
        enqueue(this::onStart);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (loop.inLoopThread()) {
            // Called from a callback: stop now, and let the channels terminate on their own.
            stopForGood(Level.INFO, "client closed");
            loop.close();
        } else {
            List<ManagedChannel> toAwait = List.of();
            try {
                toAwait = loop.call(() -> {
                            setMdc();
                            stopForGood(Level.INFO, "client closed");
                            return List.copyOf(channels);
                        })
                        .get(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                LOG.warn("Closing scheduler client: loop did not stop the stream within {} s ({})",
                        CLOSE_WAIT_SECONDS, e.toString());
            }
            loop.close();
            awaitTermination(toAwait);
        }
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
        return send(Call.Type.ACCEPT, id -> Calls.accept(id, offerIds, operations, filters));
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
        return send(Call.Type.DECLINE, id -> Calls.decline(id, offerIds, filters));
    }

    @Override
    public boolean revive(String... roles) {
        Objects.requireNonNull(roles, "roles");
        return send(Call.Type.REVIVE, id -> Calls.revive(id, roles));
    }

    @Override
    public boolean suppress(String... roles) {
        Objects.requireNonNull(roles, "roles");
        return send(Call.Type.SUPPRESS, id -> Calls.suppress(id, roles));
    }

    @Override
    public boolean kill(TaskID taskId, AgentID agentId, KillPolicy killPolicy) {
        Objects.requireNonNull(taskId, "taskId");
        return send(Call.Type.KILL, id -> Calls.kill(id, taskId, agentId, killPolicy));
    }

    @Override
    public boolean acknowledge(TaskStatus status) {
        Objects.requireNonNull(status, "status");
        if (status.getUuid().isEmpty()) {
            return true;
        }
        return send(Call.Type.ACKNOWLEDGE, id -> Calls.acknowledge(id, status));
    }

    @Override
    public boolean reconcile(List<Call.Reconcile.Task> tasks) {
        Objects.requireNonNull(tasks, "tasks");
        return send(Call.Type.RECONCILE, id -> Calls.reconcile(id, tasks));
    }

    @Override
    public boolean message(AgentID agentId, ExecutorID executorId, byte[] data) {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(executorId, "executorId");
        Objects.requireNonNull(data, "data");
        return send(Call.Type.MESSAGE, id -> Calls.message(id, agentId, executorId, data));
    }

    @Override
    public boolean teardown() {
        boolean sent = send(Call.Type.TEARDOWN, Calls::teardown);
        if (sent) {
            onLoop(() -> stopForGood(Level.INFO, "framework torn down by the scheduler"));
        }
        return sent;
    }

    @Override
    public Optional<FrameworkID> frameworkId() {
        return Optional.ofNullable(frameworkId);
    }

    @Override
    public boolean isSubscribed() {
        return session != null;
    }

    @Override
    public String toString() {
        return "MezzoSchedulerClient[" + idText() + " '" + frameworkInfo.getName() + "']";
    }

    /** Completes once the loop has handled everything enqueued and fired due timers. For tests. */
    CompletableFuture<Void> barrier() {
        return loop.barrier();
    }

    /** Events received from masters so far, read on the loop. For tests. */
    CompletableFuture<Long> eventsReceived() {
        return loop.call(() -> eventsReceived);
    }

    /** The lifecycle state, read on the loop. For tests. */
    CompletableFuture<ClientState> state() {
        return loop.call(() -> state);
    }

    private boolean send(Call.Type type, Function<FrameworkID, Call> build) {
        Session s = session;
        if (s == null) {
            LOG.warn("Did not send {} for framework {}: not subscribed", type, idText());
            return false;
        }
        if (!s.connection().send(build.apply(s.frameworkId()))) {
            LOG.warn("Did not send {} for framework {}: stream to master {} is closed",
                    type, s.frameworkId().getValue(), s.connection().address());
            return false;
        }
        LOG.debug("Sent {} for framework {}", type, s.frameworkId().getValue());
        return true;
    }

    // ---------------------------------------------------------------------------------------
    // Loop thread.
    // ---------------------------------------------------------------------------------------

    private final MasterConnection.Listener edge = new MasterConnection.Listener() {
        @Override
        public void onEvent(MasterConnection c, Event event) {
            enqueue(() -> handleEvent(c, event));
        }

        @Override
        public void onEnded(MasterConnection c, String reason, String leaderHint) {
            enqueue(() -> handleEnded(c, reason, leaderHint));
        }
    };

    private void enqueue(Runnable event) {
        loop.append(() -> {
            setMdc();
            event.run();
        });
    }

    private void onLoop(Runnable event) {
        if (loop.inLoopThread()) {
            event.run();
        } else {
            enqueue(event);
        }
    }

    private void setMdc() {
        FrameworkID id = frameworkId;
        if (id != null) {
            MDC.put(MDC_FRAMEWORK, id.getValue());
        }
    }

    private void onStart() {
        if (state != ClientState.NEW) {
            return;
        }
        LOG.info("Starting scheduler client for framework '{}' {} with {}",
                frameworkInfo.getName(), idText(), detector);
        detector.addListener(l -> enqueue(() -> handleLeader(l)));
    }

    private void handleLeader(Optional<MasterInfo> detected) {
        leader = detected;
        switch (state) {
            case NEW -> connect();
            case NO_LEADER -> {
                if (detected.isPresent()) {
                    connect();
                }
            }
            case BACKING_OFF -> {
                if (detected.isEmpty()) {
                    loop.cancel(RECONNECT_TIMER);
                    moveTo(ClientState.NO_LEADER);
                    LOG.info("No leading master detected; waiting for one");
                }
                // Otherwise the pending reconnect goes to the new leader.
            }
            case CONNECTING, SUBSCRIBED -> {
                String current = connection.address();
                if (detected.isPresent() && MasterConnection.address(detected.get()).equals(current)) {
                    return;
                }
                String reason = "leading master changed to "
                        + detected.map(MasterConnection::address).orElse("none");
                connection.abort(reason);
                disconnect(reason, backoff.next());
            }
            case STOPPED -> {
                // Nothing to follow any more.
            }
        }
    }

    /** Opens a stream to the redirect target or the leader and subscribes. */
    private void connect() {
        MasterInfo target = redirect != null ? redirect : leader.orElse(null);
        redirect = null;
        if (target == null) {
            if (state != ClientState.NO_LEADER) {
                moveTo(ClientState.NO_LEADER);
                LOG.info("No leading master detected; waiting for one");
            }
            return;
        }
        if (!moveTo(ClientState.CONNECTING)) {
            return;
        }
        channels.removeIf(ManagedChannel::isTerminated);
        FrameworkInfo info = frameworkId == null
                ? frameworkInfo
                : frameworkInfo.toBuilder().setId(frameworkId).build();
        connection = MasterConnection.open(++connectionSerial, target, edge);
        channels.add(connection.channel());
        LOG.info("Subscribing framework '{}' {} with master {} (attempt {})",
                frameworkInfo.getName(), idText(), connection.address(), backoff.attempts() + 1);
        connection.send(Calls.subscribe(info));
        armWatchdog();
    }

    private void handleEvent(MasterConnection c, Event event) {
        if (c != connection || !state.hasStream()) {
            return;
        }
        eventsReceived++;
        try {
            armWatchdog();
            if (state == ClientState.CONNECTING
                    && event.getType() != Event.Type.SUBSCRIBED
                    && event.getType() != Event.Type.ERROR
                    && event.getType() != Event.Type.HEARTBEAT) {
                LOG.warn("Ignored {} from master {} before SUBSCRIBED", event.getType(), c.address());
                return;
            }
            switch (event.getType()) {
                case SUBSCRIBED -> onSubscribed(c, event.getSubscribed());
                case OFFERS -> {
                    List<Offer> offers = event.getOffers().getOffersList();
                    LOG.debug("Received {} offers", offers.size());
                    invoke("offers", () -> scheduler.offers(this, offers));
                }
                case RESCIND -> {
                    OfferID offerId = event.getRescind().getOfferId();
                    LOG.debug("Offer {} rescinded", offerId.getValue());
                    invoke("rescinded", () -> scheduler.rescinded(this, offerId));
                }
                case UPDATE -> onUpdate(event.getUpdate().getStatus());
                case MESSAGE -> {
                    Event.Message m = event.getMessage();
                    LOG.debug("Message from executor {} on agent {} ({} bytes)",
                            m.getExecutorId().getValue(), m.getAgentId().getValue(), m.getData().size());
                    invoke("message", () -> scheduler.message(
                            this, m.getAgentId(), m.getExecutorId(), m.getData().toByteArray()));
                }
                case FAILURE -> {
                    Event.Failure f = event.getFailure();
                    ExecutorID executorId = f.hasExecutorId() && !f.getExecutorId().getValue().isEmpty()
                            ? f.getExecutorId()
                            : null;
                    Integer status = f.hasStatus() ? f.getStatus() : null;
                    LOG.info("Failure of agent {} executor {} status {}",
                            f.getAgentId().getValue(), executorId == null ? "-" : executorId.getValue(), status);
                    invoke("failure", () -> scheduler.failure(this, f.getAgentId(), executorId, status));
                }
                case ERROR -> onError(SchedulerError.of(event.getError()));
                case HEARTBEAT -> LOG.debug("Heartbeat from master {}", c.address());
                default -> LOG.debug("Ignored event of type {} from master {}", event.getType(), c.address());
            }
        } finally {
            if (c == connection && state.hasStream()) {
                c.requestNext();
            }
        }
    }

    private void onSubscribed(MasterConnection c, Event.Subscribed subscribed) {
        if (state == ClientState.SUBSCRIBED) {
            LOG.warn("Ignored a second SUBSCRIBED from master {}", c.address());
            return;
        }
        MasterInfo master = subscribed.getMasterInfo();
        if (master.getEpoch() < highestEpoch) {
            LOG.warn("Refused SUBSCRIBED from master {}: its epoch {} is older than epoch {} already seen",
                    c.address(), master.getEpoch(), highestEpoch);
            c.abort("stale master epoch");
            disconnect("stale master epoch", backoff.next());
            return;
        }
        if (subscribed.getFrameworkId().getValue().isEmpty()) {
            LOG.warn("Refused SUBSCRIBED from master {}: it carries no framework id", c.address());
            c.abort("SUBSCRIBED without framework id");
            disconnect("SUBSCRIBED without framework id", backoff.next());
            return;
        }
        highestEpoch = Math.max(highestEpoch, master.getEpoch());
        FrameworkID id = subscribed.getFrameworkId();
        if (frameworkId != null && !frameworkId.equals(id)) {
            LOG.warn("Master {} assigned framework id {} instead of {}",
                    c.address(), id.getValue(), frameworkId.getValue());
        }
        frameworkId = id;
        setMdc();
        double seconds = subscribed.getHeartbeatIntervalSeconds();
        // A missing or absurd interval falls back to the default rather than disabling the watchdog.
        heartbeatInterval = seconds > 0 && seconds <= MAX_HEARTBEAT_SECONDS
                ? Duration.ofMillis(Math.max(1, Math.round(seconds * 1000)))
                : DEFAULT_HEARTBEAT;
        backoff.reset();
        redirectsInARow = 0;
        moveTo(ClientState.SUBSCRIBED);
        session = new Session(id, c);
        schedulerSubscribed = true;
        armWatchdog();
        LOG.info("Subscribed framework {} with master {} (epoch {}, heartbeat every {} ms)",
                id.getValue(), c.address(), master.getEpoch(), heartbeatInterval.toMillis());
        invoke("subscribed", () -> scheduler.subscribed(this, id, master));
    }

    private void onUpdate(TaskStatus status) {
        MDC.put(MDC_TASK, status.getTaskId().getValue());
        LOG.debug("Update for task {}: {} from {} ({})",
                status.getTaskId().getValue(), status.getState(), status.getSource(), status.getReason());
        try {
            boolean handled = invoke("update", () -> scheduler.update(this, status));
            // Skip quietly when the scheduler stopped the client (teardown, close) in the callback.
            if (handled && autoAcknowledge && !status.getUuid().isEmpty() && session != null) {
                acknowledge(status);
            }
        } finally {
            MDC.remove(MDC_TASK);
        }
    }

    private void onError(SchedulerError error) {
        if (!error.fatal()) {
            LOG.warn("Master refused a call of framework {}: {}", idText(), error);
            invoke("error", () -> scheduler.error(this, error));
            return;
        }
        stopForGood(Level.WARN, error.toString());
        invoke("error", () -> scheduler.error(this, error));
    }

    private void handleEnded(MasterConnection c, String reason, String leaderHint) {
        if (c != connection || !state.hasStream()) {
            return;
        }
        c.ended();
        MasterInfo hinted = followLeaderHints && leaderHint != null ? parseHint(leaderHint) : null;
        if (hinted != null && !MasterConnection.address(hinted).equals(c.address())) {
            redirect = hinted;
            redirectsInARow++;
            // Go at once the first time; a chain of redirects waits like any other retry.
            disconnect(reason + ", not the leader: following its hint to " + MasterConnection.address(hinted),
                    redirectsInARow == 1 ? Duration.ZERO : backoff.next());
        } else {
            redirectsInARow = 0;
            disconnect(reason, backoff.next());
        }
    }

    private MasterInfo parseHint(String hint) {
        try (MasterDetector parsed = MasterDetectors.fromAddress(hint)) {
            return parsed.leader().orElse(null);
        } catch (IllegalArgumentException e) {
            LOG.warn("Ignored leader hint '{}': {}", hint, e.getMessage());
            return null;
        }
    }

    private void onWatchdog(long serial) {
        if (connection == null || connection.serial() != serial || !state.hasStream()) {
            return;
        }
        String reason = "no event for " + heartbeatInterval.multipliedBy(missedHeartbeats).toMillis()
                + " ms (" + missedHeartbeats + " heartbeat intervals)";
        connection.abort("missed heartbeats");
        redirectsInARow = 0;
        disconnect(reason, backoff.next());
    }

    /**
     * The stream is over (already ended or aborted by the caller): forget it, tell the scheduler if
     * it was subscribed, and schedule the next attempt after {@code delay}.
     */
    private void disconnect(String reason, Duration delay) {
        boolean tell = schedulerSubscribed;
        String from = connection == null ? "-" : connection.address();
        session = null;
        schedulerSubscribed = false;
        connection = null;
        loop.cancel(WATCHDOG_TIMER);
        if (leader.isEmpty() && redirect == null) {
            moveTo(ClientState.NO_LEADER);
            LOG.info("Disconnected framework {} from master {}: {}; waiting for a leading master",
                    idText(), from, reason);
        } else {
            moveTo(ClientState.BACKING_OFF);
            loop.schedule(RECONNECT_TIMER, delay, this::onReconnectTimer);
            String next = MasterConnection.address(redirect != null ? redirect : leader.get());
            LOG.info("Disconnected framework {} from master {}: {}; reconnecting to {} in {} ms",
                    idText(), from, reason, next, delay.toMillis());
        }
        if (tell) {
            invoke("disconnected", () -> scheduler.disconnected(this));
        }
    }

    private void onReconnectTimer() {
        setMdc();
        if (state == ClientState.BACKING_OFF) {
            connect();
        }
    }

    private void armWatchdog() {
        long serial = connection.serial();
        loop.schedule(WATCHDOG_TIMER, heartbeatInterval.multipliedBy(missedHeartbeats), () -> {
            setMdc();
            onWatchdog(serial);
        });
    }

    /** Enters STOPPED: no more calls, callbacks or reconnections. */
    private void stopForGood(Level level, String reason) {
        if (state == ClientState.STOPPED) {
            return;
        }
        moveTo(ClientState.STOPPED);
        session = null;
        schedulerSubscribed = false;
        loop.cancel(RECONNECT_TIMER);
        loop.cancel(WATCHDOG_TIMER);
        if (connection != null) {
            connection.finish();
        }
        LOG.atLevel(level).log("Stopped scheduler client of framework {} for good: {}", idText(), reason);
    }

    private boolean moveTo(ClientState next) {
        if (!state.canMoveTo(next)) {
            faultHandler.handleFault(
                    "scheduler client of framework " + idText() + " cannot move from " + state + " to " + next,
                    new IllegalStateException(state + " -> " + next));
            return false;
        }
        state = next;
        return true;
    }

    /** Runs a scheduler callback; a throwing one goes to the fault handler. */
    private boolean invoke(String callback, Runnable call) {
        try {
            call.run();
            return true;
        } catch (RuntimeException e) {
            faultHandler.handleFault("Scheduler." + callback + " of framework " + idText() + " threw", e);
            return false;
        }
    }

    private String idText() {
        FrameworkID id = frameworkId;
        return id == null ? "(new)" : id.getValue();
    }

    private static void awaitTermination(List<ManagedChannel> channels) {
        try {
            for (ManagedChannel channel : channels) {
                if (!channel.awaitTermination(1, TimeUnit.SECONDS)) {
                    channel.shutdownNow();
                    if (!channel.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                        LOG.warn("Channel {} did not terminate within {} s", channel, CLOSE_WAIT_SECONDS);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            channels.forEach(ManagedChannel::shutdownNow);
        }
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
        private Clock clock = SystemClock.INSTANCE;
        private FaultHandler faultHandler = LoggingFaultHandler.INSTANCE;
        private Duration backoffInitial = Duration.ofSeconds(1);
        private Duration backoffMax = Duration.ofSeconds(30);
        private int missedHeartbeats = 5;

        private Builder(FrameworkInfo frameworkInfo, Scheduler scheduler) {
            this.frameworkInfo = Objects.requireNonNull(frameworkInfo, "frameworkInfo");
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        }

        /**
         * The master's {@code host:port}. Its "mezzo-leader" hints are followed when it is not the
         * leader.
         *
         * @throws IllegalArgumentException when the address is not {@code host:port}
         */
        public Builder master(String hostPort) {
            requireNoDetector();
            this.detector = MasterDetectors.fromAddress(hostPort);
            this.ownsDetector = true;
            return this;
        }

        /**
         * Follows the leader that {@code detector} names. The caller owns the detector and closes
         * it after the client. With a {@link StandaloneMasterDetector}, leader hints are followed as
         * with {@link #master}.
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
