package io.mezzo.dist.cli;

import io.grpc.CallCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mezzo.common.grpc.LeaderHint;
import io.mezzo.common.security.BasicAuth;
import io.mezzo.common.security.Credential;
import io.mezzo.common.security.TlsContext;
import io.mezzo.common.security.TlsSettings;
import io.mezzo.ha.zk.ZkMasterDetector;
import io.mezzo.ha.zk.ZkUrl;
import io.mezzo.proto.v1.GetHealthRequest;
import io.mezzo.proto.v1.GetHealthResponse;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.OperatorGrpc;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The operator tools' one way to the leading master, from {@code --master} ({@code host:port} of
 * any master, or {@code zk://hosts/path}): a gRPC channel to the leader's operator API and the
 * leader's HTTP address, found again after a failover ({@link #refresh()}). With a {@code host:port}
 * it asks that master's {@code GetHealth} who leads; with {@code zk://} it follows the election.
 * Every operator subcommand ({@code mezzo events}, {@code mezzo agents}, {@code mezzo quota set},
 * ...) connects through this class, so that transport settings (TLS to the master and to
 * ZooKeeper, the client credential) are applied in this one place.
 *
 * <p><b>Following the leader.</b> Calls go through {@link #read} or {@link #change}. When a call
 * fails with UNAVAILABLE or DEADLINE_EXCEEDED (the master stopped leading, died, or the network
 * broke), the leader is found again and the call is repeated once:
 *
 * <ol>
 *   <li>a read ({@link #read}) always: it changes nothing;
 *   <li>a change ({@link #change}) when it is idempotent ({@link Retry#IDEMPOTENT}: setting a
 *       quota, a weight, the maintenance schedule, draining, killing a task, where doing it twice
 *       leaves the same state as once), or when it was certainly not applied ({@link
 *       Retry#IF_NOT_DELIVERED}: the master answered that it does not lead, or the connection
 *       was refused before the call was sent). Reactivating an agent, marking it gone and tearing
 *       a framework down are not repeated after a timeout or a broken connection: the first call
 *       may have been applied, and a second would answer "not draining" or "not known" for a
 *       change that succeeded. The command then exits 3 and says the outcome is unknown.
 * </ol>
 *
 * <p>Not thread-safe: one command's main thread uses it. Closes what it opened.
 */
final class LeaderConnection implements AutoCloseable {

    /** Whether a change may be sent again to a new leader after a failure (see the class comment). */
    enum Retry {
        /** Doing it twice leaves the state doing it once does: repeat after any UNAVAILABLE or timeout. */
        IDEMPOTENT,
        /** Repeat only when the first call was certainly not applied. */
        IF_NOT_DELIVERED
    }

    private final String master;
    private final Duration timeout;
    private final ZkMasterDetector detector;
    private final TlsContext tls;
    private final CallCredentials credentials;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private ManagedChannel channel;
    private MasterInfo leader;

    private LeaderConnection(String master, Duration timeout, TlsSettings tls, TlsSettings zkTls, Credential credential) {
        this.master = master;
        this.timeout = timeout;
        this.tls = TlsContext.of(tls);
        this.credentials = credential == null ? null : BasicAuth.callCredentials(credential);
        this.detector = master.startsWith("zk://")
                ? ZkMasterDetector.start(ZkUrl.parse(master), Duration.ofSeconds(10), zkTls) : null;
    }

    /** As {@link #open(String, Duration, TlsSettings, TlsSettings, Credential)}, plaintext and anonymous. */
    static LeaderConnection open(String master, Duration timeout) {
        return open(master, timeout, TlsSettings.NONE, TlsSettings.NONE, null);
    }

    /**
     * Finds the leader behind {@code master} within {@code timeout}, reaching the masters with
     * {@code tls} (plaintext when it enables none) and ZooKeeper with {@code zkTls}, and sending
     * {@code credential} (may be null) on every call.
     *
     * @throws IllegalArgumentException if {@code master} is malformed or the TLS files cannot be read
     * @throws CliFailure ({@link ExitCodes#NO_LEADER}) if no leader answers in time
     */
    static LeaderConnection open(String master, Duration timeout, TlsSettings tls, TlsSettings zkTls,
            Credential credential) {
        if (!master.startsWith("zk://") && !master.matches("[^:/]+:[0-9]+")) {
            throw new IllegalArgumentException("--master must be host:port or zk://hosts/path, got '" + master + "'");
        }
        LeaderConnection c = new LeaderConnection(master, timeout, tls, zkTls, credential);
        try {
            c.refresh();
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** The leader as last found. */
    MasterInfo leader() {
        return leader;
    }

    /** A blocking stub of the leader's operator API, with a deadline of {@code timeout}. */
    OperatorGrpc.OperatorBlockingStub operator() {
        OperatorGrpc.OperatorBlockingStub stub = OperatorGrpc.newBlockingStub(channel)
                .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
        return credentials == null ? stub : stub.withCallCredentials(credentials);
    }

    /** An async stub of the leader's operator API, without a deadline (for streams). */
    OperatorGrpc.OperatorStub operatorStream() {
        OperatorGrpc.OperatorStub stub = OperatorGrpc.newStub(channel);
        return credentials == null ? stub : stub.withCallCredentials(credentials);
    }

    /**
     * A read of the leader's operator API, repeated once on a new leader after UNAVAILABLE or a
     * timeout.
     *
     * @throws CliFailure with {@link ExitCodes#REFUSED} when the master refused it, {@link
     *     ExitCodes#NO_LEADER} when no leader answered
     */
    <T> T read(Function<OperatorGrpc.OperatorBlockingStub, T> call) {
        return call(call, true);
    }

    /** A change through the leader's operator API, repeated once on a new leader only as {@code retry} allows. */
    <T> T change(Function<OperatorGrpc.OperatorBlockingStub, T> call, Retry retry) {
        return call(call, retry == Retry.IDEMPOTENT);
    }

    private <T> T call(Function<OperatorGrpc.OperatorBlockingStub, T> call, boolean repeatable) {
        try {
            return call.apply(operator());
        } catch (StatusRuntimeException e) {
            if (!transient_(e)) {
                throw ExitCodes.of(e);
            }
            if (!repeatable && !notDelivered(e)) {
                throw new CliFailure(ExitCodes.NO_LEADER, "the leading master did not answer (" + e.getStatus().getCode()
                        + " " + e.getStatus().getDescription() + "); the change may or may not have been applied:"
                        + " look before trying again");
            }
            refresh();
            try {
                return call.apply(operator());
            } catch (StatusRuntimeException again) {
                throw ExitCodes.of(again);
            }
        }
    }

    private static boolean transient_(StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        return code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
    }

    /** Whether a failed call certainly did not take effect: refused as "not the leader", or never sent. */
    static boolean notDelivered(StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
            return false;
        }
        if (hint(e) != null || String.valueOf(e.getStatus().getDescription()).contains("not the leader")) {
            return true;
        }
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException) {
                return true;
            }
        }
        return false;
    }

    /** The HTTP client for the leader's and the agents' HTTP endpoints. */
    HttpClient http() {
        return http;
    }

    /** {@code http://ip:port} of the leader's HTTP endpoints. */
    String leaderHttp() {
        return "http://" + leader.getIp() + ":" + leader.getHttpPort();
    }

    /**
     * Finds the leader again (after UNAVAILABLE, or a stream that ended), waiting up to the
     * timeout; the channel then goes to it.
     *
     * @throws CliFailure ({@link ExitCodes#NO_LEADER}) if no leader answers in time
     */
    void refresh() {
        long deadline = System.nanoTime() + timeout.toNanos();
        String lastError = "no leader is known";
        while (System.nanoTime() < deadline) {
            Optional<String> target = detector != null
                    ? detector.leader().map(l -> l.getIp() + ":" + l.getPort())
                    : Optional.of(leader == null ? master : leader.getIp() + ":" + leader.getPort());
            if (target.isPresent()) {
                try {
                    if (connectTo(target.get())) {
                        return;
                    }
                    lastError = target.get() + " does not lead";
                } catch (StatusRuntimeException e) {
                    if (e.getStatus().getCode() == Status.Code.UNAUTHENTICATED
                            || e.getStatus().getCode() == Status.Code.PERMISSION_DENIED) {
                        // Waiting does not fix credentials: say so now.
                        throw ExitCodes.of(e);
                    }
                    lastError = target.get() + ": " + e.getStatus().getCode() + " " + e.getStatus().getDescription();
                    String hint = hint(e);
                    if (hint != null && detector == null) {
                        leader = null;
                        try {
                            if (connectTo(hint)) {
                                return;
                            }
                        } catch (StatusRuntimeException hinted) {
                            lastError = hint + ": " + hinted.getStatus().getCode() + " "
                                    + hinted.getStatus().getDescription();
                        }
                    }
                }
            }
            if (detector == null && leader != null) {
                // Back to the address given: the old leader may be gone.
                leader = null;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new CliFailure(ExitCodes.NO_LEADER, "no leading master answered at " + master + " within "
                + timeout.toSeconds() + " s (" + lastError + ")");
    }

    /** Connects to {@code hostPort}; true when it leads, else follows the leader it names, once. */
    private boolean connectTo(String hostPort) {
        switchChannel(hostPort);
        GetHealthResponse health = operator().getHealth(GetHealthRequest.getDefaultInstance());
        if (health.getLeader()) {
            leader = health.getMasterInfo();
            return true;
        }
        if (health.hasLeaderInfo() && health.getZkConnected()) {
            MasterInfo named = health.getLeaderInfo();
            switchChannel(named.getIp() + ":" + named.getPort());
            GetHealthResponse there = operator().getHealth(GetHealthRequest.getDefaultInstance());
            if (there.getLeader()) {
                leader = there.getMasterInfo();
                return true;
            }
        }
        return false;
    }

    private static String hint(StatusRuntimeException e) {
        Metadata trailers = e.getTrailers();
        return e.getStatus().getCode() == Status.Code.UNAVAILABLE && trailers != null ? trailers.get(LeaderHint.KEY) : null;
    }

    private void switchChannel(String hostPort) {
        if (channel != null) {
            channel.shutdownNow();
        }
        channel = Grpc.newChannelBuilder(hostPort, TlsContext.channelCredentials(tls)).maxInboundMessageSize(64 << 20)
                .userAgent("mezzo-cli").build();
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (detector != null) {
            detector.close();
        }
        if (tls != null) {
            tls.close();
        }
    }
}
