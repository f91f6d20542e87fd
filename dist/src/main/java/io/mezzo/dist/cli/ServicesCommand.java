package io.mezzo.dist.cli;

import io.mezzo.services.ServicesConfig;
import io.mezzo.services.ServicesDaemon;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code mezzo services}: the service scheduler daemon (a framework). Runs until SIGINT/SIGTERM, or
 * until it loses its leadership for good (exit 1: restart it and it joins again as a standby).
 */
@Command(name = "services", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the service scheduler: keeps long-running services healthy, scales them, and rolls out"
                + " new versions (rolling and canary deploys). Serves the HTTP API used by `mezzo service`.",
            "Run two or more with the same --zk for high availability: one leads, the others redirect to it."})
final class ServicesCommand implements Callable<Integer> {

    @Option(names = "--master", paramLabel = "URL", required = true,
            description = "The masters: host:port or zk://hosts/path.")
    String master;

    @Option(names = "--zk", paramLabel = "URL",
            description = "ZooKeeper for leader election and state (kept under <path>/services), e.g. zk://zk1:2181/mezzo."
                    + " Default: none: one standalone daemon that keeps its state in memory only.")
    String zk;

    @Option(names = "--ip", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "Address the HTTP API binds and advertises. Default: ${DEFAULT-VALUE}.")
    String ip;

    @Option(names = "--http_port", paramLabel = "PORT", defaultValue = "5054",
            description = "HTTP API port; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
    int httpPort;

    @Option(names = "--failover_timeout", paramLabel = "DURATION", defaultValue = "7d", converter = DurationConverter.class,
            description = "How long the master keeps the services' tasks while no services daemon is connected."
                    + " Default: ${DEFAULT-VALUE}.")
    Duration failoverTimeout;

    @Mixin
    TlsOptions tls;

    @Mixin
    LoggingOptions logging;

    @Override
    public Integer call() throws Exception {
        logging.apply("services");
        Daemons[] daemon = new Daemons[1];
        ServicesDaemon services = new ServicesDaemon(ServicesConfig.builder().master(master).zk(zk).httpHost(ip)
                .httpPort(httpPort).failoverTimeout(failoverTimeout)
                .tls(tls.settings()).credential(tls.credential()).zkTls(tls.zkSettings())
                .onLost(reason -> daemon[0].stop(1)).build());
        daemon[0] = new Daemons("services", services);
        services.start();
        System.out.println("mezzo services: API at " + services.url() + "/v1/services");
        return daemon[0].await();
    }
}
