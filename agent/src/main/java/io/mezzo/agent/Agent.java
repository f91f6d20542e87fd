package io.mezzo.agent;

import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.mezzo.agent.checkpoint.BootId;
import io.mezzo.agent.checkpoint.CheckpointStore;
import io.mezzo.agent.checkpoint.CorruptCheckpointException;
import io.mezzo.agent.containerizer.Containerizer;
import io.mezzo.agent.containerizer.Isolator;
import io.mezzo.agent.containerizer.LauncherScript;
import io.mezzo.agent.containerizer.ProcTable;
import io.mezzo.agent.containerizer.UsageMonitor;
import io.mezzo.agent.containerizer.cgroups.CgroupsDetector;
import io.mezzo.agent.fetcher.Fetcher;
import io.mezzo.agent.files.SandboxFiles;
import io.mezzo.agent.link.MasterLink;
import io.mezzo.agent.resources.ResourceDetector;
import io.mezzo.agent.status.StatusUpdateManager;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.security.BasicAuth;
import io.mezzo.common.security.TlsContext;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentOperatorGrpc;
import io.mezzo.proto.v1.ContainerCheckpoint;
import io.mezzo.proto.v1.GetAgentStateResponse;
import io.mezzo.proto.v1.GetContainersResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Mezzo agent: registers with the leading master, runs the command tasks the master sends it in
 * sandboxes under the work directory, and reports their status until acknowledged. See the package
 * overview for the flow.
 *
 * <p>Usage: {@code Agent agent = new Agent(config).start(); ... agent.close();}. {@link #start()} binds
 * the agent's gRPC server (operator API, health, reflection) and starts following the master; {@link
 * #close()} kills every task (SIGKILL to each process group), waits for them, and stops.
 *
 * <p>Thread-safe: {@code start} and {@code close} may be called from any thread except the agent's own
 * loop; every other method may be called from any thread. The agent's state lives on one event loop
 * thread, {@code agent-loop}. Owner: the launcher (or a test, or dev mode), which must close it.
 */
public final class Agent implements AutoCloseable {

    /** The agent's version, from the jar manifest. */
    public static final String VERSION = versionOf();

    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
    private static final Duration SERVER_STOP_TIMEOUT = Duration.ofSeconds(5);

    private enum Lifecycle {
        NEW,
        STARTED,
        CLOSED
    }

    private final AgentConfig config;
    private final CompletableFuture<AgentId> firstRegistration = new CompletableFuture<>();
    private final AgentMetrics metrics = new AgentMetrics();
    private volatile AgentId agentId;
    private volatile int boundPort = -1;
    private volatile int httpPort = -1;
    private AgentHttpEndpoints http;
    private volatile Resources total;

    // Written by start() and close() (synchronized); loop and core are also read by state() from any thread.
    private Lifecycle lifecycle = Lifecycle.NEW;
    private volatile EventLoop loop;
    private volatile AgentCore core;
    private MasterLink link;
    private Server server;
    private HealthStatusManager health;
    private ExecutorService workers;
    private volatile Containerizer containerizer;
    private CheckpointStore store;
    /** TLS material of the agent's port and of its link to the masters; null for plaintext. */
    private TlsContext tls;

    /** An agent with {@code config}; nothing runs until {@link #start()}. */
    public Agent(AgentConfig config) {
        this.config = config;
    }

    /**
     * Creates the work directory, works out the resources, binds the gRPC server on {@code ip:port} and
     * starts registering with the master.
     *
     * @return this agent
     * @throws UncheckedIOException if the work directory cannot be created or the port cannot be bound
     * @throws IllegalStateException if already started or closed
     */
    public synchronized Agent start() {
        if (lifecycle != Lifecycle.NEW) {
            throw new IllegalStateException("an agent can be started only once");
        }
        Path launcher;
        Isolator isolator;
        Fetcher fetcher;
        CheckpointStore.Recovered left;
        String bootId = BootId.current();
        store = new CheckpointStore(config.workDir());
        try {
            Files.createDirectories(config.workDir());
            checkWritable(config.workDir());
            tls = TlsContext.of(config.tls());
            store.lock();
            total = ResourceDetector.total(config.resources(), ResourceDetector.HostFacts.probe(config.workDir()));
            launcher = LauncherScript.install(config.workDir());
            isolator = isolator(config);
            try {
                fetcher = new Fetcher(config.fetcherCacheDir(), config.fetcherCacheSizeBytes(), config.clock());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot use --fetcher_cache_dir " + config.fetcherCacheDir() + ": "
                        + e.getMessage(), e);
            }
            left = store.read(config.recover() == AgentConfig.RecoverMode.CLEANUP,
                    corrupt -> LOG.warn("Skipped {} (--recover=cleanup)", corrupt.getMessage()));
            if (config.recover() == AgentConfig.RecoverMode.RECONNECT) {
                checkIsolation(left, isolator);
            }
        } catch (CorruptCheckpointException e) {
            failedStart();
            throw new IllegalStateException(e.getMessage() + "; to give up what the previous agent left, kill it and"
                    + " start anew, restart with --recover=cleanup", e);
        } catch (IOException e) {
            failedStart();
            throw new UncheckedIOException("cannot use --work_dir " + config.workDir() + ": " + describe(e), e);
        } catch (RuntimeException e) {
            failedStart();
            throw e;
        }
        lifecycle = Lifecycle.STARTED;
        loop = new EventLoop("agent-loop", config.clock(), config.faultHandler());
        workers = Executors.newCachedThreadPool(daemonThreads("agent-worker-"));
        Random random = new Random();
        containerizer = new Containerizer(loop, config.environment(), isolator, launcher);
        StatusUpdateManager updates = new StatusUpdateManager(
                loop,
                config.statusUpdateRetryInitial(),
                config.statusUpdateRetryMax(),
                random,
                update -> link.sendStatusUpdate(update));
        core = new AgentCore(config, loop, containerizer, updates, workers, store, bootId, fetcher,
                new AgentCore.Listener() {
            @Override
            public void registered(AgentId id) {
                agentId = id;
                // Completed off the loop, so that a caller's dependent actions never run on it.
                firstRegistration.completeAsync(() -> id);
            }

            @Override
            public void shutdownRequested(String reason) {
                // Not on the loop: close() waits for the loop to finish its work.
                Thread stopper = new Thread(() -> {
                    close();
                    config.onShutdown().run();
                }, "agent-shutdown");
                stopper.start();
            }
        }, metrics);
        link = new MasterLink(
                loop,
                config.masterDetector(),
                new MasterLink.Settings(
                        config.registrationBackoffInitial(),
                        config.registrationBackoffMax(),
                        config.registrationTimeout(),
                        1024),
                random,
                config.faultHandler(),
                core,
                updates::acknowledge,
                TlsContext.channelCredentials(tls),
                config.credential() == null ? null : BasicAuth.callCredentials(config.credential()));
        health = new HealthStatusManager();
        try {
            server = NettyServerBuilder.forAddress(
                            new InetSocketAddress(config.ip(), config.port()), serverCredentials())
                    .addService(new AgentOperatorService(this::state, this::containers))
                    .addService(health.getHealthService())
                    .addService(ProtoReflectionServiceV1.newInstance())
                    .build()
                    .start();
        } catch (IOException e) {
            loop.close();
            workers.shutdownNow();
            failedStart();
            throw new UncheckedIOException(
                    "cannot listen on " + config.ip() + ":" + config.port() + ": " + e.getMessage(), e);
        }
        boundPort = server.getPort();
        http = new AgentHttpEndpoints(loop, metrics, new SandboxFiles(config.workDir()));
        try {
            httpPort = http.start(config.ip(), config.httpPort());
        } catch (IOException e) {
            server.shutdownNow();
            loop.close();
            workers.shutdownNow();
            failedStart();
            throw new UncheckedIOException("cannot listen for HTTP on " + config.ip() + ":" + config.httpPort() + ": "
                    + e.getMessage(), e);
        }
        core.agentInfo(AgentInfo.newBuilder()
                .setHttpPort(httpPort)
                .setHostname(config.hostname())
                .setPort(boundPort)
                .addAllResources(total.toProto())
                .addAllAttributes(config.attributes())
                .setVersion(VERSION)
                .build());
        AgentRecovery.Result recovery;
        try {
            recovery = loop.call(() -> {
                        AgentRecovery.Result r = core.recover(left, config.recover());
                        if (r.agentId() != null) {
                            link.recovered(r.agentId());
                        }
                        core.start();
                        return r;
                    })
                    .get(config.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while recovering", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot recover the previous agent's state: " + e, e);
        }
        agentId = recovery.agentId();
        health.setStatus("", HealthCheckResponse.ServingStatus.SERVING);
        health.setStatus(AgentOperatorGrpc.SERVICE_NAME, HealthCheckResponse.ServingStatus.SERVING);
        LOG.info("Agent {} started on {}:{} with resources {} in work dir {}, isolation {}", VERSION, config.ip(),
                boundPort, total, config.workDir(), isolator.name());
        link.start();
        return this;
    }

    /** The port the gRPC server is bound to (useful with port 0), or -1 before {@link #start()}. */
    public int boundPort() {
        return boundPort;
    }

    /** The port of the HTTP endpoints (/metrics, /health/live, /files), or -1 before {@link #start()}. */
    public int httpPort() {
        return httpPort;
    }

    /** This agent's metrics (what its {@code GET /metrics} prints). */
    public AgentMetrics metrics() {
        return metrics;
    }

    /** The id the master gave this agent, once registered. */
    public Optional<AgentId> agentId() {
        return Optional.ofNullable(agentId);
    }

    /** Completed with the agent's id when it first registers; failed if the agent closes before. */
    public CompletableFuture<AgentId> registered() {
        return firstRegistration;
    }

    /** The total resources the agent offers (given plus detected), or null before {@link #start()}. */
    public Resources resources() {
        return total;
    }

    /** The agent's state as the operator API reports it, read on the agent's loop. */
    public CompletableFuture<GetAgentStateResponse> state() {
        EventLoop l = loop;
        AgentCore c = core;
        if (l == null || c == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("agent not started"));
        }
        return l.call(c::state);
    }

    /**
     * Every running container with a fresh usage sample, as {@code AgentOperator.GetContainers} answers:
     * the containers are listed (and what is shown of them copied) on the loop, and sampled on a worker.
     */
    public CompletableFuture<GetContainersResponse> containers() {
        EventLoop l = loop;
        AgentCore t = core;
        ExecutorService w = workers;
        Containerizer c = containerizer;
        if (l == null || t == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("agent not started"));
        }
        return l.call(t::containers).thenApplyAsync(views -> {
            GetContainersResponse.Builder out = GetContainersResponse.newBuilder();
            for (UsageMonitor.ContainerView view : views) {
                out.addContainers(UsageMonitor.status(view, c.sample(view.container()), config.clock().seconds()));
            }
            return out.build();
        }, w);
    }

    /** The configuration. */
    public AgentConfig config() {
        return config;
    }

    /**
     * Stops the agent: closes the master stream, SIGKILLs every task's process group and waits for
     * the processes (up to {@link AgentConfig#shutdownTimeout()}), stops the server and the loop, and
     * closes the master detector. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (lifecycle == Lifecycle.CLOSED) {
            return;
        }
        boolean started = lifecycle == Lifecycle.STARTED;
        lifecycle = Lifecycle.CLOSED;
        if (started) {
            if (loop.inLoopThread()) {
                throw new IllegalStateException("Agent.close() must not run on the agent's loop");
            }
            health.enterTerminalState();
            http.close();
            waitForTasks(stopOnLoop());
            server.shutdownNow();
            try {
                server.awaitTermination(SERVER_STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            link.awaitTermination(SERVER_STOP_TIMEOUT);
            loop.close();
            workers.shutdownNow();
            try {
                workers.awaitTermination(SERVER_STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        config.masterDetector().close();
        if (store != null) {
            store.close();
        }
        if (tls != null) {
            tls.close();
        }
        firstRegistration.completeExceptionally(new IllegalStateException("agent closed before it registered"));
        if (started) {
            LOG.info("Agent stopped");
        }
    }

    /** The agent's port: TLS with its certificate when it has one, else plaintext. */
    private ServerCredentials serverCredentials() {
        if (tls == null || !tls.settings().canServe()) {
            return InsecureServerCredentials.create();
        }
        return tls.serverCredentials();
    }

    /** Package-private for tests: the agent's loop. */
    EventLoop loop() {
        return loop;
    }

    /** Package-private for tests: the agent's core. */
    AgentCore core() {
        return core;
    }

    /** Package-private for tests: the master link. */
    MasterLink link() {
        return link;
    }

    /** Package-private for tests: the containerizer. */
    Containerizer containerizer() {
        return containerizer;
    }

    /**
     * The isolator {@code --isolation} asks for: cgroups when required or available, else posix with one
     * WARN line.
     *
     * @throws IllegalStateException if cgroups are required and cannot be managed here
     */
    private static Isolator isolator(AgentConfig config) {
        Isolator posix = Containerizer.posixIsolator(config.environment());
        if (config.isolation() == AgentConfig.IsolationMode.POSIX) {
            return posix;
        }
        CgroupsDetector.Result cgroups = CgroupsDetector.detect(config.cgroupsRoot(), config.cgroupsEnableCfs(), false);
        if (cgroups.available()) {
            return cgroups.isolator();
        }
        if (config.isolation() == AgentConfig.IsolationMode.CGROUPS) {
            throw new IllegalStateException("--isolation=cgroups: cannot manage cgroups on this host: "
                    + cgroups.reason());
        }
        LOG.warn("Isolating tasks with posix process sessions: cgroups are unavailable ({}); memory limits are"
                + " enforced best-effort by sampling and cpu is not limited", cgroups.reason());
        return posix;
    }

    /**
     * Refuses to adopt a live container launched under another isolation: its limits and kills would be
     * wrong. The operator restarts with the old {@code --isolation}, or with {@code --recover=cleanup}.
     */
    private static void checkIsolation(CheckpointStore.Recovered left, Isolator isolator) {
        for (ContainerCheckpoint c : left.containers()) {
            if (c.getCheckpoint() && c.getPid() > 0 && !c.getIsolation().equals(isolator.name())
                    && ProcTable.isRunning(c.getPid(), c.getStartTime())) {
                throw new IllegalStateException("container " + c.getContainerId().getValue() + " of task "
                        + c.getTaskId().getValue() + " still runs under " + c.getIsolation() + " isolation, but this"
                        + " agent uses " + isolator.name() + "; restart with the previous --isolation, or with"
                        + " --recover=cleanup to kill it");
            }
        }
    }

    /** Fails with the reason when the agent cannot create files in {@code dir}. */
    private static void checkWritable(Path dir) throws IOException {
        Path probe = dir.resolve(".mezzo-write-test");
        try {
            Files.writeString(probe, "ok");
            Files.delete(probe);
        } catch (IOException e) {
            throw new IOException("it is not writable (" + e.getMessage() + ")", e);
        }
    }

    /** One clause for an I/O failure, naming the file when Java's message is only its path. */
    static String describe(IOException e) {
        if (e instanceof java.nio.file.FileAlreadyExistsException) {
            return e.getMessage() + " exists and is not a directory";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied on " + e.getMessage();
        }
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file or directory " + e.getMessage();
        }
        return e.getMessage();
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Leaves the agent closed after start() failed half-way; nothing else was started yet. */
    private void failedStart() {
        lifecycle = Lifecycle.CLOSED;
        config.masterDetector().close();
        if (store != null) {
            store.close();
        }
        firstRegistration.completeExceptionally(new IllegalStateException("agent failed to start"));
    }

    private List<CompletableFuture<?>> stopOnLoop() {
        try {
            return loop.call(() -> {
                        link.close();
                        return core.stop();
                    })
                    .get(config.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("Cannot stop the agent's tasks cleanly: {}", e.toString());
        }
        return List.of();
    }

    private void waitForTasks(List<CompletableFuture<?>> gone) {
        if (gone.isEmpty()) {
            return;
        }
        try {
            CompletableFuture.allOf(gone.toArray(new CompletableFuture<?>[0]))
                    .get(config.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            LOG.warn("Error while waiting for killed task processes: {}", e.getCause().toString());
        } catch (TimeoutException e) {
            LOG.warn("Killed task processes still alive after {} ms", config.shutdownTimeout().toMillis());
        }
    }

    private static String versionOf() {
        String version = Agent.class.getPackage().getImplementationVersion();
        return version != null ? version : "dev";
    }
}
