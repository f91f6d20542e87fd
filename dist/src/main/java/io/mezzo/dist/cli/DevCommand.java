package io.mezzo.dist.cli;

import io.mezzo.agent.Agent;
import io.mezzo.agent.AgentConfig;
import io.mezzo.common.resources.Resources;
import io.mezzo.dist.run.RunFramework;
import io.mezzo.ha.zk.EmbeddedZooKeeper;
import io.mezzo.master.Master;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.scheduler.MezzoSchedulerClient;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code mezzo dev}: a master and an agent in one JVM on loopback, through the same code paths as
 * production, plus a demo task to show the cluster works. Runs until SIGINT/SIGTERM.
 */
@Command(name = "dev", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run a local development cluster: a master and an agent in one process on 127.0.0.1.",
            "It runs an embedded ZooKeeper, so the master is elected and keeps its registry as in production.",
            "Runs a demo task through it, prints the endpoints, and serves until Ctrl-C."})
final class DevCommand implements Callable<Integer> {

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "5050",
            description = "Master port; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--http_port", paramLabel = "PORT",
            description = "Master HTTP port; 0 picks a free one. Default: 5052, or a free one when --port is 0.")
    Integer httpPort;

    @Option(names = "--zk_port", paramLabel = "PORT", defaultValue = "0",
            description = "Port of the embedded ZooKeeper; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
    int zkPort;

    @Option(names = "--agent_port", paramLabel = "PORT", defaultValue = "5051",
            description = "Agent port; 0 picks a free one (and a free agent HTTP port, else 5053)."
                    + " Default: ${DEFAULT-VALUE}.")
    int agentPort;

    @Option(names = "--work_dir", paramLabel = "DIR",
            description = "Agent work directory (sandboxes). Default: a new directory under the system temp dir.")
    Path workDir;

    @Option(names = "--resources", paramLabel = "SPEC",
            description = "Agent resources, e.g. 'cpus:2;mem:2048'. Default: detected from this host.")
    String resources;

    @Option(names = "--demo", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Run a demo task once the cluster is up. Default: ${DEFAULT-VALUE}.")
    boolean demo;

    @Option(names = "--secure", defaultValue = "false",
            description = "Start the same cluster with TLS and authentication on: a throwaway CA and certificates"
                    + " in <work_dir>/tls, credentials for an operator and a framework, every --authenticate_* on."
                    + " Prints how to call it. Default: ${DEFAULT-VALUE}.")
    boolean secure;

    @Option(names = "--masters", paramLabel = "N", defaultValue = "1",
            description = {"Masters to run on the embedded ZooKeeper, 1 to 5. With more than one, press Enter to kill"
                    + " the leading master and watch another take over (the killed one comes back as a standby)."
                    + " Master i listens on --port + 10*i and --http_port + 10*i. Default: ${DEFAULT-VALUE}."})
    int masters;

    @Option(names = "--services_port", paramLabel = "PORT",
            description = "HTTP port of the service scheduler (mezzo service ...); 0 picks a free one; -1 runs none."
                    + " Default: 5054, or a free one when --port is 0.")
    Integer servicesPort;

    @Mixin
    LoggingOptions logging;

    @Override
    public Integer call() throws Exception {
        logging.apply("dev");
        if (workDir == null) {
            workDir = Files.createTempDirectory("mezzo-dev-");
        }
        // The same HA path as production: ZooKeeper elects the master and keeps its registry.
        EmbeddedZooKeeper zk = EmbeddedZooKeeper.start("127.0.0.1", zkPort, workDir.resolve("zookeeper"));
        String zkUrl = "zk://" + zk.connectString() + "/mezzo";
        Daemons[] daemon = new Daemons[1];
        DevSecurity security = secure ? DevSecurity.create(workDir.resolve("tls")) : null;
        // --port 0 (tests, a second dev cluster): every port is a free one unless given.
        int http = httpPort != null ? httpPort : port == 0 ? 0 : 5052;
        DevMasters all = new DevMasters(masters, zkUrl, port, http, reason -> daemon[0].stop(1),
                security == null ? c -> { } : security::master);
        try {
            all.start();
        } catch (java.io.IOException e) {
            all.close();
            zk.close();
            throw new IllegalArgumentException(e.getMessage() + " (is another mezzo dev running? try --port 0)");
        }
        Master master = all.master(0);
        AgentConfig.Builder agentConfig = AgentConfig.builder()
                .master(zkUrl)
                .ip("127.0.0.1")
                .port(agentPort)
                .httpPort(agentPort == 0 ? 0 : 5053)
                .workDir(workDir)
                // One trusted user on one host: tasks may run as that user, root included.
                .allowRootTasks(true);
        if (security != null) {
            security.agent(agentConfig);
        }
        if (resources != null) {
            agentConfig.resources(resources);
        }
        Agent agent;
        try {
            agent = new Agent(agentConfig.build());
        } catch (IllegalArgumentException e) {
            all.close();
            zk.close();
            throw e;
        }
        io.mezzo.services.ServicesDaemon[] services = new io.mezzo.services.ServicesDaemon[1];
        AutoCloseable servicesCloser = () -> {
            if (services[0] != null) {
                services[0].close();
            }
        };
        daemon[0] = new Daemons("dev cluster", servicesCloser, agent, all, zk);
        agent.start();
        agent.registered().get(30, TimeUnit.SECONDS);

        int servicesHttp = servicesPort != null ? servicesPort : port == 0 ? 0 : 5054;
        if (servicesHttp >= 0) {
            // The service scheduler, as `mezzo services` would run it: its election and state in the same ZooKeeper
            // (under --secure: over TLS to the master, with the dev framework credential).
            io.mezzo.services.ServicesConfig.Builder sb = io.mezzo.services.ServicesConfig.builder()
                    .master(zkUrl).zk(zkUrl).httpPort(servicesHttp).onLost(reason -> daemon[0].stop(1));
            if (security != null) {
                security.services(sb);
            }
            io.mezzo.services.ServicesDaemon s = new io.mezzo.services.ServicesDaemon(sb.build());
            try {
                s.start();
                services[0] = s;
            } catch (java.net.BindException e) {
                s.close();
                org.slf4j.LoggerFactory.getLogger(DevCommand.class).warn("Not starting the service scheduler: port {} is in"
                        + " use (try --services_port 0)", servicesHttp);
            }
        }
        PrintStream out = System.out;
        out.println();
        out.println("Mezzo dev cluster is up.");
        out.println("  master    127.0.0.1:" + master.port() + "  (gRPC: schedulers, agents, operator API)");
        out.println("  http      " + (security == null ? "http" : "https") + "://127.0.0.1:" + master.httpPort() + "/state  (also /health, /health/live,"
                + " /health/ready, /leader, /metrics, /agents, /frameworks, /tasks)");
        out.println("  zookeeper " + zkUrl + "  (leader election and registry; --master accepts it too)");
        out.println("  agent     127.0.0.1:" + agent.boundPort() + "  " + agent.agentId().map(Object::toString).orElse("")
                + " with " + agent.resources());
        out.println("  agent http http://127.0.0.1:" + agent.httpPort() + "/metrics  (also /health/live, /files/browse)");
        for (int i = 1; i < all.count(); i++) {
            out.println("  master    127.0.0.1:" + all.master(i).port() + "  (standby; http "
                    + all.master(i).httpPort() + ")");
        }
        if (services[0] != null) {
            out.println("  services  " + services[0].url() + "/v1/services  (service scheduler: " + launcher()
                    + " service deploy FILE, list, scale; see docs/services.md)");
        }
        out.println("  work dir  " + workDir);
        if (security == null) {
            out.println("  web UI    http://127.0.0.1:" + master.httpPort() + "/");
            out.println("  try       " + launcher() + " run --master 127.0.0.1:" + master.port() + " -- echo hello");
            out.println("            " + launcher() + " agents --master 127.0.0.1:" + master.port()
                    + "   (also tasks, frameworks, events -f; --json)");
        } else {
            security.printUsage(out, launcher(), master.port(), master.httpPort());
        }
        out.flush();
        if (demo) {
            runDemo(zkUrl, out, security);
        }
        if (all.count() > 1) {
            out.println("Failover: " + all.count() + " masters share the embedded ZooKeeper. Frameworks follow the leader"
                    + " with --master " + zkUrl + " (Java: add io.mezzo:mezzo-zk-ha).");
            out.println("  Press Enter here to kill the leading master; another is elected and the killed one restarts"
                    + " as a standby.");
            all.killLeaderOnEachLine(System.in, out);
        } else {
            out.println("To try a master failover, run mezzo dev --masters 3.");
        }
        out.println("Serving until Ctrl-C.");
        out.flush();
        return daemon[0].await();
    }

    /** How to call this launcher again: bin/mezzo of the running distribution. */
    private static String launcher() {
        String home = System.getProperty("mezzo.home");
        if (home == null) {
            return "mezzo";
        }
        Path script = Path.of(home, "bin", "mezzo");
        Path cwd = Path.of("").toAbsolutePath();
        return script.startsWith(cwd) ? cwd.relativize(script).toString() : script.toString();
    }

    private static void runDemo(String masterUrl, PrintStream out, DevSecurity security) throws Exception {
        out.println();
        out.println("Demo: running `echo hello from mezzo` through the cluster:");
        RunFramework demo = new RunFramework("demo-1", "demo", Resources.scalars(Resources.CPUS, 100, Resources.MEM, 32_000),
                CommandInfo.newBuilder().setShell("echo hello from mezzo").build(), out, "demo");
        FrameworkInfo info = FrameworkInfo.newBuilder().setName("mezzo-dev-demo").setFailoverTimeout(0).build();
        MezzoSchedulerClient.Builder builder = MezzoSchedulerClient.builder(info, demo)
                .declineUnusedOffers(false) // RunFramework answers offers on its own loop
                .master(masterUrl);
        if (security != null) {
            security.framework(builder);
        }
        try (MezzoSchedulerClient client = builder.build()) {
            client.start();
            TaskStatus status = demo.result().get(60, TimeUnit.SECONDS);
            out.println(status.getState() == io.mezzo.proto.v1.TaskState.TASK_FINISHED
                    ? "Demo finished: the cluster works."
                    : "Demo ended " + status.getState() + ": " + status.getMessage());
            client.teardown();
        }
        out.println();
    }
}
