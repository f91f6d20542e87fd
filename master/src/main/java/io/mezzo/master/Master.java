package io.mezzo.master;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.security.TlsContext;
import io.mezzo.ha.election.LeaderElection;
import io.mezzo.ha.election.StandaloneLeaderElection;
import io.mezzo.ha.election.ZkLeaderElection;
import io.mezzo.ha.registry.Registry;
import io.mezzo.ha.registry.RegistryException;
import io.mezzo.ha.zk.ZkClients;
import io.mezzo.ha.zk.ZkSessionCheck;
import io.mezzo.ha.zk.ZkUrl;
import io.mezzo.master.auth.AuthInterceptor;
import io.mezzo.master.auth.Authenticator;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.OperatorGrpc;
import io.mezzo.proto.v1.SchedulerGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Mezzo master: its event loop, its {@link MasterCore} (which owns the state through its
 * managers), its gRPC server (scheduler, agent and operator services, plus the standard health and
 * reflection services), its HTTP endpoints and its place in the leader election. A standalone
 * master leads at once; with {@code --zk} it serves UNAVAILABLE (pointing at the leader) until it
 * is elected. Tests and benchmarks inject faults through {@link #faults()}.
 *
 * <p>Thread-safe: {@link #start()} and {@link #close()} may be called from any thread; state lives
 * on the master's event loop; the election talks to it through events.
 */
public final class Master implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Master.class);

    /** The version reported in MasterInfo. */
    public static final String VERSION = versionOf(Master.class);

    private static final String[] LEADER_SERVICES = {SchedulerGrpc.SERVICE_NAME, OperatorGrpc.SERVICE_NAME};

    private final MasterConfig config;
    private final HealthStatusManager health = new HealthStatusManager();
    private final Leadership leadership = new Leadership();
    private final AtomicBoolean lost = new AtomicBoolean();
    private final CompletableFuture<MasterInfo> elected = new CompletableFuture<>();
    private final MasterFaults faults = new MasterFaults(this);
    private final MasterMetrics metrics = new MasterMetrics();
    private OperatorEvents events;
    /** The ZooKeeper client once started, for health (read from edge threads). */
    private volatile CuratorFramework zkForHealth;
    private EventLoop loop;
    private MasterCore core;
    private Server server;
    private HttpEndpoints http;
    private TlsContext tls;
    private CuratorFramework zkClient;
    private LeaderElection election;
    private volatile MasterInfo info;

    /** A master that will run with {@code config}; nothing starts before {@link #start()}. */
    public Master(MasterConfig config) {
        this.config = config;
    }

    /**
     * Binds the gRPC port and takes part in the leader election (a standalone master leads at
     * once).
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
        core = new MasterCore(config, loop, idPrefix, seed, this::loseLeadership, metrics);
        events = new OperatorEvents(leadership, config.clock());
        core.onStatePublished(events::published);
        MasterHealth masterHealth = new MasterHealth(loop, leadership, () -> {
            CuratorFramework zk = zkForHealth;
            return config.zk() == null || (zk != null && zk.getZookeeperClient().isConnected());
        }, () -> info);
        tls = TlsContext.of(config.tls());
        Authenticator authenticator = new Authenticator(config.credentials());
        OperatorService operatorService = new OperatorService(loop, core, leadership, masterHealth, events, config.acls(), tls);
        server = NettyServerBuilder.forAddress(new InetSocketAddress(config.ip(), config.port()),
                        TlsContext.serverCredentials(tls))
                .maxInboundMessageSize(config.maxInboundMessageBytes())
                .addService(ServerInterceptors.intercept(
                        new SchedulerService(loop, core, leadership, faults, config.outboundQueueCapacity()),
                        new AuthInterceptor(authenticator, "frameworks", config.authenticateFrameworks(), Set.of()),
                        new PeerInterceptor()))
                .addService(ServerInterceptors.intercept(
                        new AgentLinkService(loop, core, leadership, config.outboundQueueCapacity(), config.acls()),
                        new AuthInterceptor(authenticator, "agents", config.authenticateAgents(), Set.of()),
                        new PeerInterceptor()))
                .addService(ServerInterceptors.intercept(
                        operatorService,
                        new AuthInterceptor(authenticator, "operators", config.authenticateOperators(),
                                Set.of(OperatorGrpc.getGetHealthMethod().getFullMethodName())),
                        new PeerInterceptor()))
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .addService(io.grpc.protobuf.services.ProtoReflectionService.newInstance()) // v1alpha: older grpcurl
                .intercept(new GrpcMetricsInterceptor(metrics))
                .build();
        try {
            server.start();
        } catch (IOException e) {
            loop.close();
            loop = null;
            server = null;
            closeTls();
            throw new IOException("cannot bind the master to " + config.ip() + ":" + config.port() + ": " + e.getMessage(), e);
        }
        http = new HttpEndpoints(core::snapshot, leadership, masterHealth, metrics, tls, authenticator,
                config.authenticateHttp(), config.acls(), new OperatorHttpApi(core::snapshot, leadership, operatorService,
                        events, config.acls(), tls != null, config.authenticateOperators(), OperatorEvents.QUEUE_CAPACITY));
        int httpPort;
        try {
            httpPort = http.start(config.ip(), config.httpPort());
        } catch (Exception e) {
            http.close();
            server.shutdownNow();
            loop.close();
            loop = null;
            server = null;
            closeTls();
            throw new IOException("cannot bind the master's HTTP endpoints to " + config.ip() + ":" + config.httpPort()
                    + ": " + e.getMessage(), e);
        }
        info = MasterInfo.newBuilder()
                .setId(masterId)
                .setHostname(config.hostname())
                .setIp(config.ip())
                .setPort(server.getPort())
                .setHttpPort(httpPort)
                .setVersion(VERSION)
                .setStartTime(config.clock().seconds())
                .build();
        health.setStatus("", HealthCheckResponse.ServingStatus.SERVING);
        setLeaderServices(false);
        if (config.zk() != null) {
            ZkUrl url = ZkUrl.parse(config.zk());
            zkClient = ZkClients.start(url, config.zkSessionTimeout(), config.zkTls());
            ZkSessionCheck.watch(zkClient, config.zkSessionTimeout());
            zkForHealth = zkClient;
            election = new ZkLeaderElection(zkClient, masterId);
            LOG.info("Master {} {} listening on {}:{}; joining the election in {}{} (ids {}-*, allocator seed {})",
                    masterId, VERSION, config.ip(), server.getPort(), url,
                    config.zkTls().enabled() ? " over TLS" : "", idPrefix, seed);
        } else {
            election = new StandaloneLeaderElection(config.clock().millis());
            LOG.info("Master {} {} listening on {}:{} standalone (ids {}-*, allocator seed {})", masterId, VERSION,
                    config.ip(), server.getPort(), idPrefix, seed);
        }
        LOG.info("Master security: TLS {}, client certificates {}, authentication of frameworks {}, agents {}, operators {},"
                + " HTTP {}; {} credentials; ACLs {}", tls == null ? "off" : "on",
                config.tls().clientAuth().name().toLowerCase(), onOff(config.authenticateFrameworks()),
                onOff(config.authenticateAgents()), onOff(config.authenticateOperators()), onOff(config.authenticateHttp()),
                config.credentials() == null ? 0 : config.credentials().size(),
                config.acls().isPermissiveDefault() ? "none (everything allowed)" : "from --acls");
        election.detector().addListener(leader -> leadership.leaderIs(leader.orElse(null)));
        election.start(info, new LeaderElection.Listener() {
            @Override
            public void elected(MasterInfo self, Registry registry) {
                takeLeadership(self, registry);
            }

            @Override
            public void suspended() {
                leadership.stopLeading();
                setLeaderServices(false);
                loop.append(core::suspend);
            }

            @Override
            public void reconnected() {
                loop.append(core::resume);
                leadership.lead(info);
                setLeaderServices(true);
            }

            @Override
            public void lost(String reason) {
                loseLeadership(reason);
            }
        });
    }

    /** Election thread: read the registry, then hand leadership to the loop and open the doors. */
    private void takeLeadership(MasterInfo self, Registry registry) {
        RegistryRecords.Recovered recovered;
        try {
            recovered = RegistryRecords.decode(registry.readAll());
        } catch (RegistryException e) {
            LOG.error("Cannot take leadership: {}", e.getMessage());
            loseLeadership("cannot read the registry: " + e.getMessage());
            return;
        }
        MasterInfo leader = self.toBuilder().setElectedTime(config.clock().seconds()).build();
        info = leader;
        loop.append(() -> core.becomeLeader(leader, registry, recovered));
        // Calls are let in only after the leadership event is queued: they always find a leader.
        leadership.lead(leader);
        setLeaderServices(true);
        elected.complete(leader);
    }

    /** Gives leadership up for good (once): stop acting, leave the election, tell the owner. */
    private void loseLeadership(String reason) {
        if (!lost.compareAndSet(false, true)) {
            return;
        }
        leadership.stopLeading();
        setLeaderServices(false);
        loop.append(() -> core.stop(reason));
        LeaderElection e = election;
        // Off the caller's thread: the caller may be the election or the loop thread itself.
        Thread t = new Thread(() -> {
            if (e != null) {
                e.close();
            }
            config.onLostLeadership().accept(reason);
        }, "mezzo-step-down");
        t.setDaemon(true);
        t.start();
    }

    private void setLeaderServices(boolean serving) {
        HealthCheckResponse.ServingStatus status = serving
                ? HealthCheckResponse.ServingStatus.SERVING
                : HealthCheckResponse.ServingStatus.NOT_SERVING;
        for (String service : LEADER_SERVICES) {
            health.setStatus(service, status);
        }
    }

    /** The bound gRPC port. */
    public synchronized int port() {
        requireStarted();
        return server.getPort();
    }

    /** The bound HTTP port. */
    public int httpPort() {
        return info().getHttpPort();
    }

    /** This master's info (with its epoch once elected). */
    public MasterInfo info() {
        MasterInfo i = info;
        if (i == null) {
            throw new IllegalStateException("master not started");
        }
        return i;
    }

    /** Whether this master leads and acts now. */
    public boolean isLeading() {
        return leadership.leading();
    }

    /** Completes with this master's info when it is elected. */
    public CompletableFuture<MasterInfo> elected() {
        return elected;
    }

    /** Completes once every event queued so far has run (tests wait on it after advancing time). */
    public synchronized CompletableFuture<Void> barrier() {
        requireStarted();
        EventLoop l = loop;
        MasterCore c = core;
        // Then publish the state, so that what the test did shows in the views at once.
        return l.barrier().thenCompose(v -> l.call(() -> {
            c.publishState();
            return null;
        }));
    }

    /** This master's metrics (what {@code GET /metrics} prints). */
    public MasterMetrics metrics() {
        return metrics;
    }

    /**
     * Stops: gives leadership up at once (so another master takes over quickly), closes every
     * stream and stops the loop. Bounded: at most a few seconds.
     */
    @Override
    public synchronized void close() {
        if (server == null) {
            return;
        }
        health.enterTerminalState();
        lost.set(true);
        leadership.stopLeading();
        if (election != null) {
            election.close();
        }
        loop.append(() -> core.stop("master stopping"));
        events.close();
        http.close();
        server.shutdownNow();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("Master gRPC server did not stop within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        loop.close();
        if (zkClient != null) {
            zkClient.close();
        }
        closeTls();
        LOG.info("Master {} stopped", info == null ? "" : info.getId());
        server = null;
    }

    /**
     * The fault-injection seam, for tests and benchmarks only (a crash, a ZooKeeper session
     * expiry); see {@link MasterFaults}. Never used by the master itself.
     */
    public MasterFaults faults() {
        return faults;
    }

    /**
     * Stops serving at once without a word to ZooKeeper, as a crash of the host would look to the
     * others: streams break, the session lingers until it expires. Reached through {@link
     * MasterFaults#crash()}; the ZooKeeper client is closed later by {@link #close()}.
     */
    synchronized void halt() {
        if (server == null) {
            return;
        }
        server.shutdownNow();
        http.close();
        loop.append(() -> core.stop("halted"));
    }

    /**
     * A crash armed by {@link MasterFaults#crashOnNext}, on the loop thread: the core stops acting
     * now, so nothing queued after the call is acted on, then the server stops as in {@link
     * #halt()} (on another thread: the loop must not wait for the master's lock).
     */
    void crashOnLoop(String reason) {
        core.stop(reason);
        Thread t = new Thread(this::halt, "mezzo-crash");
        t.setDaemon(true);
        t.start();
    }

    /** Runs {@code event} on the master's loop, for {@link MasterFaults#wedgeLoop()}. */
    synchronized void onLoop(Runnable event) {
        requireStarted();
        loop.append(event);
    }

    /** The ZooKeeper client, for {@link MasterFaults#expireZkSession()}; null when standalone. */
    synchronized CuratorFramework zkClient() {
        return zkClient;
    }

    private static String onOff(boolean b) {
        return b ? "required" : "optional";
    }

    private void closeTls() {
        if (tls != null) {
            tls.close();
            tls = null;
        }
    }

    private void requireStarted() {
        if (server == null) {
            throw new IllegalStateException("master not started");
        }
    }

    /** Events waiting on the master's loop (for the load tool and metrics); 0 before start. */
    public synchronized int loopQueueSize() {
        return loop == null ? 0 : loop.queueSize();
    }

    private static String versionOf(Class<?> c) {
        String v = c.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-dev" : v;
    }
}
