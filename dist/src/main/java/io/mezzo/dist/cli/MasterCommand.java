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

    @Option(names = "--hostname", paramLabel = "NAME",
            description = "Hostname to advertise. Default: the --ip.")
    String hostname;

    @Option(names = "--zk", paramLabel = "URL",
            description = "ZooKeeper URL (zk://host:port,.../path) for leader election among several masters."
                    + " Default: none (a single standalone master).")
    String zk;

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

    @Option(names = "--offer_timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Rescind offers not used within this time. Default: never.")
    Duration offerTimeout;

    @Option(names = "--framework_heartbeat_interval", paramLabel = "DURATION", defaultValue = "15secs",
            converter = DurationConverter.class,
            description = "Time between HEARTBEAT events to schedulers. Default: ${DEFAULT-VALUE}.")
    Duration heartbeatInterval;

    @Mixin
    LoggingOptions logging;

    @Override
    public Integer call() throws Exception {
        logging.apply("master");
        if (zk != null) {
            throw new IllegalArgumentException("--zk: replicated masters on ZooKeeper are not available in this"
                    + " build yet; run one master without --zk");
        }
        MasterConfig config = MasterConfig.builder()
                .ip(ip)
                .port(port)
                .hostname(hostname)
                .agentPingInterval(agentPingTimeout)
                .maxAgentPingTimeouts(maxAgentPingTimeouts)
                .allocationInterval(allocationInterval)
                .offerTimeout(offerTimeout)
                .frameworkHeartbeatInterval(heartbeatInterval)
                .build();
        Master master = new Master(config);
        try {
            master.start();
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        return new Daemons("master", master).await();
    }
}
