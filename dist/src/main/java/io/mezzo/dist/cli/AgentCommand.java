package io.mezzo.dist.cli;

import io.mezzo.agent.Agent;
import io.mezzo.agent.AgentConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code mezzo agent}: runs an agent until SIGINT/SIGTERM or until the master removes it. SIGTERM leaves
 * the tasks of checkpointing frameworks running for the next agent on the same work directory (unless
 * {@code --kill_tasks_on_stop}); see docs/operations.md for the upgrade procedure.
 */
@Command(name = "agent", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run an agent: it advertises this host's resources to the master and runs tasks.",
        // Operator tools for an agent of the cluster: `mezzo agent drain AGENT` and so on.
        subcommands = {AgentsCommand.Show.class, AgentsCommand.Drain.class, AgentsCommand.Reactivate.class,
                AgentsCommand.Gone.class})
final class AgentCommand implements Callable<Integer> {

    /**
     * Exit code when the master told this agent to shut down (it was marked gone): 78 (EX_CONFIG),
     * so that a supervisor can tell it from a crash. The shipped systemd unit does not restart on
     * it ({@code RestartPreventExitStatus=78}); the host runs again after {@code --recover=cleanup}.
     */
    static final int EXIT_GONE = 78;

    // Not picocli-required: `mezzo agent drain AGENT` and its siblings do not take it (checked in call()).
    @Option(names = "--master", paramLabel = "HOST:PORT|zk://...",
            description = "The master to register with: host:port of one master, or"
                    + " zk://[user:password@]host1:2181,host2:2181/mezzo to follow the elected leader (use this"
                    + " with several masters). Required to run an agent.")
    String master;

    @Option(names = "--ip", paramLabel = "IP", defaultValue = "127.0.0.1",
            description = "Address of the agent's own gRPC server (health, state). Default: ${DEFAULT-VALUE}.")
    String ip;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "5051",
            description = "Port of the agent's gRPC server; 0 picks a free one. Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--http_port", paramLabel = "PORT",
            description = "Port of the agent's HTTP endpoints (/metrics, /health/live, the sandbox files API that"
                    + " `mezzo task log` reads); 0 picks a free one. Default: 5053, or a free one when --port is 0.")
    Integer httpPort;

    @Option(names = "--hostname", paramLabel = "NAME",
            description = "Hostname reported to the master and shown in offers. Default: the --ip"
                    + " (the host name when --ip is 0.0.0.0).")
    String hostname;

    @Option(names = "--work_dir", paramLabel = "DIR",
            description = "Directory for task sandboxes and the agent's checkpoint (created if missing). Required.")
    Path workDir;

    @Option(names = "--resources", paramLabel = "SPEC",
            description = "Resources to offer, e.g. 'cpus:4;mem:8192;disk:10240;ports:[31000-32000]' or Mesos JSON;"
                    + " 'cpus(role):2' reserves for a role. Standard resources not given are detected."
                    + " Default: all detected.")
    String resources;

    @Option(names = "--attributes", paramLabel = "SPEC",
            description = "Host attributes, e.g. 'rack:r1;zone:a'. Default: none.")
    String attributes;

    @Option(names = "--isolation", paramLabel = "MODE", defaultValue = "auto", converter = IsolationConverter.class,
            description = "How tasks are kept inside their resources: cgroups (v2 or v1, detected; the agent"
                    + " refuses to start without them), posix (process sessions; memory enforced by sampling,"
                    + " best-effort), or auto: cgroups when this host lets the agent manage them, else posix."
                    + " Default: ${DEFAULT-VALUE}.")
    AgentConfig.IsolationMode isolation;

    @Option(names = "--cgroups_root", paramLabel = "PATH", defaultValue = AgentConfig.DEFAULT_CGROUPS_ROOT,
            description = "The cgroup, under each hierarchy, that holds the containers' cgroups."
                    + " Default: ${DEFAULT-VALUE}.")
    String cgroupsRoot;

    @Option(names = "--cgroups_enable_cfs", negatable = true, defaultValue = "false", fallbackValue = "true",
            arity = "0..1",
            description = "Cap each task's CPU time at its cpus with a CFS quota (cgroups), instead of only"
                    + " weighting it. Default: ${DEFAULT-VALUE}.")
    boolean cgroupsEnableCfs;

    @Option(names = "--enforce_disk_limit", negatable = true, defaultValue = "false", fallbackValue = "true",
            arity = "0..1",
            description = "Fail a task whose sandbox grows past its disk resource (otherwise a WARN line)."
                    + " Default: ${DEFAULT-VALUE}.")
    boolean enforceDiskLimit;

    @Option(names = "--disk_watch_interval", paramLabel = "DURATION", defaultValue = "15secs",
            converter = DurationConverter.class,
            description = "How often sandboxes' disk usage and the work directory's file system are measured."
                    + " Default: ${DEFAULT-VALUE}.")
    Duration diskWatchInterval;

    @Option(names = "--switch_user", negatable = true, defaultValue = "true", fallbackValue = "true", arity = "0..1",
            description = "When the agent runs as root, run each task as CommandInfo.user, else FrameworkInfo.user."
                    + " Default: ${DEFAULT-VALUE}.")
    boolean switchUser;

    @Option(names = "--allow_root_tasks", negatable = true, defaultValue = "false", fallbackValue = "true",
            arity = "0..1",
            description = "When the agent runs as root, let tasks run as root: tasks naming root or no user, and every"
                    + " task with --no-switch_user. Without it such tasks are TASK_ERROR. Default: ${DEFAULT-VALUE}.")
    boolean allowRootTasks;

    @Option(names = "--executor_shutdown_grace_period", paramLabel = "DURATION", defaultValue = "3secs",
            converter = DurationConverter.class,
            description = "Time between SIGTERM and SIGKILL when killing a task without a kill policy."
                    + " Default: ${DEFAULT-VALUE}.")
    Duration killGracePeriod;

    @Option(names = "--gc_delay", paramLabel = "DURATION", defaultValue = "1weeks", converter = DurationConverter.class,
            description = "How long a finished task's sandbox is kept before it is removed. Default: ${DEFAULT-VALUE}.")
    Duration gcDelay;

    @Option(names = "--gc_disk_watermark", paramLabel = "FRACTION", defaultValue = "0.9",
            description = "Above this fraction of the work directory's file system in use, finished sandboxes are"
                    + " removed at once, oldest first. Default: ${DEFAULT-VALUE}.")
    double gcDiskWatermark;

    @Option(names = "--recover", paramLabel = "MODE", defaultValue = "reconnect", converter = RecoverConverter.class,
            description = "What to do with what a previous agent left in --work_dir: reconnect (recover its tasks"
                    + " and re-register under its id) or cleanup (kill its tasks, forget it, register anew)."
                    + " Default: ${DEFAULT-VALUE}.")
    AgentConfig.RecoverMode recover;

    @Option(names = "--kill_tasks_on_stop", negatable = true, defaultValue = "false", fallbackValue = "true",
            arity = "0..1",
            description = "On SIGTERM, kill the tasks of checkpointing frameworks too, instead of leaving them for"
                    + " the next agent (tasks of other frameworks are always killed). Default: ${DEFAULT-VALUE}.")
    boolean killTasksOnStop;

    @Option(names = "--fetcher_cache_dir", paramLabel = "DIR",
            description = "Where fetched URIs marked cache are kept. Default: <work_dir>/fetcher-cache.")
    Path fetcherCacheDir;

    @Option(names = "--fetcher_cache_size", paramLabel = "BYTES", defaultValue = "2GB",
            converter = ByteSizeConverter.class,
            description = "The most the fetcher cache holds (e.g. 512MB, 2GB; 0 disables it); least recently used"
                    + " files are evicted first. Default: ${DEFAULT-VALUE}.")
    long fetcherCacheSize;

    @Mixin
    LoggingOptions logging;

    @Mixin
    TlsOptions tls;

    @Override
    public Integer call() throws Exception {
        if (master == null || workDir == null) {
            throw new IllegalArgumentException("running an agent needs --master and --work_dir (or MEZZO_MASTER and"
                    + " MEZZO_WORK_DIR)");
        }
        logging.apply("agent");
        Daemons[] daemon = new Daemons[1];
        AgentConfig.Builder b = AgentConfig.builder()
                .master(master, tls.zkSettings())
                .ip(ip)
                .port(port)
                .workDir(workDir)
                .isolation(isolation)
                .cgroupsRoot(cgroupsRoot)
                .cgroupsEnableCfs(cgroupsEnableCfs)
                .enforceDiskLimit(enforceDiskLimit)
                .diskWatchInterval(diskWatchInterval)
                .switchUser(switchUser)
                .allowRootTasks(allowRootTasks)
                .defaultKillGracePeriod(killGracePeriod)
                .gcDelay(gcDelay)
                .gcDiskWatermark(gcDiskWatermark)
                .recover(recover)
                .fetcherCacheDir(fetcherCacheDir)
                .fetcherCacheSize(fetcherCacheSize)
                // SIGTERM stops the agent but leaves the tasks of checkpointing frameworks running for the
                // next agent on this work directory (upgrades); see docs/operations.md.
                .killTasksOnStop(killTasksOnStop)
                .tls(tls.settings())
                .credential(tls.credential())
                .onShutdown(() -> daemon[0].stop(EXIT_GONE));
        if (httpPort != null) {
            b.httpPort(httpPort);
        }
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

    /** {@code --isolation}: auto, cgroups or posix, in any case. */
    static final class IsolationConverter implements CommandLine.ITypeConverter<AgentConfig.IsolationMode> {
        @Override
        public AgentConfig.IsolationMode convert(String value) {
            return parse(value, AgentConfig.IsolationMode.class);
        }
    }

    /** {@code --recover}: reconnect or cleanup, in any case. */
    static final class RecoverConverter implements CommandLine.ITypeConverter<AgentConfig.RecoverMode> {
        @Override
        public AgentConfig.RecoverMode convert(String value) {
            return parse(value, AgentConfig.RecoverMode.class);
        }
    }

    private static <E extends Enum<E>> E parse(String value, Class<E> type) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(value.trim())) {
                return e;
            }
        }
        StringBuilder allowed = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            allowed.append(allowed.length() == 0 ? "" : ", ").append(e.name().toLowerCase(Locale.ROOT));
        }
        throw new CommandLine.TypeConversionException("'" + value + "' is not one of " + allowed);
    }

    /** Sizes as Mesos writes them: {@code 512MB}, {@code 2GB}, {@code 1048576} (bytes); binary multiples. */
    static final class ByteSizeConverter implements CommandLine.ITypeConverter<Long> {

        private static final Pattern FORMAT = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([a-z]*)");

        @Override
        public Long convert(String value) {
            Matcher m = FORMAT.matcher(value.trim().toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new CommandLine.TypeConversionException(
                        "'" + value + "' is not a size such as 512MB, 2GB or 1048576");
            }
            double amount = Double.parseDouble(m.group(1));
            long unit = switch (m.group(2)) {
                case "", "b" -> 1L;
                case "k", "kb" -> 1L << 10;
                case "m", "mb" -> 1L << 20;
                case "g", "gb" -> 1L << 30;
                case "t", "tb" -> 1L << 40;
                default -> throw new CommandLine.TypeConversionException(
                        "'" + value + "' has unknown unit '" + m.group(2) + "' (B, KB, MB, GB, TB)");
            };
            return Math.round(amount * unit);
        }
    }
}
