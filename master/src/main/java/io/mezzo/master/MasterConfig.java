package io.mezzo.master;

import io.mezzo.common.clock.Clock;
import io.mezzo.common.clock.SystemClock;
import io.mezzo.common.loop.FaultHandler;
import io.mezzo.common.loop.LoggingFaultHandler;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.security.CredentialsFile;
import io.mezzo.common.security.TlsSettings;
import io.mezzo.master.auth.Acls;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Every setting of a master, with the defaults documented in {@code mezzo master --help}. Immutable;
 * build with {@link #builder()}.
 *
 * @param ip address the gRPC server binds to
 * @param port gRPC port; 0 picks a free one
 * @param httpPort port of the HTTP endpoints (/health, /state, ...); 0 picks a free one
 * @param hostname hostname advertised in MasterInfo
 * @param frameworkHeartbeatInterval time between HEARTBEAT events to schedulers
 * @param agentPingInterval time between PINGs to each agent
 * @param maxAgentPingTimeouts PINGs an agent may leave unanswered before it is unreachable
 * @param allocationInterval time between periodic allocation cycles
 * @param offerTimeout offers not used within this time are rescinded; null for never
 * @param minAllocatable the allocator makes no offer smaller than all of these
 * @param maxCompletedTasks completed tasks kept for the operator API
 * @param outboundQueueCapacity events queued for a slow scheduler or agent before it is dropped
 * @param maxInboundMessageBytes {@code --max_message_size}: the largest message any peer may send
 *     (gRPC's max inbound message size); default 4 MiB
 * @param rateLimits {@code --rate_limits}: scheduler calls per second per principal; default none
 * @param clock time source of the event loop
 * @param faultHandler receives broken invariants
 * @param idPrefix prefix of the ids this master assigns; null for a random one per start
 * @param allocatorSeed seed of the seeds of the allocator's cycles (the order they visit agents in);
 *     null for a random one. Logged at start, and each cycle's seed at DEBUG, so that a cycle can be
 *     replayed; set it to replay (tests, debugging), production should leave it random
 *     ({@code --allocator_seed})
 * @param zk ZooKeeper URL ({@code zk://hosts/path}) for leader election and the registry; null to
 *     run standalone
 * @param zkSessionTimeout ZooKeeper session timeout: how long a crashed leader keeps leadership
 * @param agentReregisterTimeout after a failover, time agents have to re-register before they are
 *     marked unreachable
 * @param recoveryAgentRemovalLimit the largest share (0-1] of recovered agents marked unreachable
 *     at once after a failover
 * @param recoveryQuotaFraction after a failover, when roles have quota guarantees, offers wait until
 *     this share (0-1] of the recovered agents is back...
 * @param recoveryQuotaTimeout ...or until this long after the election
 * @param onLostLeadership told (once, with the reason) when this master loses leadership for good;
 *     the launcher exits the process there
 * @param tls TLS of the gRPC and HTTP ports ({@code --tls_cert}, {@code --tls_key}, {@code --tls_ca},
 *     {@code --tls_client_auth}); also used to call agents. {@link TlsSettings#NONE}: plaintext
 * @param credentials principals and secrets callers may present ({@code --credentials}); null for
 *     none (then only client certificates authenticate)
 * @param authenticateFrameworks refuse anonymous schedulers ({@code --authenticate_frameworks})
 * @param authenticateAgents refuse anonymous agents ({@code --authenticate_agents})
 * @param authenticateOperators refuse anonymous operator calls, GetHealth aside ({@code
 *     --authenticate_operators})
 * @param authenticateHttp refuse anonymous HTTP requests, /health aside ({@code --authenticate_http})
 * @param acls what principals may do ({@code --acls}); {@link Acls#PERMISSIVE} when no file is given
 * @param maxLaunchesInFlight {@code --max_launches_in_flight}: launches sent to agents whose agent has
 *     not yet sent a first update, beyond which the master makes no new offers until they settle
 *     ({@link LaunchAdmission}); 0 turns admission control off; default 1024
 * @param zkTls TLS to ZooKeeper ({@code --zk_tls}: the {@code --tls_cert}, {@code --tls_key} and {@code
 *     --tls_ca} files; the CA verifies the ZooKeeper servers); {@link TlsSettings#NONE}: plaintext
 */
public record MasterConfig(
        String ip,
        int port,
        int httpPort,
        String hostname,
        Duration frameworkHeartbeatInterval,
        Duration agentPingInterval,
        int maxAgentPingTimeouts,
        Duration allocationInterval,
        Duration offerTimeout,
        List<Resources> minAllocatable,
        int maxCompletedTasks,
        int outboundQueueCapacity,
        int maxInboundMessageBytes,
        RateLimits rateLimits,
        Clock clock,
        FaultHandler faultHandler,
        String idPrefix,
        Long allocatorSeed,
        String zk,
        Duration zkSessionTimeout,
        Duration agentReregisterTimeout,
        double recoveryAgentRemovalLimit,
        double recoveryQuotaFraction,
        Duration recoveryQuotaTimeout,
        java.util.function.Consumer<String> onLostLeadership,
        TlsSettings tls,
        CredentialsFile credentials,
        boolean authenticateFrameworks,
        boolean authenticateAgents,
        boolean authenticateOperators,
        boolean authenticateHttp,
        Acls acls,
        TlsSettings zkTls,
        int maxLaunchesInFlight) {

    /** Checks every value; throws IllegalArgumentException naming the bad setting. */
    public MasterConfig {
        Objects.requireNonNull(ip, "ip");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(faultHandler, "faultHandler");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port " + port + " is outside 0-65535");
        }
        if (httpPort < 0 || httpPort > 65535) {
            throw new IllegalArgumentException("--http_port " + httpPort + " is outside 0-65535");
        }
        requirePositive("frameworkHeartbeatInterval", frameworkHeartbeatInterval);
        requirePositive("agent_ping_timeout", agentPingInterval);
        requirePositive("allocation_interval", allocationInterval);
        if (offerTimeout != null) {
            requirePositive("offer_timeout", offerTimeout);
        }
        if (maxAgentPingTimeouts < 1) {
            throw new IllegalArgumentException("--max_agent_ping_timeouts must be at least 1, got " + maxAgentPingTimeouts);
        }
        if (maxCompletedTasks < 0) {
            throw new IllegalArgumentException("--max_completed_tasks must not be negative");
        }
        if (maxLaunchesInFlight < 0) {
            throw new IllegalArgumentException("--max_launches_in_flight must not be negative, got " + maxLaunchesInFlight);
        }
        if (outboundQueueCapacity < 1) {
            throw new IllegalArgumentException("outbound queue capacity must be at least 1");
        }
        if (rateLimits == null) {
            rateLimits = RateLimits.NONE;
        }
        if (maxInboundMessageBytes < 64 * 1024) {
            throw new IllegalArgumentException("--max_message_size must be at least 64 KiB, got " + maxInboundMessageBytes);
        }
        minAllocatable = List.copyOf(minAllocatable);
        requirePositive("zk_session_timeout", zkSessionTimeout);
        requirePositive("agent_reregister_timeout", agentReregisterTimeout);
        if (!(recoveryAgentRemovalLimit > 0 && recoveryAgentRemovalLimit <= 1)) {
            throw new IllegalArgumentException("--recovery_agent_removal_limit must be in (0%, 100%], got "
                    + recoveryAgentRemovalLimit * 100 + "%");
        }
        if (!(recoveryQuotaFraction > 0 && recoveryQuotaFraction <= 1)) {
            throw new IllegalArgumentException("--recovery_quota_fraction must be in (0%, 100%], got "
                    + recoveryQuotaFraction * 100 + "%");
        }
        requirePositive("recovery_quota_timeout", recoveryQuotaTimeout);
        Objects.requireNonNull(onLostLeadership, "onLostLeadership");
        if (zk != null) {
            io.mezzo.ha.zk.ZkUrl.parse(zk);
        }
        if (hostname == null || hostname.isBlank()) {
            hostname = ip;
        }
        if (tls == null) {
            tls = TlsSettings.NONE;
        }
        if (tls.enabled() && !tls.canServe()) {
            throw new IllegalArgumentException("--tls_ca without --tls_cert and --tls_key: a TLS master needs a certificate");
        }
        if (acls == null) {
            acls = Acls.PERMISSIVE;
        }
        if (zkTls == null) {
            zkTls = TlsSettings.NONE;
        }
        if (zkTls.enabled()) {
            if (zk == null) {
                throw new IllegalArgumentException("--zk_tls needs --zk (TLS to the ZooKeeper ensemble)");
            }
            if (zkTls.ca() == null) {
                throw new IllegalArgumentException(
                        "--zk_tls needs --tls_ca: the CA that signed the ZooKeeper servers' certificates");
            }
        }
        boolean canAuthenticate = credentials != null
                || (tls.canServe() && tls.clientAuth() != io.mezzo.common.security.ClientAuth.NONE);
        String[] required = {authenticateFrameworks ? "frameworks" : null, authenticateAgents ? "agents" : null,
                authenticateOperators ? "operators" : null, authenticateHttp ? "http" : null};
        for (String what : required) {
            if (what != null && !canAuthenticate) {
                throw new IllegalArgumentException("--authenticate_" + what
                        + " needs a way to authenticate: --credentials, or --tls_client_auth=optional|require with --tls_ca");
            }
        }
    }

    private static void requirePositive(String name, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("--" + name + " must be a positive duration, got " + d);
        }
    }

    /** A builder holding the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Messages one scheduler or agent stream may have waiting for the master's loop: gRPC inbound
     * flow control reads the next only as the loop takes one, so a flooding peer waits on its own
     * stream instead of growing the loop's queue.
     */
    public static final int INBOUND_WINDOW = 64;
    /** Default {@code --max_message_size}: gRPC's own default, 4 MiB. */
    public static final int DEFAULT_MAX_INBOUND_MESSAGE_BYTES = 4 * 1024 * 1024;

    /** Default of {@code --max_launches_in_flight}. */
    public static final int DEFAULT_MAX_LAUNCHES_IN_FLIGHT = 1024;

    /** Builds a {@link MasterConfig}; every setter has the documented default. */
    public static final class Builder {
        private String ip = "127.0.0.1";
        private int port = 5050;
        private int httpPort = 5052;
        private String hostname;
        private Duration frameworkHeartbeatInterval = Duration.ofSeconds(15);
        private Duration agentPingInterval = Duration.ofSeconds(15);
        private int maxAgentPingTimeouts = 5;
        private Duration allocationInterval = Duration.ofSeconds(1);
        private Duration offerTimeout;
        private List<Resources> minAllocatable =
                List.of(Resources.scalars(Resources.CPUS, 10), Resources.scalars(Resources.MEM, 32_000));
        private int maxCompletedTasks = 1000;
        private int outboundQueueCapacity = 10_000;
        private int maxLaunchesInFlight = DEFAULT_MAX_LAUNCHES_IN_FLIGHT;
        private int maxInboundMessageBytes = DEFAULT_MAX_INBOUND_MESSAGE_BYTES;
        private RateLimits rateLimits = RateLimits.NONE;
        private Clock clock = SystemClock.INSTANCE;
        private FaultHandler faultHandler = LoggingFaultHandler.INSTANCE;
        private String idPrefix;
        private Long allocatorSeed;
        private String zk;
        private Duration zkSessionTimeout = io.mezzo.ha.zk.ZkClients.DEFAULT_SESSION_TIMEOUT;
        private Duration agentReregisterTimeout = Duration.ofMinutes(2);
        private double recoveryAgentRemovalLimit = 1.0;
        private double recoveryQuotaFraction = 0.8;
        private Duration recoveryQuotaTimeout = Duration.ofSeconds(30);
        private java.util.function.Consumer<String> onLostLeadership = reason -> {};
        private TlsSettings tls = TlsSettings.NONE;
        private CredentialsFile credentials;
        private boolean authenticateFrameworks;
        private boolean authenticateAgents;
        private boolean authenticateOperators;
        private boolean authenticateHttp;
        private Acls acls = Acls.PERMISSIVE;
        private TlsSettings zkTls = TlsSettings.NONE;

        private Builder() {}

        /** TLS to ZooKeeper ({@code --zk_tls}: the {@code --tls_*} files). Default: plaintext. */
        public Builder zkTls(TlsSettings v) {
            zkTls = v;
            return this;
        }

        /** Default: plaintext. */
        public Builder tls(TlsSettings v) {
            tls = v;
            return this;
        }

        /** Default: none. */
        public Builder credentials(CredentialsFile v) {
            credentials = v;
            return this;
        }

        /** Default false. */
        public Builder authenticateFrameworks(boolean v) {
            authenticateFrameworks = v;
            return this;
        }

        /** Default false. */
        public Builder authenticateAgents(boolean v) {
            authenticateAgents = v;
            return this;
        }

        /** Default false. */
        public Builder authenticateOperators(boolean v) {
            authenticateOperators = v;
            return this;
        }

        /** Default false. */
        public Builder authenticateHttp(boolean v) {
            authenticateHttp = v;
            return this;
        }

        /** Default: permissive (no ACL file). */
        public Builder acls(Acls v) {
            acls = v;
            return this;
        }

        /** Default none: standalone. */
        public Builder zk(String v) {
            zk = v;
            return this;
        }

        /** Default 5 s. */
        public Builder zkSessionTimeout(Duration v) {
            zkSessionTimeout = v;
            return this;
        }

        /** Default 2 min. */
        public Builder agentReregisterTimeout(Duration v) {
            agentReregisterTimeout = v;
            return this;
        }

        /** Default 1.0 (100%). */
        public Builder recoveryAgentRemovalLimit(double v) {
            recoveryAgentRemovalLimit = v;
            return this;
        }

        /** Default 0.8 (80%). */
        public Builder recoveryQuotaFraction(double v) {
            recoveryQuotaFraction = v;
            return this;
        }

        /** Default 30 s. */
        public Builder recoveryQuotaTimeout(Duration v) {
            recoveryQuotaTimeout = v;
            return this;
        }

        /** Default: nothing (the launcher exits the process). */
        public Builder onLostLeadership(java.util.function.Consumer<String> v) {
            onLostLeadership = v;
            return this;
        }

        /** Default 127.0.0.1. */
        public Builder ip(String v) {
            ip = v;
            return this;
        }

        /** Default 5050; 0 picks a free port. */
        public Builder port(int v) {
            port = v;
            return this;
        }

        /** Default 5052; 0 picks a free port. */
        public Builder httpPort(int v) {
            httpPort = v;
            return this;
        }

        /** Default: the ip. */
        public Builder hostname(String v) {
            hostname = v;
            return this;
        }

        /** Default 15 s. */
        public Builder frameworkHeartbeatInterval(Duration v) {
            frameworkHeartbeatInterval = v;
            return this;
        }

        /** Default 15 s. */
        public Builder agentPingInterval(Duration v) {
            agentPingInterval = v;
            return this;
        }

        /** Default 5. */
        public Builder maxAgentPingTimeouts(int v) {
            maxAgentPingTimeouts = v;
            return this;
        }

        /** Default 1 s. */
        public Builder allocationInterval(Duration v) {
            allocationInterval = v;
            return this;
        }

        /** Default none (offers live until used, declined or rescinded for another reason). */
        public Builder offerTimeout(Duration v) {
            offerTimeout = v;
            return this;
        }

        /** Default: cpus 0.01 or mem 32. */
        public Builder minAllocatable(List<Resources> v) {
            minAllocatable = v;
            return this;
        }

        /** Default 1000. */
        public Builder maxCompletedTasks(int v) {
            maxCompletedTasks = v;
            return this;
        }

        /** Default 10000. */
        public Builder outboundQueueCapacity(int v) {
            outboundQueueCapacity = v;
            return this;
        }

        /** {@code --max_launches_in_flight}; default 1024, 0 for no admission control. */
        public Builder maxLaunchesInFlight(int v) {
            maxLaunchesInFlight = v;
            return this;
        }

        /** {@code --max_message_size}; default 4 MiB. */
        public Builder maxInboundMessageBytes(int v) {
            maxInboundMessageBytes = v;
            return this;
        }

        /** {@code --rate_limits}; default none. */
        public Builder rateLimits(RateLimits v) {
            rateLimits = v;
            return this;
        }

        /** Default: the system clock. */
        public Builder clock(Clock v) {
            clock = v;
            return this;
        }

        /** Default: log at ERROR. */
        public Builder faultHandler(FaultHandler v) {
            faultHandler = v;
            return this;
        }

        /** Default: random per start. */
        public Builder idPrefix(String v) {
            idPrefix = v;
            return this;
        }

        /** Default: random per start, logged. */
        public Builder allocatorSeed(Long v) {
            allocatorSeed = v;
            return this;
        }

        /** The config; throws IllegalArgumentException naming a bad setting. */
        public MasterConfig build() {
            return new MasterConfig(ip, port, httpPort, hostname, frameworkHeartbeatInterval, agentPingInterval,
                    maxAgentPingTimeouts, allocationInterval, offerTimeout, minAllocatable, maxCompletedTasks,
                    outboundQueueCapacity, maxInboundMessageBytes, rateLimits, clock, faultHandler, idPrefix, allocatorSeed, zk, zkSessionTimeout,
                    agentReregisterTimeout, recoveryAgentRemovalLimit, recoveryQuotaFraction, recoveryQuotaTimeout,
                    onLostLeadership, tls, credentials, authenticateFrameworks, authenticateAgents,
                    authenticateOperators, authenticateHttp, acls, zkTls, maxLaunchesInFlight);
        }
    }
}
