package io.mezzo.agent.link;

import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.mezzo.common.grpc.LeaderHint;
import io.mezzo.common.grpc.OutboundStream;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.loop.FaultHandler;
import io.mezzo.common.retry.Backoff;
import io.mezzo.ha.LeaderHints;
import io.mezzo.ha.MasterDetector;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentLinkGrpc;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.StatusUpdate;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The agent's end of the {@code AgentLink.Connect} stream: follows the leading master named by the
 * {@link MasterDetector}, registers (REGISTER, or REREGISTER once the agent has an id), answers PINGs,
 * notices a silent or lost master and reconnects with backoff, and hands task messages to its {@link
 * Handler} and acknowledgements of status updates straight to the status update manager.
 *
 * <p>A master that does not lead refuses the stream with UNAVAILABLE and, when it knows, the
 * leader's {@code host:port} ({@link LeaderHint}). That answer is a hint that the detector is
 * behind: the link validates it ({@link LeaderHints}), connects there at once and asks the detector
 * again ({@link MasterDetector#redetect()}). The detector stays the authority: news from it (a
 * value different from the one before) always wins over a hint.
 *
 * <pre>
 *   IDLE --leader--> REGISTERING --REGISTERED--> REGISTERED
 *                     ^    |                        |
 *                     |    | stream error, ERROR,   | stream error, ERROR,
 *                     |    v registration timeout   v missed PINGs
 *                     +-- BACKING_OFF &lt;-----------+
 *   any --close() or SHUTDOWN--> CLOSED
 *
 *   while REGISTERED: RUN_TASK, KILL_TASK, ... -> Handler.message (the agent's core)
 *                     STATUS_UPDATE_ACK         -> acknowledgements (the status update manager)
 *
 *   UNAVAILABLE "not the leader; the leader is H" -> BACKING_OFF for 0 ms towards H (the first hint
 *   in a row; later ones wait for the backoff), detector.redetect()
 * </pre>
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>At most one stream is open; callbacks of an older stream (an older generation) are ignored.
 *   <li>Task messages reach the handler, and acknowledgements their consumer, only while REGISTERED;
 *       {@link Handler#disconnected()} is called exactly once each time the link leaves REGISTERED.
 *   <li>No message from a master epoch older than the highest seen is acted on.
 *   <li>Illegal state transitions are reported to the fault handler.
 *   <li>A leader hint is followed only if it is a valid {@code host:port} other than the master that
 *       sent it; the first hint after a registration is followed at once, the next ones in a row
 *       after the backoff, so that two masters naming each other cannot make the link spin.
 *   <li>The link leaves a hinted master only when the detector names another leader than it named
 *       before (news), or when that master fails the link, which then goes back to the detector's
 *       leader. A detector that repeats the leader it named before the hint, or names none for a
 *       while, does not pull the link off it.
 * </ol>
 *
 * <p>Thread: the agent's event loop; gRPC and detector callbacks only append events to it. Owner: the
 * {@code Agent}. Public only so that the agent's other packages can use it.
 */
public final class MasterLink {

    /** The link's lifecycle. */
    public enum State {
        /** No leading master is known. */
        IDLE,
        /** A stream is open and REGISTER or REREGISTER was sent; waiting for REGISTERED. */
        REGISTERING,
        /** Registered: PINGs are answered and task messages handled. */
        REGISTERED,
        /** The stream was lost; a reconnection is scheduled. */
        BACKING_OFF,
        /** Stopped for good. */
        CLOSED
    }

    /** What the link needs from the agent, and tells it. Called on the loop thread. */
    public interface Handler {
        /** The agent's description, without its id (the link adds it). */
        AgentInfo agentInfo();

        /** Everything the master needs to rebuild its view of the agent; {@code info} carries the id. */
        AgentMessage.Reregister reregistration(AgentInfo info);

        /** The master (re)registered the agent. */
        void registered(AgentId agentId, MasterInfo master, boolean reregistered);

        /** The link left REGISTERED: hold status updates until the next {@link #registered}. */
        void disconnected();

        /**
         * A RUN_TASK, KILL_TASK, SHUTDOWN_FRAMEWORK, FRAMEWORK_MESSAGE or CHECKPOINT_RESOURCES
         * (STATUS_UPDATE_ACK goes to the link's acknowledgement consumer instead).
         */
        void message(MasterMessage message);

        /** The master removed the agent (SHUTDOWN); the link is already closed. */
        void shutdown(String reason);
    }

    /**
     * Timing of the link.
     *
     * @param backoffInitial first reconnection delay
     * @param backoffMax longest reconnection delay
     * @param registrationTimeout how long to wait for REGISTERED on a new stream
     * @param outboundCapacity messages that may queue for a slow master before the stream is dropped
     */
    public record Settings(
            Duration backoffInitial, Duration backoffMax, Duration registrationTimeout, int outboundCapacity) {}

    /** PING interval assumed when REGISTERED does not carry one, as Mesos' default. */
    static final double DEFAULT_PING_INTERVAL_SECONDS = 15;
    /** Missed PINGs tolerated when REGISTERED does not say, as Mesos' default. */
    static final int DEFAULT_MAX_PING_TIMEOUTS = 5;

    private static final Logger LOG = LoggerFactory.getLogger(MasterLink.class);
    private static final String RECONNECT = "link/reconnect";
    private static final String REGISTRATION_TIMEOUT = "link/registration-timeout";
    private static final String PING_TIMEOUT = "link/ping-timeout";
    private static final Map<State, Set<State>> TRANSITIONS = Map.of(
            State.IDLE, EnumSet.of(State.IDLE, State.REGISTERING, State.CLOSED),
            State.REGISTERING,
                    EnumSet.of(State.REGISTERING, State.REGISTERED, State.BACKING_OFF, State.IDLE, State.CLOSED),
            State.REGISTERED,
                    EnumSet.of(State.REGISTERED, State.REGISTERING, State.BACKING_OFF, State.IDLE, State.CLOSED),
            State.BACKING_OFF, EnumSet.of(State.REGISTERING, State.IDLE, State.CLOSED),
            State.CLOSED, EnumSet.of(State.CLOSED));

    private final EventLoop loop;
    private final MasterDetector detector;
    private final Settings settings;
    private final Handler handler;
    private final Consumer<MasterMessage.StatusUpdateAck> acknowledgements;
    private final FaultHandler faultHandler;
    private final Backoff backoff;
    private final BiFunction<String, Integer, ManagedChannel> channelFactory;
    // Written on the loop, read by awaitTermination() on the closing thread.
    private final List<ManagedChannel> retiredChannels = new CopyOnWriteArrayList<>();

    // Loop thread only.
    private State state = State.IDLE;
    /** Where the link connects: the detector's leader, or a hinted master. */
    private MasterInfo leader;
    /** What the detector said last; null before its first word. */
    private Optional<MasterInfo> detected;
    /** Whether {@code leader} came from a leader hint rather than from the detector. */
    private boolean hinted;
    /** Hints followed since the last registration (invariant 5). */
    private int hintsInARow;
    private ManagedChannel channel;
    /** Sent on every stream when set (the agent's --credential). Set once at construction. */
    private CallCredentials credentials;
    private long generation;
    private OutboundStream<AgentMessage> outbound;
    private AgentId agentId;
    private MasterInfo registeredWith;
    private Duration pingTimeout = Duration.ZERO;
    private long highestEpoch = Long.MIN_VALUE;

    /**
     * A link opening plaintext channels to the masters the detector names.
     *
     * @param acknowledgements takes the master's STATUS_UPDATE_ACKs (the status update manager)
     */
    public MasterLink(
            EventLoop loop,
            MasterDetector detector,
            Settings settings,
            Random random,
            FaultHandler faultHandler,
            Handler handler,
            Consumer<MasterMessage.StatusUpdateAck> acknowledgements) {
        this(loop, detector, settings, random, faultHandler, handler, acknowledgements, MasterLink::plaintextChannel);
    }

    /**
     * A link reaching the masters with {@code transport} (TLS or plaintext), sending {@code
     * credentials} (or none, when null) on its stream.
     */
    public MasterLink(
            EventLoop loop,
            MasterDetector detector,
            Settings settings,
            Random random,
            FaultHandler faultHandler,
            Handler handler,
            Consumer<MasterMessage.StatusUpdateAck> acknowledgements,
            ChannelCredentials transport,
            CallCredentials credentials) {
        this(loop, detector, settings, random, faultHandler, handler, acknowledgements,
                (host, port) -> Grpc.newChannelBuilderForAddress(host, port, transport).build());
        this.credentials = credentials;
    }

    MasterLink(
            EventLoop loop,
            MasterDetector detector,
            Settings settings,
            Random random,
            FaultHandler faultHandler,
            Handler handler,
            Consumer<MasterMessage.StatusUpdateAck> acknowledgements,
            BiFunction<String, Integer, ManagedChannel> channelFactory) {
        this.loop = loop;
        this.detector = detector;
        this.settings = settings;
        this.handler = handler;
        this.acknowledgements = acknowledgements;
        this.faultHandler = faultHandler;
        this.backoff = new Backoff(settings.backoffInitial(), settings.backoffMax(), random);
        this.channelFactory = channelFactory;
    }

    /**
     * Sets the id a previous agent on this work directory was given, so that the first registration is
     * a REREGISTER under it. Before {@link #start()}; loop thread.
     */
    public void recovered(AgentId id) {
        this.agentId = id;
    }

    /** Starts following the leader. Any thread. */
    public void start() {
        detector.addListener(leader -> loop.append(() -> leaderChanged(leader)));
    }

    /** The link's state. Loop thread. */
    public State state() {
        return state;
    }

    /** The id the master gave the agent, once registered. Loop thread. */
    public Optional<AgentId> agentId() {
        return Optional.ofNullable(agentId);
    }

    /** The master the agent is registered with, while REGISTERED. Loop thread. */
    public Optional<MasterInfo> registeredWith() {
        return state == State.REGISTERED ? Optional.ofNullable(registeredWith) : Optional.empty();
    }

    /** The highest master epoch seen. Loop thread. */
    public long highestEpoch() {
        return highestEpoch;
    }

    /**
     * Sends a status update to the registered master. Loop thread.
     *
     * @return false when not registered or the stream is gone (the status update manager retries later)
     */
    public boolean sendStatusUpdate(StatusUpdate update) {
        if (state != State.REGISTERED) {
            return false;
        }
        return send(AgentMessage.newBuilder()
                .setType(AgentMessage.Type.STATUS_UPDATE)
                .setAgentId(agentId.toProto())
                .setStatusUpdate(update)
                .build());
    }

    /** Drops the stream and stops for good; channels shut down in the background. Loop thread. */
    public void close() {
        if (state == State.CLOSED) {
            return;
        }
        dropStream("agent stopping");
        closeChannel();
        loop.cancel(RECONNECT);
        transition(State.CLOSED);
    }

    /** Waits up to {@code timeout} per channel for the channels closed so far to terminate. Not on the loop. */
    public void awaitTermination(Duration timeout) {
        for (ManagedChannel c : retiredChannels) {
            try {
                // Shut down with shutdownNow(), so each terminates promptly; the bound is per channel.
                c.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void leaderChanged(Optional<MasterInfo> next) {
        if (state == State.CLOSED) {
            return;
        }
        // A repeat (the detector re-read ZooKeeper and found the same) is a confirmation, not news.
        boolean news = !next.equals(detected);
        detected = next;
        if (hinted && (!news || next.isEmpty())) {
            // Invariant 6: the detector repeats what it said before the hint, or is between two
            // leaders; the hinted master decides.
            LOG.debug("Detector names {}; staying with hinted master {}", next.map(MasterLink::address)
                    .orElse("no leader"), address(leader));
            return;
        }
        if (next.isEmpty()) {
            if (leader != null) {
                LOG.warn("Lost the leading master {}; waiting for a new one", address(leader));
            }
            leader = null;
            hinted = false;
            dropStream("no leading master");
            closeChannel();
            loop.cancel(RECONNECT);
            transition(State.IDLE);
            return;
        }
        MasterInfo master = next.get();
        if (leader != null && address(leader).equals(address(master)) && state != State.IDLE) {
            // Same address (a new term of the same process, a repeat, or the detector confirming a
            // hint): the open stream, or the pending retry, tells us more.
            leader = master;
            hinted = false;
            return;
        }
        LOG.info("Detected leading master {}", describe(master));
        leader = master;
        hinted = false;
        dropStream("leading master changed");
        closeChannel();
        backoff.reset();
        connect();
    }

    private void connect() {
        loop.cancel(RECONNECT);
        if (state == State.CLOSED || leader == null) {
            return;
        }
        mdc();
        if (channel == null) {
            channel = channelFactory.apply(host(leader), leader.getPort());
        }
        long gen = ++generation;
        AgentLinkGrpc.AgentLinkStub stub = AgentLinkGrpc.newStub(channel);
        if (credentials != null) {
            stub = stub.withCallCredentials(credentials);
        }
        stub.connect(new ClientResponseObserver<AgentMessage, MasterMessage>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<AgentMessage> requestStream) {
                // Called inside connect(), on the loop thread.
                outbound = OutboundStream.attach(requestStream, settings.outboundCapacity(),
                        reason -> loop.append(() -> streamEnded(gen, "master too slow: " + reason, null)));
            }

            @Override
            public void onNext(MasterMessage message) {
                loop.append(() -> received(gen, message));
            }

            @Override
            public void onError(Throwable t) {
                Status status = Status.fromThrowable(t);
                Metadata trailers = Status.trailersFromThrowable(t);
                String hint = status.getCode() == Status.Code.UNAVAILABLE ? LeaderHint.read(trailers) : null;
                loop.append(() -> streamEnded(gen, status.getCode()
                        + (status.getDescription() == null ? "" : " " + status.getDescription()), hint));
            }

            @Override
            public void onCompleted() {
                loop.append(() -> streamEnded(gen, "master closed the stream", null));
            }
        });
        transition(State.REGISTERING);
        // Armed before the first message leaves, like every timer here.
        loop.schedule(REGISTRATION_TIMEOUT, settings.registrationTimeout(), () -> {
            if (gen == generation && state == State.REGISTERING) {
                reconnectLater("no REGISTERED within " + settings.registrationTimeout().toMillis() + " ms", false);
            }
        });
        AgentInfo.Builder info = handler.agentInfo().toBuilder();
        if (agentId == null) {
            LOG.info("Registering with master {}", address(leader));
            send(AgentMessage.newBuilder()
                    .setType(AgentMessage.Type.REGISTER)
                    .setRegister(AgentMessage.Register.newBuilder().setAgentInfo(info.clearId()))
                    .build());
        } else {
            AgentInfo withId = info.setId(agentId.toProto()).build();
            AgentMessage.Reregister body = handler.reregistration(withId);
            // A large report goes in parts, each under the master's message size limit.
            List<AgentMessage.Reregister> parts = ReportPages.split(body, ReportPages.DEFAULT_PART_BYTES);
            LOG.info("Re-registering with master {} as agent {} with {} tasks and {} unacknowledged updates{}",
                    address(leader), agentId, body.getTasksCount(), body.getUnacknowledgedUpdatesCount(),
                    parts.size() == 1 ? "" : " in " + parts.size() + " parts");
            for (AgentMessage.Reregister part : parts) {
                send(AgentMessage.newBuilder()
                        .setType(AgentMessage.Type.REREGISTER)
                        .setAgentId(agentId.toProto())
                        .setReregister(part)
                        .build());
            }
        }
    }

    private void received(long gen, MasterMessage message) {
        mdc();
        if (gen != generation || state == State.CLOSED) {
            LOG.debug("Dropped {} from a stream already closed", message.getType());
            return;
        }
        if (message.getEpoch() < highestEpoch) {
            LOG.warn("Ignored {} from a master with epoch {}, older than epoch {} already seen",
                    message.getType(), message.getEpoch(), highestEpoch);
            return;
        }
        highestEpoch = message.getEpoch();
        switch (message.getType()) {
            case REGISTERED -> registered(gen, message.getRegistered());
            case PING -> ping(gen, message.getPing());
            case ERROR -> reconnectLater("master refused the agent: " + message.getShutdown().getMessage(), true);
            case SHUTDOWN -> {
                String reason = message.getShutdown().getMessage();
                close();
                handler.shutdown(reason);
            }
            case RUN_TASK, KILL_TASK, STATUS_UPDATE_ACK, SHUTDOWN_FRAMEWORK, FRAMEWORK_MESSAGE, CHECKPOINT_RESOURCES -> {
                if (state != State.REGISTERED) {
                    LOG.warn("Ignored {} received before the master registered the agent", message.getType());
                } else if (message.getType() == MasterMessage.Type.STATUS_UPDATE_ACK) {
                    // Straight to the status update manager: an update crosses the agent without turning back.
                    acknowledgements.accept(message.getStatusUpdateAck());
                } else {
                    handler.message(message);
                }
            }
            default -> LOG.warn("Ignored master message of unknown type {}", message.getType());
        }
    }

    private void registered(long gen, MasterMessage.Registered registered) {
        if (registered.getAgentId().getValue().isEmpty()) {
            reconnectLater("master sent REGISTERED without an agent id", true);
            return;
        }
        AgentId id = AgentId.of(registered.getAgentId());
        boolean reregistered = agentId != null;
        if (agentId != null && !agentId.equals(id)) {
            LOG.warn("Master {} registered the agent as {} instead of {}; taking the new id",
                    address(leader), id, agentId);
        }
        if (state == State.REGISTERED) {
            LOG.debug("Master repeated REGISTERED");
        }
        agentId = id;
        registeredWith = registered.getMasterInfo();
        double interval = registered.getPingIntervalSeconds() > 0
                ? registered.getPingIntervalSeconds()
                : DEFAULT_PING_INTERVAL_SECONDS;
        int misses = registered.getMaxPingTimeouts() > 0 ? registered.getMaxPingTimeouts() : DEFAULT_MAX_PING_TIMEOUTS;
        pingTimeout = Duration.ofMillis(Math.round(interval * 1000 * misses));
        loop.cancel(REGISTRATION_TIMEOUT);
        backoff.reset();
        hintsInARow = 0;
        boolean already = state == State.REGISTERED;
        transition(State.REGISTERED);
        schedulePingTimeout(gen);
        if (!already) {
            LOG.info("{} with master {} (epoch {}) as agent {}",
                    reregistered ? "Re-registered" : "Registered",
                    describe(registeredWith.getPort() > 0 ? registeredWith : leader),
                    highestEpoch,
                    id);
            handler.registered(id, registeredWith, reregistered);
        }
    }

    private void ping(long gen, MasterMessage.Ping ping) {
        AgentMessage.Builder pong = AgentMessage.newBuilder()
                .setType(AgentMessage.Type.PONG)
                .setPong(AgentMessage.Pong.newBuilder().setSequence(ping.getSequence()));
        if (agentId != null) {
            pong.setAgentId(agentId.toProto());
        }
        if (state == State.REGISTERED) {
            // Re-armed before the PONG leaves: once the PONG is seen, the new deadline is set (tests rely on it).
            schedulePingTimeout(gen);
        }
        send(pong.build());
        LOG.debug("Answered PING {}", ping.getSequence());
    }

    private void schedulePingTimeout(long gen) {
        Duration timeout = pingTimeout;
        loop.schedule(PING_TIMEOUT, timeout, () -> {
            if (gen == generation && state == State.REGISTERED) {
                reconnectLater("no PING within " + timeout.toMillis() + " ms", false);
            }
        });
    }

    private void streamEnded(long gen, String reason, String hint) {
        if (gen != generation || state == State.CLOSED) {
            return;
        }
        mdc();
        MasterInfo hintedMaster = null;
        if (hint != null) {
            try {
                hintedMaster = LeaderHints.parse(hint);
            } catch (IllegalArgumentException e) {
                LOG.warn("Master {}: ignored its {}", address(leader), e.getMessage());
            }
        }
        if (hintedMaster != null && !address(hintedMaster).equals(address(leader))) {
            followHint(reason, hintedMaster);
            return;
        }
        reconnectLater("lost the stream: " + reason, false);
    }

    /**
     * Connects to the master a hint names (invariant 5: at once the first time in a row) and asks the
     * detector again, which may confirm the hint or name someone else.
     */
    private void followHint(String reason, MasterInfo hintedMaster) {
        dropStream(reason);
        closeChannel();
        hintsInARow++;
        Duration delay = hintsInARow == 1 ? Duration.ZERO : backoff.next();
        String from = address(leader);
        leader = hintedMaster;
        hinted = true;
        transition(State.BACKING_OFF);
        LOG.info("Master {}: {}; following its hint to {} in {} ms", from, reason, address(hintedMaster),
                delay.toMillis());
        loop.schedule(RECONNECT, delay, this::connect);
        detector.redetect();
    }

    /**
     * Drops the stream and schedules the next attempt, logging one line with the reason. A hinted
     * master that failed the link is left for the detector's leader (invariant 6).
     */
    private void reconnectLater(String reason, boolean warn) {
        mdc();
        dropStream(reason);
        String failed = address(leader);
        String to = "";
        if (hinted) {
            hinted = false;
            closeChannel();
            leader = detected == null ? null : detected.orElse(null);
            if (leader == null) {
                loop.cancel(RECONNECT);
                transition(State.IDLE);
                LOG.info("Hinted master {}: {}; waiting for the detector to name a leader", failed, reason);
                return;
            }
            to = " to the detector's leader " + address(leader);
        }
        // The first failure since the last registration is retried at once (a restarted master,
        // a reset connection); the detector names a new leader at once anyway. Later ones back off.
        boolean first = backoff.attempts() == 0;
        Duration delay = backoff.next();
        if (first) {
            delay = Duration.ZERO;
        }
        transition(State.BACKING_OFF);
        // Retrying a master that failed or left is something an operator looks at: WARN either way.
        LOG.warn("Master {}: {}; reconnecting{} in {} ms", failed, reason, to, delay.toMillis());
        loop.schedule(RECONNECT, delay, this::connect);
    }

    private void dropStream(String reason) {
        loop.cancel(PING_TIMEOUT);
        loop.cancel(REGISTRATION_TIMEOUT);
        // Whatever the old stream still reports is now stale (invariant 1).
        generation++;
        if (outbound != null) {
            outbound.fail(Status.CANCELLED.withDescription(reason));
            outbound = null;
        }
    }

    private boolean send(AgentMessage message) {
        return outbound != null && outbound.send(message);
    }

    private void closeChannel() {
        if (channel != null) {
            channel.shutdownNow();
            retiredChannels.removeIf(ManagedChannel::isTerminated);
            retiredChannels.add(channel);
            channel = null;
        }
    }

    private void transition(State next) {
        if (!TRANSITIONS.get(state).contains(next)) {
            faultHandler.handleFault("illegal master link transition " + state + " -> " + next, null);
        }
        State previous = state;
        state = next;
        if (previous == State.REGISTERED && next != State.REGISTERED) {
            // Invariant 2: told once per departure from REGISTERED.
            handler.disconnected();
        }
    }

    /** Sets the agent id in the logging MDC for this loop event (the loop clears it afterwards). */
    private void mdc() {
        if (agentId != null) {
            MDC.put("agent", agentId.value());
        }
    }

    private static String host(MasterInfo master) {
        return master.getIp().isEmpty() ? master.getHostname() : master.getIp();
    }

    private static String address(MasterInfo master) {
        return master == null ? "<none>" : host(master) + ":" + master.getPort();
    }

    private static String describe(MasterInfo master) {
        return master.getId().isEmpty() ? address(master) : master.getId() + " at " + address(master);
    }

    private static ManagedChannel plaintextChannel(String host, int port) {
        return Grpc.newChannelBuilderForAddress(host, port, InsecureChannelCredentials.create()).build();
    }
}
