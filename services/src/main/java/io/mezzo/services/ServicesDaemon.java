package io.mezzo.services;

import io.mezzo.common.loop.EventLoop;
import io.mezzo.ha.MasterDetector;
import io.mezzo.ha.election.LeaderElection;
import io.mezzo.ha.election.StandaloneLeaderElection;
import io.mezzo.ha.election.ZkLeaderElection;
import io.mezzo.ha.registry.Registry;
import io.mezzo.ha.zk.ZkClients;
import io.mezzo.ha.zk.ZkUrl;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.scheduler.MezzoSchedulerClient;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code mezzo services}: the service scheduler daemon. Every daemon serves the HTTP API at once and
 * takes part in its own leader election (in ZooKeeper under {@code <zk path>/services}, apart from the
 * masters'); the leader reads its state from the fenced store, subscribes to the masters as the
 * framework it was (same framework id), reconciles its instances and carries on with any deployment;
 * standbys redirect API calls to it.
 *
 * <pre>
 *   start: HTTP API (standby: 307 to the leader) + election
 *   elected(epoch, fenced store) -> loop "services": manager.recover(store) -> scheduler client subscribes
 *   lost (session lost, fenced write)  -> stop acting, close the client (tasks stay), tell onLost
 * </pre>
 *
 * <p>Thread-safe. Election callbacks run on the election thread; the state lives on the loop;
 * HTTP requests on the API's executor. Owner: the command that started it.
 */
public final class ServicesDaemon implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ServicesDaemon.class);

    private final ServicesConfig config;
    private final String id = "services-" + UUID.randomUUID().toString().substring(0, 8);
    private final CompletableFuture<Void> elected = new CompletableFuture<>();
    private CuratorFramework zkClient;
    private LeaderElection election;
    private ServicesHttpApi http;
    private volatile EventLoop loop;
    private volatile ServiceManager manager;
    private volatile MezzoSchedulerClient client;
    private volatile boolean closed;

    /** A daemon for {@code config}; {@link #start()} runs it. */
    public ServicesDaemon(ServicesConfig config) {
        this.config = config;
    }

    /** Serves the API and joins the election. */
    public synchronized void start() throws IOException {
        http = new ServicesHttpApi(this, config.httpHost(), config.httpPort(), config.tls());
        http.start();
        MasterInfo candidate = MasterInfo.newBuilder().setId(id).setHostname(config.httpHost()).setIp(config.httpHost())
                .setPort(http.port()).setHttpPort(http.port()).setStartTime(config.clock().seconds()).build();
        if (config.zk() == null) {
            election = new StandaloneLeaderElection(1);
        } else {
            ZkUrl url = ZkUrl.parse(config.zk().replaceAll("/+$", "") + "/services");
            zkClient = ZkClients.start(url, ZkClients.DEFAULT_SESSION_TIMEOUT, config.zkTls());
            election = new ZkLeaderElection(zkClient, id);
        }
        election.start(candidate, new LeaderElection.Listener() {
            @Override
            public void elected(MasterInfo self, Registry registry) {
                lead(self, registry);
            }

            @Override
            public void lost(String reason) {
                stepDown(reason);
            }
        });
        LOG.info("Services daemon {} serving {}://{}:{}/v1/services ({})", id, http.scheme(), config.httpHost(), http.port(),
                config.zk() == null ? "standalone, state in memory" : "state in " + config.zk() + "/services");
    }

    /** Election thread: read the store, start the loop and the client. */
    private void lead(MasterInfo self, Registry registry) {
        Map<String, Map<String, byte[]>> records = registry.readAll();
        EventLoop l = new EventLoop("services", config.clock(), config.faultHandler());
        ServiceManager m = new ServiceManager(l, registry, reason -> stepDown(reason));
        Optional<String> frameworkId = l.call(() -> m.recover(records)).join();
        FrameworkInfo.Builder info = FrameworkInfo.newBuilder()
                .setName(config.frameworkName())
                .setUser(config.user())
                .setFailoverTimeout(config.failoverTimeout().toSeconds())
                .setCheckpoint(true)
                .addCapabilities(FrameworkInfo.Capability.newBuilder().setType(FrameworkInfo.Capability.Type.PARTITION_AWARE))
                .addCapabilities(FrameworkInfo.Capability.newBuilder().setType(FrameworkInfo.Capability.Type.TASK_KILLING_STATE));
        frameworkId.ifPresent(f -> info.setId(FrameworkID.newBuilder().setValue(f)));
        MezzoSchedulerClient c = MezzoSchedulerClient.builder(info.build(), new ServicesScheduler(l, m, this::stepDown))
                .master(config.master(), config.zkTls())
                .tls(config.tls())
                .credential(config.credential())
                .declineUnusedOffers(false)
                .reconcileLaunchedTasks(false)
                .reconnectBackoff(Duration.ofMillis(100), Duration.ofSeconds(2))
                .faultHandler(config.faultHandler())
                .build();
        m.driver(c);
        synchronized (this) {
            if (closed) {
                c.close();
                l.close();
                return;
            }
            loop = l;
            manager = m;
            client = c;
        }
        c.start();
        LOG.info("Leading the services with epoch {}{}", self.getEpoch(),
                frameworkId.map(f -> ", taking over framework " + f).orElse(""));
        elected.complete(null);
    }

    private void stepDown(String reason) {
        MezzoSchedulerClient c;
        EventLoop l;
        synchronized (this) {
            c = client;
            l = loop;
            client = null;
            loop = null;
            manager = null;
        }
        if (c == null && l == null) {
            return;
        }
        if (closed) {
            LOG.info("Services daemon {} stops leading: {}", id, reason);
        } else {
            LOG.warn("Services daemon {} stops leading: {}", id, reason);
        }
        // Close, never tear down: the tasks stay with the master for the failover timeout.
        if (c != null) {
            c.close();
        }
        if (l != null) {
            l.close();
        }
        if (!closed) {
            config.onLost().accept(reason);
        }
    }

    /** The manager while this daemon leads, else null. */
    ServiceManager manager() {
        return manager;
    }

    /** The leading daemon's API address, if known. */
    Optional<MasterInfo> leader() {
        MasterDetector d = election == null ? null : election.detector();
        return d == null ? Optional.empty() : d.leader();
    }

    /** This daemon's id in the election. */
    String id() {
        return id;
    }

    /** The leading daemon's API URL, once known (this daemon's own when it leads). */
    public Optional<String> leaderUrl() {
        return leader().map(l -> http.scheme() + "://" + l.getHostname() + ":" + l.getHttpPort());
    }

    /** Whether this daemon leads. */
    public boolean isLeading() {
        return manager != null;
    }

    /** Completes once this daemon leads. */
    public CompletableFuture<Void> elected() {
        return elected;
    }

    /** The HTTP API port. */
    public int httpPort() {
        return http.port();
    }

    /** The API's base URL. */
    public String url() {
        return http.scheme() + "://" + config.httpHost() + ":" + http.port();
    }

    /** Stops everything; the tasks keep running (the master keeps them for the failover timeout). */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        stepDown("daemon stopping");
        if (election != null) {
            election.close();
        }
        if (http != null) {
            http.close();
        }
        if (zkClient != null) {
            zkClient.close();
        }
    }
}
