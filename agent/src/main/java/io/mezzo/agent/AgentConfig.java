package io.mezzo.agent;

import io.mezzo.agent.resources.ResourceFlags;
import io.mezzo.common.clock.Clock;
import io.mezzo.common.clock.SystemClock;
import io.mezzo.common.loop.FaultHandler;
import io.mezzo.common.loop.LoggingFaultHandler;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.security.Credential;
import io.mezzo.common.security.TlsSettings;
import io.mezzo.ha.MasterDetector;
import io.mezzo.ha.MasterDetectors;
import io.mezzo.proto.v1.Attribute;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Every setting of an {@link Agent}, with its default. Build one with {@link #builder()}; the launcher
 * maps its flags onto the builder ({@code --master}, {@code --ip}, {@code --port}, {@code --work_dir},
 * {@code --resources}, {@code --attributes}, {@code --hostname}). Invalid values throw {@link
 * IllegalArgumentException} naming the setting (and, for resources and attributes, the wrong part).
 *
 * <p>Immutable; any thread.
 *
 * @param masterDetector follows the leading master; required. The agent owns it and closes it on {@link
 *     Agent#close()}. {@link Builder#master(String)} makes one from a {@code host:port} address.
 * @param ip address the agent's gRPC server binds; default {@value #DEFAULT_IP}
 * @param port port of the agent's gRPC server, 0 for an ephemeral one (see {@link Agent#boundPort()});
 *     default {@value #DEFAULT_PORT}
 * @param hostname hostname reported to the master and frameworks; default: {@code ip}, or the local
 *     host name when {@code ip} is a wildcard address
 * @param workDir directory holding the sandboxes (created if missing); required
 * @param resources resources given with {@code --resources}; standard ones (cpus, mem, disk, ports) not
 *     named here are detected on the host. Default: none given, all detected
 * @param attributes host attributes ({@code --attributes}); default none
 * @param registrationBackoffInitial first delay before reconnecting to the master; default 1 s
 * @param registrationBackoffMax longest delay before reconnecting; default 30 s
 * @param registrationTimeout how long a new stream may wait for REGISTERED before the agent tries
 *     again; default 30 s
 * @param statusUpdateRetryInitial first delay before resending an unacknowledged status update;
 *     default 10 s
 * @param statusUpdateRetryMax longest delay between resends of a status update; default 10 min
 * @param defaultKillGracePeriod time between SIGTERM and SIGKILL when neither the kill nor the task has
 *     a kill policy; default 3 s
 * @param shutdownTimeout how long {@link Agent#close()} waits for killed processes to go away; default
 *     10 s
 * @param environment the agent's environment, from which tasks get PATH, LANG and TZ; default the
 *     process environment
 * @param clock source of time for every timer of the agent; default the system clock
 * @param faultHandler told of broken invariants; default: log at ERROR
 * @param onShutdown run (on a thread of its own, after the agent has closed) when the master sends
 *     SHUTDOWN; the launcher exits the process there. Default: nothing
 * @param isolation {@code --isolation}: how containers are isolated; default {@link IsolationMode#AUTO}
 *     (cgroups when the agent can manage them, else posix)
 * @param cgroupsRoot {@code --cgroups_root}: the cgroup, under each hierarchy, holding the containers'
 *     cgroups; default {@value #DEFAULT_CGROUPS_ROOT}
 * @param cgroupsEnableCfs {@code --cgroups_enable_cfs}: cap each container's CPU time at its cpus
 *     (CFS quota) instead of only weighting it; default off
 * @param enforceDiskLimit {@code --enforce_disk_limit}: fail a task whose sandbox grows past its disk
 *     resource (otherwise a WARN line); default off
 * @param switchUser {@code --switch_user}: run tasks as CommandInfo.user or FrameworkInfo.user when
 *     the agent runs as root; default on
 * @param allowRootTasks {@code --allow_root_tasks}: an agent running as root may run tasks as root
 *     (a task naming root, naming no user, or any task with --switch_user off); default off
 * @param usageInterval how often containers' memory is checked and usage sampled; default 1 s
 * @param diskWatchInterval {@code --disk_watch_interval}: how often sandboxes' disk usage and the work
 *     directory's file system are measured; default 15 s
 * @param gcDelay {@code --gc_delay}: how long a finished task's sandbox is kept; default 1 week
 * @param gcDiskWatermark {@code --gc_disk_watermark}: fraction of the work directory's file system in
 *     use above which finished sandboxes are removed at once, oldest first; default 0.9
 * @param recover {@code --recover}: what a restarted agent does with what it finds in its work
 *     directory; default {@link RecoverMode#RECONNECT}
 * @param fetcherCacheDir {@code --fetcher_cache_dir}: the fetcher's cache; default {@code
 *     <work_dir>/fetcher-cache}
 * @param fetcherCacheSizeBytes {@code --fetcher_cache_size}: the most the cache holds; default 2 GB
 * @param killTasksOnStop whether {@link Agent#close()} kills tasks of checkpointing frameworks too. On
 *     by default for embedded agents (tests, {@code mezzo dev}); {@code mezzo agent} turns it off, so
 *     that a stopped agent leaves those tasks running for the next one to recover (upgrades)
 * @param tls {@code --tls_cert}, {@code --tls_key}, {@code --tls_ca}, {@code --tls_client_auth}: the
 *     agent's own gRPC port serves TLS with its certificate (asking clients for one as the flag
 *     says), and the agent reaches the masters over TLS, verifying them with the CA and presenting
 *     its certificate (its common name is the agent's principal); default plaintext
 * @param credential {@code --credential}: the principal and secret the agent authenticates to the
 *     masters with; default none
 * @param httpPort {@code --http_port}: port of the agent's HTTP endpoints ({@code /metrics}, {@code
 *     /health/live}, the sandbox files API), on {@code ip}; 0 for an ephemeral one (see {@link
 *     Agent#httpPort()}). Default {@value #DEFAULT_HTTP_PORT}, or ephemeral when the gRPC port is 0
 */
public record AgentConfig(
        MasterDetector masterDetector,
        String ip,
        int port,
        String hostname,
        Path workDir,
        Resources resources,
        List<Attribute> attributes,
        Duration registrationBackoffInitial,
        Duration registrationBackoffMax,
        Duration registrationTimeout,
        Duration statusUpdateRetryInitial,
        Duration statusUpdateRetryMax,
        Duration defaultKillGracePeriod,
        Duration shutdownTimeout,
        Map<String, String> environment,
        Clock clock,
        FaultHandler faultHandler,
        Runnable onShutdown,
        IsolationMode isolation,
        String cgroupsRoot,
        boolean cgroupsEnableCfs,
        boolean enforceDiskLimit,
        boolean switchUser,
        boolean allowRootTasks,
        Duration usageInterval,
        Duration diskWatchInterval,
        Duration gcDelay,
        double gcDiskWatermark,
        RecoverMode recover,
        Path fetcherCacheDir,
        long fetcherCacheSizeBytes,
        boolean killTasksOnStop,
        TlsSettings tls,
        Credential credential,
        int httpPort) {

    /** {@code --isolation}. */
    public enum IsolationMode {
        /** cgroups when the agent can manage them, else posix (with one WARN line). */
        AUTO,
        /** cgroups (v2 or v1, detected); the agent refuses to start without them. */
        CGROUPS,
        /** Process sessions only; limits enforced by sampling, best-effort. */
        POSIX
    }

    /** {@code --recover}. */
    public enum RecoverMode {
        /** Recover the checkpointed agent, frameworks and tasks, and re-register under the same id. */
        RECONNECT,
        /** Kill whatever the previous agent left running, forget its state, register as a new agent. */
        CLEANUP
    }

    /** Default bind address. */
    public static final String DEFAULT_IP = "127.0.0.1";
    /** Default port, as Mesos agents use. */
    public static final int DEFAULT_PORT = 5051;
    /** Default {@code --http_port} (the master's HTTP endpoints default to 5052). */
    public static final int DEFAULT_HTTP_PORT = 5053;
    /** Default first reconnection delay. */
    public static final Duration DEFAULT_REGISTRATION_BACKOFF_INITIAL = Duration.ofSeconds(1);
    /** Default longest reconnection delay. */
    public static final Duration DEFAULT_REGISTRATION_BACKOFF_MAX = Duration.ofSeconds(30);
    /** Default wait for REGISTERED. */
    public static final Duration DEFAULT_REGISTRATION_TIMEOUT = Duration.ofSeconds(30);
    /** Default first status update retry delay, as Mesos. */
    public static final Duration DEFAULT_STATUS_UPDATE_RETRY_INITIAL = Duration.ofSeconds(10);
    /** Default longest status update retry delay, as Mesos. */
    public static final Duration DEFAULT_STATUS_UPDATE_RETRY_MAX = Duration.ofMinutes(10);
    /** Default SIGTERM-to-SIGKILL grace period, as Mesos. */
    public static final Duration DEFAULT_KILL_GRACE_PERIOD = Duration.ofSeconds(3);
    /** Default wait for killed processes on close. */
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);
    /** Default {@code --cgroups_root}. */
    public static final String DEFAULT_CGROUPS_ROOT = "mezzo";
    /** Default usage sampling interval. */
    public static final Duration DEFAULT_USAGE_INTERVAL = Duration.ofSeconds(1);
    /** Default {@code --disk_watch_interval}. */
    public static final Duration DEFAULT_DISK_WATCH_INTERVAL = Duration.ofSeconds(15);
    /** Default {@code --gc_delay}, as Mesos. */
    public static final Duration DEFAULT_GC_DELAY = Duration.ofDays(7);
    /** Default {@code --gc_disk_watermark}. */
    public static final double DEFAULT_GC_DISK_WATERMARK = 0.9;
    /** Default {@code --fetcher_cache_size}: 2 GB, as Mesos. */
    public static final long DEFAULT_FETCHER_CACHE_SIZE = 2L * 1024 * 1024 * 1024;
    /** Default fetcher cache directory under the work directory. */
    public static final String DEFAULT_FETCHER_CACHE_DIR = "fetcher-cache";

    /** Checks every setting and freezes the collections. */
    public AgentConfig {
        if (masterDetector == null) {
            throw new IllegalArgumentException("--master is required");
        }
        if (ip == null || ip.isBlank()) {
            throw new IllegalArgumentException("--ip is empty");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port " + port + " is outside 0-65535");
        }
        if (httpPort < 0 || httpPort > 65535) {
            throw new IllegalArgumentException("--http_port " + httpPort + " is outside 0-65535");
        }
        if (hostname == null || hostname.isBlank()) {
            throw new IllegalArgumentException("--hostname is empty");
        }
        if (workDir == null || workDir.toString().isEmpty()) {
            throw new IllegalArgumentException("--work_dir is required");
        }
        Objects.requireNonNull(resources, "resources");
        attributes = List.copyOf(attributes);
        positive("registration backoff", registrationBackoffInitial);
        positive("registration backoff maximum", registrationBackoffMax);
        if (registrationBackoffMax.compareTo(registrationBackoffInitial) < 0) {
            throw new IllegalArgumentException("registration backoff maximum " + registrationBackoffMax
                    + " is shorter than its initial delay " + registrationBackoffInitial);
        }
        positive("registration timeout", registrationTimeout);
        positive("status update retry", statusUpdateRetryInitial);
        positive("status update retry maximum", statusUpdateRetryMax);
        if (statusUpdateRetryMax.compareTo(statusUpdateRetryInitial) < 0) {
            throw new IllegalArgumentException("status update retry maximum " + statusUpdateRetryMax
                    + " is shorter than its initial delay " + statusUpdateRetryInitial);
        }
        if (defaultKillGracePeriod == null || defaultKillGracePeriod.isNegative()) {
            throw new IllegalArgumentException("default kill grace period must not be negative");
        }
        positive("shutdown timeout", shutdownTimeout);
        environment = Map.copyOf(environment);
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(faultHandler, "faultHandler");
        Objects.requireNonNull(onShutdown, "onShutdown");
        Objects.requireNonNull(isolation, "isolation");
        if (cgroupsRoot == null) {
            throw new IllegalArgumentException("--cgroups_root is empty");
        }
        String rootError = io.mezzo.agent.containerizer.cgroups.CgroupsDetector.checkRoot(cgroupsRoot);
        if (rootError != null) {
            throw new IllegalArgumentException(rootError);
        }
        positive("usage interval", usageInterval);
        positive("--disk_watch_interval", diskWatchInterval);
        if (gcDelay == null || gcDelay.isNegative()) {
            throw new IllegalArgumentException("--gc_delay must not be negative, not " + gcDelay);
        }
        if (!(gcDiskWatermark > 0 && gcDiskWatermark <= 1)) {
            throw new IllegalArgumentException("--gc_disk_watermark " + gcDiskWatermark + " is not in (0, 1]");
        }
        Objects.requireNonNull(recover, "recover");
        if (fetcherCacheDir == null) {
            fetcherCacheDir = workDir.resolve(DEFAULT_FETCHER_CACHE_DIR);
        }
        if (fetcherCacheSizeBytes < 0) {
            throw new IllegalArgumentException("--fetcher_cache_size must not be negative, not "
                    + fetcherCacheSizeBytes);
        }
    }

    /** The settings that matter to an operator; the environment is left out (it may hold secrets). */
    @Override
    public String toString() {
        return "AgentConfig[master=" + masterDetector + ", ip=" + ip + ", port=" + port + ", hostname=" + hostname
                + ", workDir=" + workDir + ", resources=" + resources + ", attributes=" + attributes.size()
                + ", registrationBackoff=" + registrationBackoffInitial + ".." + registrationBackoffMax
                + ", registrationTimeout=" + registrationTimeout
                + ", statusUpdateRetry=" + statusUpdateRetryInitial + ".." + statusUpdateRetryMax
                + ", defaultKillGracePeriod=" + defaultKillGracePeriod + ", shutdownTimeout=" + shutdownTimeout
                + ", isolation=" + isolation + ", cgroupsRoot=" + cgroupsRoot + ", cfs=" + cgroupsEnableCfs
                + ", enforceDiskLimit=" + enforceDiskLimit + ", switchUser=" + switchUser + ", allowRootTasks=" + allowRootTasks
                + ", diskWatchInterval=" + diskWatchInterval + ", gcDelay=" + gcDelay
                + ", gcDiskWatermark=" + gcDiskWatermark + ", recover=" + recover
                + ", fetcherCache=" + fetcherCacheDir + " (" + fetcherCacheSizeBytes + " bytes)"
                + ", killTasksOnStop=" + killTasksOnStop + ", clock=" + clock + "]";
    }

    /** A builder with every default set; {@code master} (or a detector) and {@code workDir} are required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Parses {@code --resources} (Mesos text such as {@code cpus:4;mem:8192;ports:[31000-31999]}, or
     * Mesos JSON).
     *
     * @throws IllegalArgumentException naming the flag and the wrong part
     */
    public static Resources parseResources(String text) {
        return ResourceFlags.parseResources(text);
    }

    /**
     * Parses {@code --attributes} (e.g. {@code rack:r1;zone:a}); blank means none.
     *
     * @throws IllegalArgumentException naming the flag and the wrong part
     */
    public static List<Attribute> parseAttributes(String text) {
        return ResourceFlags.parseAttributes(text);
    }

    private static void positive(String what, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, not " + d);
        }
    }

    /** Mutable builder of an {@link AgentConfig}. Not thread-safe. */
    public static final class Builder {
        private MasterDetector masterDetector;
        private String ip = DEFAULT_IP;
        private int port = DEFAULT_PORT;
        private int httpPort = -1;
        private String hostname;
        private Path workDir;
        private Resources resources = Resources.EMPTY;
        private List<Attribute> attributes = List.of();
        private Duration registrationBackoffInitial = DEFAULT_REGISTRATION_BACKOFF_INITIAL;
        private Duration registrationBackoffMax = DEFAULT_REGISTRATION_BACKOFF_MAX;
        private Duration registrationTimeout = DEFAULT_REGISTRATION_TIMEOUT;
        private Duration statusUpdateRetryInitial = DEFAULT_STATUS_UPDATE_RETRY_INITIAL;
        private Duration statusUpdateRetryMax = DEFAULT_STATUS_UPDATE_RETRY_MAX;
        private Duration defaultKillGracePeriod = DEFAULT_KILL_GRACE_PERIOD;
        private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
        private Map<String, String> environment = System.getenv();
        private Clock clock = SystemClock.INSTANCE;
        private FaultHandler faultHandler = LoggingFaultHandler.INSTANCE;
        private Runnable onShutdown = () -> {};
        private IsolationMode isolation = IsolationMode.AUTO;
        private String cgroupsRoot = DEFAULT_CGROUPS_ROOT;
        private boolean cgroupsEnableCfs;
        private boolean enforceDiskLimit;
        private boolean switchUser = true;
        private boolean allowRootTasks;
        private Duration usageInterval = DEFAULT_USAGE_INTERVAL;
        private Duration diskWatchInterval = DEFAULT_DISK_WATCH_INTERVAL;
        private Duration gcDelay = DEFAULT_GC_DELAY;
        private double gcDiskWatermark = DEFAULT_GC_DISK_WATERMARK;
        private RecoverMode recover = RecoverMode.RECONNECT;
        private Path fetcherCacheDir;
        private long fetcherCacheSizeBytes = DEFAULT_FETCHER_CACHE_SIZE;
        private boolean killTasksOnStop = true;
        private TlsSettings tls = TlsSettings.NONE;
        private Credential credential;

        /** Default: plaintext. */
        public Builder tls(TlsSettings tls) {
            this.tls = tls == null ? TlsSettings.NONE : tls;
            return this;
        }

        /** Default: none. */
        public Builder credential(Credential credential) {
            this.credential = credential;
            return this;
        }

        private Builder() {}

        /** {@code --isolation}. */
        public Builder isolation(IsolationMode isolation) {
            this.isolation = isolation;
            return this;
        }

        /** {@code --cgroups_root}. */
        public Builder cgroupsRoot(String cgroupsRoot) {
            this.cgroupsRoot = cgroupsRoot;
            return this;
        }

        /** {@code --cgroups_enable_cfs}. */
        public Builder cgroupsEnableCfs(boolean enable) {
            this.cgroupsEnableCfs = enable;
            return this;
        }

        /** {@code --enforce_disk_limit}. */
        public Builder enforceDiskLimit(boolean enforce) {
            this.enforceDiskLimit = enforce;
            return this;
        }

        /** {@code --switch_user}. */
        public Builder switchUser(boolean switchUser) {
            this.switchUser = switchUser;
            return this;
        }

        /** {@code --allow_root_tasks}. */
        public Builder allowRootTasks(boolean allow) {
            this.allowRootTasks = allow;
            return this;
        }

        /** How often containers' usage is sampled (and posix memory limits checked). */
        public Builder usageInterval(Duration interval) {
            this.usageInterval = interval;
            return this;
        }

        /** {@code --disk_watch_interval}. */
        public Builder diskWatchInterval(Duration interval) {
            this.diskWatchInterval = interval;
            return this;
        }

        /** {@code --gc_delay}. */
        public Builder gcDelay(Duration delay) {
            this.gcDelay = delay;
            return this;
        }

        /** {@code --gc_disk_watermark}. */
        public Builder gcDiskWatermark(double watermark) {
            this.gcDiskWatermark = watermark;
            return this;
        }

        /** {@code --recover}. */
        public Builder recover(RecoverMode recover) {
            this.recover = recover;
            return this;
        }

        /** {@code --fetcher_cache_dir}; null restores the default under the work directory. */
        public Builder fetcherCacheDir(Path dir) {
            this.fetcherCacheDir = dir;
            return this;
        }

        /** {@code --fetcher_cache_size} in bytes. */
        public Builder fetcherCacheSize(long bytes) {
            this.fetcherCacheSizeBytes = bytes;
            return this;
        }

        /** Whether close() kills the tasks of checkpointing frameworks too (see {@link AgentConfig}). */
        public Builder killTasksOnStop(boolean kill) {
            this.killTasksOnStop = kill;
            return this;
        }

        /**
         * {@code --master}: the master's {@code host:port}.
         *
         * @throws IllegalArgumentException if the address is malformed
         */
        public Builder master(String address) {
            this.masterDetector = MasterDetectors.fromAddress(address);
            return this;
        }

        /**
         * {@code --master} with {@code --zk_tls}: a {@code zk://} address is followed over TLS with
         * {@code zkTls} (see {@link MasterDetectors#fromAddress(String, TlsSettings)}).
         *
         * @throws IllegalArgumentException if the address is malformed, or TLS is asked for a
         *     {@code host:port} address
         */
        public Builder master(String address, TlsSettings zkTls) {
            this.masterDetector = MasterDetectors.fromAddress(address, zkTls);
            return this;
        }

        /** A detector following the leading master (the agent takes ownership). */
        public Builder masterDetector(MasterDetector detector) {
            this.masterDetector = detector;
            return this;
        }

        /** {@code --ip}. */
        public Builder ip(String ip) {
            this.ip = ip;
            return this;
        }

        /** {@code --port}; 0 picks a free port. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** {@code --http_port}; default {@value #DEFAULT_HTTP_PORT} (a free port when {@code --port} is 0). */
        public Builder httpPort(int httpPort) {
            this.httpPort = httpPort;
            return this;
        }

        /** {@code --hostname}; null restores the default. */
        public Builder hostname(String hostname) {
            this.hostname = hostname;
            return this;
        }

        /** {@code --work_dir}. */
        public Builder workDir(Path workDir) {
            this.workDir = workDir;
            return this;
        }

        /**
         * {@code --resources} as text; null or blank means "detect everything".
         *
         * @throws IllegalArgumentException naming the wrong part
         */
        public Builder resources(String text) {
            this.resources = text == null || text.isBlank() ? Resources.EMPTY : parseResources(text);
            return this;
        }

        /** Resources given as a value (standard ones missing are still detected). */
        public Builder resources(Resources resources) {
            this.resources = resources;
            return this;
        }

        /**
         * {@code --attributes} as text; null or blank means none.
         *
         * @throws IllegalArgumentException naming the wrong part
         */
        public Builder attributes(String text) {
            this.attributes = parseAttributes(text);
            return this;
        }

        /** Attributes given as values. */
        public Builder attributes(List<Attribute> attributes) {
            this.attributes = attributes;
            return this;
        }

        /** Reconnection backoff: first and longest delay. */
        public Builder registrationBackoff(Duration initial, Duration max) {
            this.registrationBackoffInitial = initial;
            this.registrationBackoffMax = max;
            return this;
        }

        /** How long to wait for REGISTERED on a new stream. */
        public Builder registrationTimeout(Duration timeout) {
            this.registrationTimeout = timeout;
            return this;
        }

        /** Status update retry backoff: first and longest delay. */
        public Builder statusUpdateRetry(Duration initial, Duration max) {
            this.statusUpdateRetryInitial = initial;
            this.statusUpdateRetryMax = max;
            return this;
        }

        /** Grace period between SIGTERM and SIGKILL when no kill policy says otherwise. */
        public Builder defaultKillGracePeriod(Duration gracePeriod) {
            this.defaultKillGracePeriod = gracePeriod;
            return this;
        }

        /** How long close() waits for killed processes. */
        public Builder shutdownTimeout(Duration timeout) {
            this.shutdownTimeout = timeout;
            return this;
        }

        /** The environment tasks take PATH, LANG and TZ from. */
        public Builder environment(Map<String, String> environment) {
            this.environment = environment;
            return this;
        }

        /** The clock (tests pass a ManualClock). */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** Where broken invariants go. */
        public Builder faultHandler(FaultHandler faultHandler) {
            this.faultHandler = faultHandler;
            return this;
        }

        /** Run when the master shuts the agent down, after the agent closed. */
        public Builder onShutdown(Runnable onShutdown) {
            this.onShutdown = onShutdown;
            return this;
        }

        /**
         * The configuration.
         *
         * @throws IllegalArgumentException naming the first invalid setting
         */
        public AgentConfig build() {
            return new AgentConfig(
                    masterDetector,
                    ip,
                    port,
                    hostname != null ? hostname : defaultHostname(ip),
                    workDir,
                    resources,
                    attributes,
                    registrationBackoffInitial,
                    registrationBackoffMax,
                    registrationTimeout,
                    statusUpdateRetryInitial,
                    statusUpdateRetryMax,
                    defaultKillGracePeriod,
                    shutdownTimeout,
                    environment,
                    clock,
                    faultHandler,
                    onShutdown,
                    isolation,
                    cgroupsRoot,
                    cgroupsEnableCfs,
                    enforceDiskLimit,
                    switchUser,
                    allowRootTasks,
                    usageInterval,
                    diskWatchInterval,
                    gcDelay,
                    gcDiskWatermark,
                    recover,
                    fetcherCacheDir,
                    fetcherCacheSizeBytes,
                    killTasksOnStop,
                    tls,
                    credential,
                    httpPort >= 0 ? httpPort : port == 0 ? 0 : DEFAULT_HTTP_PORT);
        }

        private static String defaultHostname(String ip) {
            if (ip == null || ip.isBlank()) {
                return "localhost";
            }
            if (!ip.equals("0.0.0.0") && !ip.equals("::") && !ip.equals("[::]")) {
                // Frameworks reach tasks at the address the agent listens on.
                return ip;
            }
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                return ip;
            }
        }
    }
}
