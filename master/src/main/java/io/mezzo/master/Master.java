package io.mezzo.master;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.MasterInfo;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Mezzo master: its event loop, its state machine and its gRPC server (scheduler, agent and
 * operator services, plus the standard health and reflection services).
 *
 * <p>Thread-safe: {@link #start()} and {@link #close()} may be called from any thread; everything
 * else runs on the master's event loop.
 */
public final class Master implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Master.class);

    /** The version reported in MasterInfo. */
    public static final String VERSION = versionOf(Master.class);

    private final MasterConfig config;
    private EventLoop loop;
    private Server server;
    private MasterInfo info;
    private final HealthStatusManager health = new HealthStatusManager();
    private final Leadership leadership = new Leadership();

    /** A master that will run with {@code config}; nothing starts before {@link #start()}. */
    public Master(MasterConfig config) {
        this.config = config;
    }

    /**
     * Binds the gRPC port and starts serving.
     *
     * @throws IOException if the port cannot be bound
     */
    public synchronized void start() throws IOException {
        if (loop != null) {
            throw new IllegalStateException("master already started");
        }
        String masterId = UUID.randomUUID().toString();
        String idPrefix = config.idPrefix() != null ? config.idPrefix() : masterId.substring(0, 8);
        long seed = config.allocatorSeed() != null ? config.allocatorSeed() : ThreadLocalRandom.current().nextLong();
        loop = new EventLoop("master-loop", config.clock(), config.faultHandler());
        MasterCore core = new MasterCore(config, loop, idPrefix, seed);
        server = NettyServerBuilder.forAddress(new InetSocketAddress(config.ip(), config.port()))
                .addService(ServerInterceptors.intercept(
                        new SchedulerService(loop, core, leadership, config.outboundQueueCapacity()), new PeerInterceptor()))
                .addService(ServerInterceptors.intercept(
                        new AgentLinkService(loop, core, leadership, config.outboundQueueCapacity()), new PeerInterceptor()))
                .addService(new OperatorService(loop, core, leadership))
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .build();
        try {
            server.start();
        } catch (IOException e) {
            loop.close();
            loop = null;
            server = null;
            throw new IOException("cannot bind the master to " + config.ip() + ":" + config.port() + ": " + e.getMessage(), e);
        }
        int port = server.getPort();
        info = MasterInfo.newBuilder()
                .setId(masterId)
                .setHostname(config.hostname())
                .setIp(config.ip())
                .setPort(port)
                .setVersion(VERSION)
                .setEpoch(1)
                .setStartTime(config.clock().seconds())
                .setElectedTime(config.clock().seconds())
                .build();
        MasterInfo self = info;
        loop.append(() -> core.start(self));
        // Calls are let in only after the start event is queued, so they always find a started core.
        leadership.lead(info);
        health.setStatus("", HealthCheckResponse.ServingStatus.SERVING);
        LOG.info("Master {} {} listening on {}:{} (ids {}-*, allocator seed {})", masterId, VERSION, config.ip(), port,
                idPrefix, seed);
    }

    /** The bound gRPC port. */
    public synchronized int port() {
        requireStarted();
        return server.getPort();
    }

    /** This master's info. */
    public synchronized MasterInfo info() {
        requireStarted();
        return info;
    }

    /** Completes once every event queued so far has run (tests wait on it after advancing time). */
    public synchronized CompletableFuture<Void> barrier() {
        requireStarted();
        return loop.barrier();
    }

    /** Stops serving, closes every stream and stops the loop. Bounded: at most a few seconds. */
    @Override
    public synchronized void close() {
        if (server == null) {
            return;
        }
        health.enterTerminalState();
        server.shutdownNow();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("Master gRPC server did not stop within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        loop.close();
        LOG.info("Master {} stopped", info == null ? "" : info.getId());
        server = null;
    }

    private void requireStarted() {
        if (server == null) {
            throw new IllegalStateException("master not started");
        }
    }

    private static String versionOf(Class<?> c) {
        String v = c.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-dev" : v;
    }
}
