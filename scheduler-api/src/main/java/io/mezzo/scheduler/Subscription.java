package io.mezzo.scheduler;

import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.mezzo.common.clock.Clock;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.loop.FaultHandler;
import io.mezzo.common.retry.Backoff;
import io.mezzo.common.security.TlsContext;
import io.mezzo.ha.LeaderHints;
import io.mezzo.ha.MasterDetector;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.slf4j.event.Level;

/**
 * The framework's subscription to the leading master, kept alive across disconnections and
 * failovers: the reconnect and subscribe state machine behind {@link MezzoSchedulerClient}. It
 * decides which master to talk to and when, opens a {@link MasterConnection} per attempt, watches
 * heartbeats, and hands the events of the current stream to {@link Callbacks}.
 *
 * <p><b>Thread.</b> It owns the client's {@link EventLoop} (thread {@code scheduler-client}) and
 * all of its fields are written on that thread only. The edges only append: {@link
 * MasterConnection}'s observer (gRPC transport threads) and the {@link MasterDetector} listener
 * (the detector's thread). Two fields are published for other threads: {@code session}, which
 * {@link #send} reads to put a driver call on the current stream, and {@code frameworkId}.
 *
 * <p><b>Owner.</b> Created by {@link MezzoSchedulerClient} with its configuration and closed by
 * {@link MezzoSchedulerClient#close()}; one per client, never reused.
 *
 * <pre>
 *  edges: append only              loop thread (scheduler-client)                 any thread
 *  ------------------              ------------------------------                 ----------
 *  detector listener ─► handleLeader ─┐
 *  MasterConnection  ─► handleEvent ──┼─► ClientState ──► Callbacks ──► Scheduler callbacks
 *    (onNext, onError,  handleEnded ──┤   machine                      (auto-ACK after update)
 *     onCompleted)                    │      │
 *  timer reconnect ───► connect ──────┤      └─► publishes Session ───► send(): a driver call goes
 *  timer heartbeat-watchdog ► onWatchdog         (id + stream)          on the bounded stream
 * </pre>
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>Every connection attempt gets a fresh {@link MasterConnection} (channel and call); events
 *       and endings from an older one are ignored.
 *   <li>{@code session} is non-null exactly while the state is SUBSCRIBED, so a driver call either
 *       goes onto the current stream or is refused with {@code false} and one WARN line.
 *   <li>{@link Scheduler#disconnected} is called once per subscription that was reported with
 *       {@link Scheduler#subscribed}, never for failed attempts in between.
 *   <li>A resubscription carries {@code FrameworkInfo.id} = the id from the last SUBSCRIBED.
 *   <li>The backoff is reset by SUBSCRIBED; the first failed stream after it is retried at once,
 *       later ones after the backoff. A detector naming a new leader is followed at once,
 *       even while backing off. A redirect (UNAVAILABLE with a {@code mezzo-leader}
 *       trailer, whatever the detector) is followed at once the first time, after the backoff when
 *       redirects follow one another. Every ended attempt asks the detector again for the leader
 *       (re-detect); a failure without a hint goes to the leader it names now (a standalone
 *       detector: the configured master). While a stream to a hinted master is open, only a
 *       detector naming a <em>different</em> leader moves the client. A hint is {@code host:port};
 *       any other (a {@code zk://} URL included) is ignored.
 *   <li>A SUBSCRIBED from a master with an older epoch than the highest seen is refused.
 *   <li>FRAMEWORK_REMOVED, FRAMEWORK_FAILED_OVER, a refused SUBSCRIBE, teardown and close move to
 *       STOPPED, which is terminal: no call, callback or reconnection after it. Illegal state moves
 *       go to the fault handler.
 *   <li>Unless turned off, every task launched through {@link #sendAccept} is tracked in {@link
 *       LaunchedTasks} until an update says it ended, and every SUBSCRIBED starts an explicit
 *       reconciliation of the tracked tasks on the new stream, before {@link Scheduler#subscribed}
 *       is called. The answers are ordinary UPDATE events.
 *   <li>A launch that was not sent is answered, as a later event, with TASK_DROPPED (TASK_LOST
 *       without PARTITION_AWARE) updates, reason REASON_INVALID_OFFERS, unless STOPPED.
 *   <li>The roles the scheduler suppressed are suppressed again on every new stream, before the
 *       session is published; a SUPPRESS or REVIVE call and that re-send exclude each other.
 *   <li>With {@code declineUnusedOffers}, the offers an {@code offers} callback left alone are
 *       declined when it returns.
 * </ol>
 */
final class Subscription {

    // Logs under the client's name: SREs and log configurations know that logger.
    private static final Logger LOG = LoggerFactory.getLogger(MezzoSchedulerClient.class);

    private static final double MAX_HEARTBEAT_SECONDS = 3600;
    private static final String RECONNECT_TIMER = "reconnect";
    private static final String WATCHDOG_TIMER = "heartbeat-watchdog";
    private static final String RECONCILE_TIMER = "reconcile-next-batch";
    private static final String MDC_FRAMEWORK = "framework";
    private static final long CLOSE_WAIT_SECONDS = 2;

    /** What a call sees of the subscription: published by the loop, read by any thread. */
    private record Session(FrameworkID frameworkId, MasterConnection connection) {}

    // Configuration; immutable.
    private final FrameworkInfo frameworkInfo;
    private final Callbacks callbacks;
    private final MasterDetector detector;
    private final boolean reconcileLaunchedTasks;
    private final int missedHeartbeats;
    private final FaultHandler faultHandler;
    private final EventLoop loop;
    private final boolean partitionAware;
    private final UnusedOffers unusedOffers; // null when declineUnusedOffers is off

    // Any thread, under its own lock (see publishSession and updateSuppression).
    private final OfferSuppression suppression;

    // Written by the loop, read by any thread.
    private volatile Session session;
    private volatile FrameworkID frameworkId;

    // Loop thread only.
    private ClientState state = ClientState.NEW;
    private final Backoff backoff;
    private MasterConnection connection;
    private long connectionSerial;
    private final List<ManagedChannel> channels = new ArrayList<>();
    /** The channels' I/O thread, stopped when the client closes. */
    private final MasterConnection.Io io = new MasterConnection.Io();
    private Optional<MasterInfo> leader = Optional.empty();
    private MasterInfo redirect;
    private int redirectsInARow;
    private long highestEpoch;
    private Duration heartbeatInterval = MezzoSchedulerClient.DEFAULT_HEARTBEAT;
    private boolean schedulerSubscribed;
    private long eventsReceived;
    private final LaunchedTasks launchedTasks;
    /** TLS to the masters, or null for plaintext; set before start, closed with the client. */
    private TlsContext tls;
    /** Credentials sent on every stream, or null; set before start. */
    private CallCredentials credentials;

    /**
     * A subscription of {@code frameworkInfo} (its {@code id}, if set, is resubscribed) that calls
     * {@code scheduler} with {@code driver} as the driver. Starts the loop thread; connects on
     * {@link #start()}.
     */
    Subscription(
            FrameworkInfo frameworkInfo,
            Scheduler scheduler,
            SchedulerDriver driver,
            MasterDetector detector,
            boolean autoAcknowledge,
            boolean reconcileLaunchedTasks,
            boolean declineUnusedOffers,
            LaunchedTasks launchedTasks,
            int missedHeartbeats,
            Backoff backoff,
            Clock clock,
            FaultHandler faultHandler) {
        this.frameworkInfo = frameworkInfo;
        this.unusedOffers = declineUnusedOffers ? new UnusedOffers() : null;
        this.callbacks = new Callbacks(scheduler, driver, autoAcknowledge, faultHandler, this::idText, unusedOffers);
        this.suppression = new OfferSuppression(frameworkInfo);
        this.partitionAware = frameworkInfo.getCapabilitiesList().stream()
                .anyMatch(c -> c.getType() == FrameworkInfo.Capability.Type.PARTITION_AWARE);
        this.detector = detector;
        this.reconcileLaunchedTasks = reconcileLaunchedTasks;
        this.launchedTasks = launchedTasks;
        this.missedHeartbeats = missedHeartbeats;
        this.faultHandler = faultHandler;
        this.backoff = backoff;
        FrameworkID given = frameworkInfo.getId();
        this.frameworkId = given.getValue().isEmpty() ? null : given;
        this.loop = new EventLoop(MezzoSchedulerClient.THREAD_NAME, clock, faultHandler);
    }

    // ---------------------------------------------------------------------------------------
    // Any thread.
    // ---------------------------------------------------------------------------------------

    /** Follows the detector and subscribes. Called once. */
    void start() {
        enqueue(this::onStart);
    }

    /**
     * Stops for good (on the loop), then stops the loop thread and waits briefly for the channels.
     * From a callback it stops at once and lets the channels terminate on their own.
     */
    /** Sets how to reach the masters securely; before the client starts. */
    void secure(TlsContext tls, CallCredentials credentials) {
        this.tls = tls;
        this.credentials = credentials;
    }

    void close() {
        if (loop.inLoopThread()) {
            stopForGood(Level.INFO, "client closed");
            loop.close();
            // The loop cannot wait for its own channels: a thread of the moment does, then stops
            // their I/O thread.
            List<ManagedChannel> closing = List.copyOf(channels);
            Thread closer = new Thread(() -> {
                awaitTermination(closing);
                io.closeNow(TimeUnit.SECONDS.toMillis(CLOSE_WAIT_SECONDS));
            }, "scheduler-client-closer");
            closer.setDaemon(true);
            closer.start();
            return;
        }
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
        io.closeNow(TimeUnit.SECONDS.toMillis(CLOSE_WAIT_SECONDS));
        if (tls != null) {
            tls.close();
        }
    }

    /**
     * Sends a call built for the current framework id on the current stream; false (and one WARN
     * line) when not subscribed or when the stream is closed.
     */
    boolean send(Call.Type type, Function<FrameworkID, Call> build) {
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

    /**
     * Sends an ACCEPT whose {@code operations} may launch tasks: those tasks are tracked until they
     * end (see {@link LaunchedTasks}). Tracking starts before the call goes on the stream, so it is
     * on the loop before any answer to the launch; it is undone when the call was not sent.
     */
    boolean sendAccept(List<Offer.Operation> given, Function<FrameworkID, Call> build) {
        List<Offer.Operation> operations = List.copyOf(given); // read later, on the loop
        boolean launches = operations.stream().anyMatch(op -> op.getType() == Offer.Operation.Type.LAUNCH);
        if (!launches) {
            return send(Call.Type.ACCEPT, build);
        }
        if (reconcileLaunchedTasks) {
            onLoop(() -> launchedTasks.launched(operations));
        }
        boolean sent = send(Call.Type.ACCEPT, build);
        if (!sent) {
            onLoop(() -> launchedTasks.notSent(operations));
            // Always as a later event: never a callback inside the callback that launched.
            enqueue(() -> answerUnsentLaunch(operations));
        }
        return sent;
    }

    /** The scheduler used or declined these offers: they are not declined for it. Any thread. */
    void offersAnswered(List<OfferID> offerIds) {
        if (unusedOffers != null) {
            unusedOffers.answered(offerIds);
        }
    }

    /**
     * SUPPRESS (or, with {@code suppress} false, REVIVE) of {@code roles}: remembered for the next
     * subscriptions, and sent now if subscribed. The lock makes the two one step against {@link
     * #publishSession}, so a call racing with a resubscription is either re-sent by it or sent on
     * the new stream.
     */
    boolean updateSuppression(boolean suppress, String... roles) {
        synchronized (suppression) {
            if (suppress) {
                suppression.suppress(roles);
                return send(Call.Type.SUPPRESS, id -> Calls.suppress(id, roles));
            }
            suppression.revive(roles);
            return send(Call.Type.REVIVE, id -> Calls.revive(id, roles));
        }
    }

    /** Runs {@code event} on the client's loop: at once from the loop, else as the next event. */
    void execute(Runnable event) {
        onLoop(event);
    }

    /** Stops for good on the loop: at once when called from a callback, else as the next event. */
    void stopForGoodSoon(String reason) {
        onLoop(() -> stopForGood(Level.INFO, reason));
    }

    /** The framework id, once known. */
    Optional<FrameworkID> frameworkId() {
        return Optional.ofNullable(frameworkId);
    }

    /** Whether calls are sent now. */
    boolean isSubscribed() {
        return session != null;
    }

    /** The framework id, or "(new)" before the first SUBSCRIBED: for log lines. */
    String idText() {
        FrameworkID id = frameworkId;
        return id == null ? "(new)" : id.getValue();
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

    /** How many launched tasks are tracked, read on the loop. For tests. */
    CompletableFuture<Integer> launchedTasksTracked() {
        return loop.call(launchedTasks::size);
    }

    // ---------------------------------------------------------------------------------------
    // Edges: only enqueue.
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

    // ---------------------------------------------------------------------------------------
    // Loop thread: the state machine.
    // ---------------------------------------------------------------------------------------

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
        Optional<MasterInfo> previous = leader;
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
                } else if (!detected.equals(previous) && redirect == null) {
                    // News of a new leader (a failover): no reason to wait out the backoff.
                    loop.cancel(RECONNECT_TIMER);
                    connect();
                }
                // Otherwise the pending reconnect goes to the leader (or the redirect).
            }
            case CONNECTING, SUBSCRIBED -> {
                String current = connection.address();
                if (detected.isPresent() && MasterConnection.address(detected.get()).equals(current)) {
                    return;
                }
                if (detected.equals(previous) && detected.isPresent()) {
                    // The same leader named again (a detector re-reading after a reconnect) while
                    // this stream goes to the master a hint named: the hint is the fresher news.
                    return;
                }
                String reason = "leading master changed to "
                        + detected.map(MasterConnection::address).orElse("none");
                connection.abort(reason);
                // A new leader is news, not a failure: go to it at once.
                disconnect(reason, Duration.ZERO);
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
        connection = MasterConnection.open(++connectionSerial, target, edge, tls, credentials, io);
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
                case UPDATE -> onUpdate(event);
                case OFFERS, RESCIND, MESSAGE, FAILURE, MAINTENANCE -> callbacks.deliver(event);
                case ERROR -> onError(SchedulerError.of(event.getError()));
                case TORN_DOWN -> stopForGood(Level.INFO, "master confirmed the framework's TEARDOWN");
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
                : MezzoSchedulerClient.DEFAULT_HEARTBEAT;
        backoff.reset();
        redirectsInARow = 0;
        moveTo(ClientState.SUBSCRIBED);
        publishSession(new Session(id, c));
        schedulerSubscribed = true;
        armWatchdog();
        LOG.info("Subscribed framework {} with master {} (epoch {}, heartbeat every {} ms)",
                id.getValue(), c.address(), master.getEpoch(), heartbeatInterval.toMillis());
        if (reconcileLaunchedTasks) {
            int tracked = launchedTasks.startRound();
            if (tracked > 0) {
                LOG.info("Reconciling {} launched tasks of framework {} that have not ended, with master {}",
                        tracked, id.getValue(), c.address());
                reconcileNextBatch(c.serial());
            }
        }
        callbacks.subscribed(id, master);
    }

    /**
     * An UPDATE: tracked launched tasks take note (a terminal state ends the tracking), then the
     * scheduler gets it; once the last batch of the reconciliation round is answered, the next goes.
     */
    private void onUpdate(Event event) {
        TaskStatus status = event.getUpdate().getStatus();
        if (launchedTasks.update(status)) {
            LOG.debug("Launched task {} ended {}: no longer reconciled", status.getTaskId().getValue(), status.getState());
        }
        callbacks.deliver(event);
        if (launchedTasks.batchAnswered() && connection != null && state == ClientState.SUBSCRIBED) {
            reconcileNextBatch(connection.serial());
        }
    }

    /**
     * Publishes the new session, after sending the SUPPRESS the scheduler asked for earlier: the
     * master starts every subscription unsuppressed. Under the suppression lock (see {@link
     * #updateSuppression}).
     */
    private void publishSession(Session s) {
        synchronized (suppression) {
            List<String> roles = suppression.toResend();
            if (roles != null) {
                LOG.info("Suppressing offers again for framework {} ({}) after subscribing", s.frameworkId().getValue(),
                        roles.isEmpty() ? "all roles" : "roles " + roles);
                s.connection().send(Calls.suppress(s.frameworkId(), roles.toArray(String[]::new)));
            }
            session = s;
        }
    }

    /**
     * A launch that was not sent (not subscribed, or the stream had just closed) is answered like
     * one the master refused for void offers, so the scheduler's bookkeeping sees one path: every
     * task gets TASK_DROPPED (TASK_LOST without PARTITION_AWARE), reason REASON_INVALID_OFFERS,
     * source SOURCE_MASTER, no uuid. Offers do not outlive a subscription, so a queued launch could
     * never be valid later. Nothing is delivered once the client has stopped.
     */
    private void answerUnsentLaunch(List<Offer.Operation> operations) {
        if (state == ClientState.STOPPED) {
            return;
        }
        TaskState answer = partitionAware ? TaskState.TASK_DROPPED : TaskState.TASK_LOST;
        for (Offer.Operation op : operations) {
            if (op.getType() != Offer.Operation.Type.LAUNCH) {
                continue;
            }
            for (TaskInfo task : op.getLaunch().getTaskInfosList()) {
                TaskStatus status = TaskStatus.newBuilder()
                        .setTaskId(task.getTaskId())
                        .setState(answer)
                        .setReason(StatusReason.REASON_INVALID_OFFERS)
                        .setSource(StatusSource.SOURCE_MASTER)
                        .setMessage("not sent: framework " + idText() + " was not subscribed (" + state
                                + "); offers do not outlive a subscription")
                        .setAgentId(task.getAgentId())
                        .setTimestamp(loop.clock().millis() / 1000.0)
                        .build();
                LOG.info("Launch of task {} was not sent: answering {}", task.getTaskId().getValue(), answer);
                callbacks.deliver(Event.newBuilder()
                        .setType(Event.Type.UPDATE)
                        .setUpdate(Event.Update.newBuilder().setStatus(status))
                        .build());
            }
        }
    }

    /**
     * Sends the next RECONCILE batch of the round on the current stream, and arms a fallback: if the
     * master has not answered every task of it within a heartbeat interval, the next one goes anyway.
     */
    private void reconcileNextBatch(long serial) {
        if (connection == null || connection.serial() != serial || state != ClientState.SUBSCRIBED) {
            return;
        }
        List<Call.Reconcile.Task> batch = launchedTasks.nextBatch();
        if (batch.isEmpty()) {
            loop.cancel(RECONCILE_TIMER);
            return;
        }
        if (!connection.send(Calls.reconcile(frameworkId, batch))) {
            LOG.warn("Did not send RECONCILE of {} launched tasks for framework {}: stream to master {} is closed",
                    batch.size(), idText(), connection.address());
            return;
        }
        LOG.debug("Sent RECONCILE of {} launched tasks for framework {}", batch.size(), idText());
        if (launchedTasks.roundInProgress()) {
            loop.schedule(RECONCILE_TIMER, heartbeatInterval, () -> {
                setMdc();
                reconcileNextBatch(serial);
            });
        } else {
            loop.cancel(RECONCILE_TIMER);
        }
    }

    private void onError(SchedulerError error) {
        if (!error.fatal()) {
            LOG.warn("Master refused a call of framework {}: {}", idText(), error);
            callbacks.error(error);
            return;
        }
        stopForGood(Level.WARN, error.toString());
        callbacks.error(error);
    }

    private void handleEnded(MasterConnection c, String reason, String leaderHint) {
        if (c != connection || !state.hasStream()) {
            return;
        }
        c.ended();
        MasterInfo hinted = leaderHint != null ? parseHint(leaderHint) : null;
        if (hinted != null && !MasterConnection.address(hinted).equals(c.address())) {
            redirect = hinted;
            redirectsInARow++;
            // Go at once the first time; a chain of redirects waits like any other retry.
            disconnect(reason + ", not the leader: following its hint to " + MasterConnection.address(hinted),
                    redirectsInARow == 1 ? Duration.ZERO : backoff.next());
        } else {
            redirectsInARow = 0;
            // The first failure since the last SUBSCRIBED is retried at once (a restarted master, a
            // reset connection; after a leader's crash the detector names its successor at once
            // anyway): a failover should not wait out a backoff. Later ones back off.
            boolean first = backoff.attempts() == 0;
            Duration delay = backoff.next();
            disconnect(reason, first ? Duration.ZERO : delay);
        }
    }

    /**
     * Asks the detector again for the leader, rather than trusting the last notification: after a
     * failed attempt the next one without a hint goes to whatever the detector names now. A
     * standalone detector always names its configured master.
     */
    private void redetect() {
        // A ZooKeeper detector reads the leader znode again and tells its listeners (on Curator's
        // thread, so the news comes back as an event); until then, take what it holds now.
        detector.redetect();
        Optional<MasterInfo> now = detector.leader();
        if (!now.equals(leader)) {
            LOG.info("Detector {} now names {} as the leading master (was {})", detector,
                    now.map(MasterConnection::address).orElse("none"),
                    leader.map(MasterConnection::address).orElse("none"));
            leader = now;
        }
    }

    /**
     * The master a "mezzo-leader" hint names, or null. The hint is untrusted: {@link
     * LeaderHints#parse} accepts only {@code host:port} (a {@code zk://} URL, which would open a
     * ZooKeeper session, included); anything else is ignored with one WARN line.
     */
    private MasterInfo parseHint(String hint) {
        try {
            return LeaderHints.parse(hint);
        } catch (IllegalArgumentException e) {
            LOG.warn("Ignored {}", e.getMessage());
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
     * The stream is over (already ended or aborted by the caller): ask the detector again, forget
     * the stream, tell the scheduler if it was subscribed, and schedule the next attempt after
     * {@code delay}.
     */
    private void disconnect(String reason, Duration delay) {
        redetect();
        boolean tell = schedulerSubscribed;
        String from = connection == null ? "-" : connection.address();
        session = null;
        schedulerSubscribed = false;
        connection = null;
        loop.cancel(WATCHDOG_TIMER);
        loop.cancel(RECONCILE_TIMER);
        launchedTasks.endRound();
        if (leader.isEmpty() && redirect == null) {
            moveTo(ClientState.NO_LEADER);
            LOG.warn("Disconnected framework {} from master {}: {}; waiting for a leading master",
                    idText(), from, reason);
        } else {
            moveTo(ClientState.BACKING_OFF);
            loop.schedule(RECONNECT_TIMER, delay, this::onReconnectTimer);
            String next = MasterConnection.address(redirect != null ? redirect : leader.get());
            LOG.warn("Disconnected framework {} from master {}: {}; reconnecting to {} in {} ms",
                    idText(), from, reason, next, delay.toMillis());
        }
        if (tell) {
            callbacks.disconnected();
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
        loop.cancel(RECONCILE_TIMER);
        launchedTasks.endRound();
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
}
