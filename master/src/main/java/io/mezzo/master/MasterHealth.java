package io.mezzo.master;

import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.GetHealthResponse;
import io.mezzo.proto.v1.MasterInfo;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * What {@code /health}, {@code /health/live}, {@code /health/ready} and the operator's {@code
 * GetHealth} report, worked out in one place so that they never disagree.
 *
 * <ul>
 *   <li><b>live</b>: the event loop ran a no-op within {@link #LIVE_BOUND}. A wedged loop (an event
 *       that never returns) or one too far behind shows as not live. The probe waits for the loop;
 *       it never runs anything else on it.
 *   <li><b>ready</b>: ZooKeeper is connected (always, standalone) and this master leads (it read
 *       the registry before it let calls in) or is a standby that knows the leader.
 * </ul>
 *
 * <p>Owner: {@link Master}. Thread: any (edge threads); reads volatile state only.
 */
final class MasterHealth {

    /** How long the loop has to answer the liveness no-op. */
    static final Duration LIVE_BOUND = Duration.ofSeconds(2);

    private final EventLoop loop;
    private final Leadership leadership;
    private final BooleanSupplier zkConnected;
    private final Supplier<MasterInfo> self;

    MasterHealth(EventLoop loop, Leadership leadership, BooleanSupplier zkConnected, Supplier<MasterInfo> self) {
        this.loop = loop;
        this.leadership = leadership;
        this.zkConnected = zkConnected;
        this.self = self;
    }

    /** Whether the ZooKeeper session is connected now (true standalone). */
    boolean zkConnected() {
        return zkConnected.getAsBoolean();
    }

    /** Completes within about {@link #LIVE_BOUND} with the health; never fails. */
    CompletableFuture<GetHealthResponse> check() {
        return loop.call(() -> Boolean.TRUE)
                .completeOnTimeout(Boolean.FALSE, LIVE_BOUND.toMillis(), TimeUnit.MILLISECONDS)
                .exceptionally(error -> Boolean.FALSE)
                .thenApply(this::build);
    }

    private GetHealthResponse build(boolean live) {
        boolean zk = zkConnected.getAsBoolean();
        boolean leading = leadership.leading();
        MasterInfo leader = leadership.leader();
        GetHealthResponse.Builder h = GetHealthResponse.newBuilder()
                .setLeader(leading)
                .setLive(live)
                .setZkConnected(zk);
        MasterInfo me = self.get();
        if (me != null) {
            h.setMasterInfo(me);
        }
        if (leader != null) {
            h.setLeaderInfo(leader);
        }
        String notReady = !zk ? "ZooKeeper is not connected"
                : !leading && leader == null ? "no leader is known"
                : !leading && me != null && leader.getId().equals(me.getId())
                        ? "this master was elected and does not act (suspended or stepping down)"
                : "";
        boolean ready = notReady.isEmpty();
        String reason = live ? notReady
                : "the event loop did not answer within " + LIVE_BOUND.toMillis() + " ms"
                        + (ready ? "" : "; " + notReady);
        return h.setReady(ready).setHealthy(live && ready).setReason(reason).build();
    }
}
