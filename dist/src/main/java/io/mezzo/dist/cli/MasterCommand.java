package io.mezzo.dist.cli;

import io.mezzo.master.Master;
import io.mezzo.master.MasterConfig;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mezzo master}: runs a master until SIGINT/SIGTERM. */
@Command(name = "master", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run a master: it tracks agents and frameworks and sends resource offers.")
final class MasterCommand implements Callable<Integer> {

    @Option(names = "--ip", paramLabel = "IP", defaultValue = "127.0.0.1",
            description = "Address to listen on (gRPC for schedulers, agents and operators). Default: ${DEFAULT-VALUE}.")
    String ip;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "5050",
            description = "Port to listen on; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--http_port", paramLabel = "PORT", defaultValue = "5052",
            description = "Port of the HTTP endpoints (/health, /leader, /state, /agents, /frameworks, /tasks);"
                    + " 0 picks a free one. Default: ${DEFAULT-VALUE}.")
    int httpPort;

    @Option(names = "--hostname", paramLabel = "NAME",
            description = "Hostname to advertise. Default: the --ip.")
    String hostname;

    @Option(names = "--zk", paramLabel = "URL",
            description = "ZooKeeper URL for leader election and the registry of replicated masters:"
                    + " zk://[user:password@]host1:2181,host2:2181,host3:2181/mezzo."
                    + " Default: none (one standalone master, nothing persisted).")
    String zk;

    @Option(names = "--zk_session_timeout", paramLabel = "DURATION", defaultValue = "2secs",
            converter = DurationConverter.class,
            description = "ZooKeeper session timeout: a crashed leader is replaced after about this long;"
                    + " shorter fails over faster but risks needless failovers on GC pauses. Default: ${DEFAULT-VALUE}.")
    Duration zkSessionTimeout;

    @Option(names = "--agent_reregister_timeout", paramLabel = "DURATION", defaultValue = "2mins",
            converter = DurationConverter.class,
            description = "After a failover, time agents have to re-register before they are marked unreachable."
                    + " Default: ${DEFAULT-VALUE}.")
    Duration agentReregisterTimeout;

    @Option(names = "--recovery_agent_removal_limit", paramLabel = "PERCENT", defaultValue = "100%",
            description = "After a failover, never mark more than this share of the recovered agents unreachable"
                    + " at once (e.g. 50%%). Default: ${DEFAULT-VALUE}.")
    String recoveryAgentRemovalLimit;

    @Option(names = "--recovery_quota_fraction", paramLabel = "PERCENT", defaultValue = "80%",
            description = "After a failover, when roles have quota guarantees, hold offers until this share of the"
                    + " recovered agents is back (or --recovery_quota_timeout passes). Default: ${DEFAULT-VALUE}.")
    String recoveryQuotaFraction;

    @Option(names = "--recovery_quota_timeout", paramLabel = "DURATION", defaultValue = "30secs",
            converter = DurationConverter.class,
            description = "The longest offers are held after a failover for quota guarantees. Default: ${DEFAULT-VALUE}.")
    Duration recoveryQuotaTimeout;

    @Option(names = "--agent_ping_timeout", paramLabel = "DURATION", defaultValue = "15secs",
            converter = DurationConverter.class,
            description = "Time between pings to each agent. Default: ${DEFAULT-VALUE}.")
    Duration agentPingTimeout;

    @Option(names = "--max_agent_ping_timeouts", paramLabel = "N", defaultValue = "5",
            description = "Unanswered pings after which an agent is unreachable. Default: ${DEFAULT-VALUE}.")
    int maxAgentPingTimeouts;

    @Option(names = "--allocation_interval", paramLabel = "DURATION", defaultValue = "1secs",
            converter = DurationConverter.class,
            description = "Time between periodic allocation cycles (offers are also made at once when resources"
                    + " free up). Default: ${DEFAULT-VALUE}.")
    Duration allocationInterval;

    @Option(names = "--min_allocatable_resources", paramLabel = "SPEC", defaultValue = "cpus:0.01|mem:32",
            description = "Offers smaller than all of these alternatives ('|'-separated resource sets) are not made."
                    + " Default: ${DEFAULT-VALUE}.")
    String minAllocatable;

    @Option(names = "--allocator_seed", paramLabel = "N",
            description = "Seed of the allocator's cycles (the order agents are visited in), to replay an allocation"
                    + " seen in the logs: the seed is logged at start, each cycle's at DEBUG. Production should leave"
                    + " it random. Default: random.")
    Long allocatorSeed;

    @Option(names = "--offer_timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Rescind offers not used within this time. Default: never.")
    Duration offerTimeout;

    @Option(names = "--framework_heartbeat_interval", paramLabel = "DURATION", defaultValue = "15secs",
            converter = DurationConverter.class,
            description = "Time between HEARTBEAT events to schedulers. Default: ${DEFAULT-VALUE}.")
    Duration heartbeatInterval;

    @Option(names = "--max_message_size", paramLabel = "BYTES", defaultValue = "4194304",
            description = "The largest gRPC message a scheduler, agent or operator may send; larger ones are refused"
                    + " with RESOURCE_EXHAUSTED. At least 65536. Default: ${DEFAULT-VALUE} (4 MiB).")
    int maxMessageSize;

    @Option(names = "--rate_limits", paramLabel = "JSON|FILE",
            description = "Scheduler calls per second per principal, as Mesos' --rate_limits: JSON such as"
                    + " {\"limits\": [{\"principal\": \"10.0.0.5\", \"qps\": 50, \"capacity\": 500}],"
                    + " \"aggregate_default_qps\": 10}, or a file holding it. Until principals are authenticated,"
                    + " a principal is the caller's address. Over the limit: RESOURCE_EXHAUSTED. Default: none.")
    String rateLimits;

    @Mixin
    LoggingOptions logging;

    @Mixin
    TlsOptions tls;

    @Option(names = "--credentials", paramLabel = "FILE",
            description = "Principals and secrets that frameworks, agents and operators may authenticate with"
                    + " ('principal secret' per line, or Mesos JSON {\"credentials\": [...]}). Default: none.")
    java.nio.file.Path credentials;

    @Option(names = "--authenticate_frameworks", negatable = true, defaultValue = "false", fallbackValue = "true",
            description = "Refuse schedulers that present no valid credential or client certificate."
                    + " Default: ${DEFAULT-VALUE}.")
    boolean authenticateFrameworks;

    @Option(names = "--authenticate_agents", negatable = true, defaultValue = "false", fallbackValue = "true",
            description = "Refuse agents that present no valid credential or client certificate. Default: ${DEFAULT-VALUE}.")
    boolean authenticateAgents;

    @Option(names = "--authenticate_operators", negatable = true, defaultValue = "false", fallbackValue = "true",
            description = "Refuse operator API calls (GetHealth aside) without a valid credential or client"
                    + " certificate. Default: ${DEFAULT-VALUE}.")
    boolean authenticateOperators;

    @Option(names = "--authenticate_http", negatable = true, defaultValue = "false", fallbackValue = "true",
            description = "Refuse HTTP requests (/health aside) without a valid credential (curl -u) or client"
                    + " certificate. Default: ${DEFAULT-VALUE}.")
    boolean authenticateHttp;

    @Option(names = "--acls", paramLabel = "FILE",
            description = "ACLs (JSON, see docs/security.md): who may register with which roles, run tasks as"
                    + " which users, change weights and quotas, mark agents gone, see what. Default: none"
                    + " (everything allowed).")
    java.nio.file.Path acls;

    @Override
    public Integer call() throws Exception {
        logging.apply("master");
        Daemons[] daemon = new Daemons[1];
        MasterConfig config = MasterConfig.builder()
                .httpPort(httpPort)
                .zk(zk)
                .zkSessionTimeout(zkSessionTimeout)
                .agentReregisterTimeout(agentReregisterTimeout)
                .recoveryAgentRemovalLimit(percent("--recovery_agent_removal_limit", recoveryAgentRemovalLimit))
                .recoveryQuotaFraction(percent("--recovery_quota_fraction", recoveryQuotaFraction))
                .recoveryQuotaTimeout(recoveryQuotaTimeout)
                // A master that lost leadership exits; its supervisor restarts it as a standby.
                .onLostLeadership(reason -> daemon[0].stop(1))
                .ip(ip)
                .port(port)
                .hostname(hostname)
                .agentPingInterval(agentPingTimeout)
                .maxAgentPingTimeouts(maxAgentPingTimeouts)
                .allocationInterval(allocationInterval)
                .offerTimeout(offerTimeout)
                .minAllocatable(io.mezzo.master.allocator.MinAllocatable.parse(minAllocatable))
                .allocatorSeed(allocatorSeed)
                .frameworkHeartbeatInterval(heartbeatInterval)
                .tls(tls.settings())
                .zkTls(tls.zkSettings())
                .credentials(credentials == null ? null : io.mezzo.common.security.CredentialsFile.load(credentials))
                .authenticateFrameworks(authenticateFrameworks)
                .authenticateAgents(authenticateAgents)
                .authenticateOperators(authenticateOperators)
                .authenticateHttp(authenticateHttp)
                .acls(acls == null ? null : io.mezzo.master.auth.Acls.load(acls))
                .maxInboundMessageBytes(maxMessageSize)
                .rateLimits(rateLimits == null ? null : io.mezzo.master.RateLimits.parse(
                        rateLimits.trim().startsWith("{") ? rateLimits
                                : java.nio.file.Files.readString(java.nio.file.Path.of(rateLimits))))
                .build();
        Master master = new Master(config);
        daemon[0] = new Daemons("master", master);
        try {
            master.start();
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        return daemon[0].await();
    }

    /** "50%" or "0.5" as a fraction in (0, 1]. */
    static double percent(String flag, String value) {
        String v = value.trim();
        double fraction;
        try {
            fraction = v.endsWith("%") ? Double.parseDouble(v.substring(0, v.length() - 1).trim()) / 100
                    : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " '" + value + "' is not a percentage such as 50%");
        }
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException(flag + " '" + value + "' must be above 0% and at most 100%");
        }
        return fraction;
    }
}
