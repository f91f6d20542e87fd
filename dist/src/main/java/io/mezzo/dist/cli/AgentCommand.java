package io.mezzo.dist.cli;

import io.mezzo.agent.Agent;
import io.mezzo.agent.AgentConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mezzo agent}: runs an agent until SIGINT/SIGTERM or until the master removes it. */
@Command(name = "agent", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run an agent: it advertises this host's resources to the master and runs tasks.")
final class AgentCommand implements Callable<Integer> {

    @Option(names = "--master", paramLabel = "HOST:PORT", required = true,
            description = "The master to register with, as host:port.")
    String master;

    @Option(names = "--ip", paramLabel = "IP", defaultValue = "127.0.0.1",
            description = "Address of the agent's own gRPC server (health, state). Default: ${DEFAULT-VALUE}.")
    String ip;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "5051",
            description = "Port of the agent's gRPC server; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--hostname", paramLabel = "NAME",
            description = "Hostname reported to the master and shown in offers. Default: the --ip"
                    + " (the host name when --ip is 0.0.0.0).")
    String hostname;

    @Option(names = "--work_dir", paramLabel = "DIR", required = true,
            description = "Directory for task sandboxes (created if missing). Required.")
    Path workDir;

    @Option(names = "--resources", paramLabel = "SPEC",
            description = "Resources to offer, e.g. 'cpus:4;mem:8192;disk:10240;ports:[31000-32000]' or Mesos JSON;"
                    + " 'cpus(role):2' reserves for a role. Standard resources not given are detected."
                    + " Default: all detected.")
    String resources;

    @Option(names = "--attributes", paramLabel = "SPEC",
            description = "Host attributes, e.g. 'rack:r1;zone:a'. Default: none.")
    String attributes;

    @Mixin
    LoggingOptions logging;

    @Override
    public Integer call() throws Exception {
        logging.apply("agent");
        Daemons[] daemon = new Daemons[1];
        AgentConfig.Builder b = AgentConfig.builder()
                .master(master)
                .ip(ip)
                .port(port)
                .workDir(workDir)
                // SIGTERM stops the agent but leaves the tasks of checkpointing frameworks running for the
                // next agent on this work directory (upgrades); see docs/operations.md.
                .killTasksOnStop(false)
                .onShutdown(() -> daemon[0].stop(0));
        if (hostname != null) {
            b.hostname(hostname);
        }
        if (resources != null) {
            b.resources(resources);
        }
        if (attributes != null) {
            b.attributes(attributes);
        }
        Agent agent = new Agent(b.build());
        daemon[0] = new Daemons("agent", agent);
        try {
            agent.start();
        } catch (IllegalStateException | java.io.UncheckedIOException e) {
            // A corrupt checkpoint, an unusable work directory, cgroups that cannot be managed: say which.
            System.err.println("mezzo agent: " + e.getMessage());
            daemon[0].stop(1);
            return daemon[0].await();
        }
        return daemon[0].await();
    }
}
