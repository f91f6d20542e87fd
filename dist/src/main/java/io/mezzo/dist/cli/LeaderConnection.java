package io.mezzo.dist.cli;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.mezzo.common.grpc.LeaderHint;
import io.mezzo.ha.zk.ZkClients;
import io.mezzo.ha.zk.ZkLeaderReader;
import io.mezzo.ha.zk.ZkUrl;
import io.mezzo.proto.v1.GetHealthRequest;
import io.mezzo.proto.v1.GetHealthResponse;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.OperatorGrpc;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The operator tools' one way to the leading master, from {@code --master} ({@code host:port} of
 * any master, or {@code zk://hosts/path}): a gRPC channel to the leader's operator API and the
 * leader's HTTP address, found again after a failover ({@link #refresh()}). With a {@code host:port}
 * it asks that master's {@code GetHealth} who leads; with {@code zk://} it follows the election.
 * Every operator subcommand ({@code mezzo events}, {@code mezzo task log}) connects through this
 * class, so that transport settings (TLS) are added in this one place.
 *
 * <p>Not thread-safe: one command's main thread uses it. Closes what it opened.
 */
final class LeaderConnection implements AutoCloseable {

    private final String master;
    private final Duration timeout;
    private final ZkLeaderReader detector;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private ManagedChannel channel;
    private MasterInfo leader;

    private LeaderConnection(String master, Duration timeout) {
        this.master = master;
        this.timeout = timeout;
        // The light reader (plain ZooKeeper, no Curator framework): one read and a watch.
        this.detector = master.startsWith("zk://")
                ? ZkLeaderReader.start(ZkUrl.parse(master), ZkClients.DEFAULT_SESSION_TIMEOUT)
                : null;
    }

    /**
     * Finds the leader behind {@code master} within {@code timeout}.
     *
     * @throws IllegalArgumentException if {@code master} is malformed or no leader answers in time
     */
    static LeaderConnection open(String master, Duration timeout) {
        if (!master.startsWith("zk://") && !master.matches("[^:/]+:[0-9]+")) {
            throw new IllegalArgumentException("--master must be host:port or zk://hosts/path, got '" + master + "'");
        }
        LeaderConnection c = new LeaderConnection(master, timeout);
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
        return OperatorGrpc.newBlockingStub(channel).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** An async stub of the leader's operator API, without a deadline (for streams). */
    OperatorGrpc.OperatorStub operatorStream() {
        return OperatorGrpc.newStub(channel);
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
     * @throws IllegalArgumentException if no leader answers in time
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
                    lastError = target.get() + ": " + e.getStatus().getCode() + " " + e.getStatus().getDescription();
                    String hint = hint(e);
                    if (hint != null && detector == null) {
                        leader = null;
                        if (connectTo(hint)) {
                            return;
                        }
                    }
                }
            }
            if (detector == null && leader != null) {
                // Back to the address given: the old leader may be gone.
                leader = null;
            }
            try {
                if (detector != null && target.isEmpty()) {
                    // No leader known yet: the reader's watch wakes us when one is published.
                    detector.awaitLeader(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
                    continue;
                }
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new IllegalArgumentException("no leading master answered at " + master + " within " + timeout.toSeconds()
                + " s (" + lastError + ")");
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
        channel = NettyChannelBuilder.forTarget(hostPort).usePlaintext().maxInboundMessageSize(64 << 20).build();
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (detector != null) {
            detector.close();
        }
    }
}
