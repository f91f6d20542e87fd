package io.mezzo.dist.cli;

import io.mezzo.common.clock.SystemClock;
import io.mezzo.common.loop.LoggingFaultHandler;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.resources.Scalars;
import io.mezzo.dist.run.RunFramework;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Environment;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.scheduler.MezzoSchedulerClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mezzo run}: submits one command through a built-in framework ({@link RunFramework}),
 * prints each state change of the task and exits with the task's exit code, or with a code of its
 * own when it cannot tell (see the help footer). Every wait is bounded except the task's own run
 * time, which {@code --timeout} bounds when given.
 */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run one command on the cluster and exit with its exit code.",
            "Prints each state change of the task; the command's output stays in its sandbox on the agent.",
            "A task that was never started (the master or its agent lost the launch) is launched again under a new"
                    + " task id, up to --attempts launches in all."},
        footer = {"", "Exit codes:",
            "  0-255  the command's own exit code",
            "  " + RunFramework.EXIT_KILLED + "    the task was killed",
            "  " + RunFramework.EXIT_NEVER_RAN + "      the task never ran: invalid, refused, could not start,",
            "         or never started in --attempts launches",
            "  2      bad flags",
            "  " + RunFramework.EXIT_LOST + "    the task started and was then lost, or its agent stayed",
            "         unreachable past --unreachable_timeout: its outcome is unknown",
            "  " + RunFramework.EXIT_NO_MASTER + "    no leading master answered for --master_timeout",
            "  " + RunFramework.EXIT_NO_OFFER + "    no offer fitting the task arrived within --offer_timeout",
            "         (the last line says so when its role's quota limit is why;",
            "         a task above the limit outright ends at once)",
            "  " + RunFramework.EXIT_TIMEOUT + "    the task did not end within --timeout (it is killed)",
            "  130    interrupted (Ctrl-C); the task is killed",
            "A command may itself exit with one of these codes: the last line printed",
            "says which it was."})
final class RunCommand implements Callable<Integer> {

    /**
     * The framework's failover timeout beyond --master_timeout: how long the master keeps the task
     * while this command cannot reach it. Longer than a master failover (ZooKeeper session timeout,
     * election, agents re-registering), so a failover never removes the framework under a run that
     * is still trying; short enough that the task of a run killed with -9 does not linger for long.
     */
    static final Duration FAILOVER_MARGIN = Duration.ofMinutes(5);

    @Option(names = "--master", paramLabel = "HOST:PORT|zk://...", defaultValue = "127.0.0.1:5050",
            description = "The master, or zk://host:port,.../path to follow the elected leader."
                    + " Default: ${DEFAULT-VALUE}.")
    String master;

    @Option(names = "--cpus", paramLabel = "N", defaultValue = "0.1",
            description = "CPUs for the task. Default: ${DEFAULT-VALUE}.")
    String cpus;

    @Option(names = "--mem", paramLabel = "MB", defaultValue = "32",
            description = "Memory for the task in MB. Default: ${DEFAULT-VALUE}.")
    String mem;

    @Option(names = "--disk", paramLabel = "MB", defaultValue = "0",
            description = "Disk for the task in MB. Default: ${DEFAULT-VALUE}.")
    String disk;

    @Option(names = "--name", paramLabel = "NAME",
            description = "Task name. Default: the command.")
    String name;

    @Option(names = "--role", paramLabel = "ROLE", defaultValue = "*",
            description = "Role to run under. Default: ${DEFAULT-VALUE}.")
    String role;

    @Option(names = "--user", paramLabel = "USER",
            description = "User the task runs as, when the agent switches users. Default: the agent's user.")
    String user;

    @Option(names = "--env", paramLabel = "KEY=VALUE",
            description = "Environment variable for the task; repeatable. Default: none.")
    Map<String, String> env;

    @Option(names = "--shell", defaultValue = "false",
            description = "Run the arguments joined by spaces as a /bin/sh -c command line instead of a program."
                    + " Default: off.")
    boolean shell;

    @Option(names = "--checkpoint", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Ask the agent to checkpoint the task so it survives an agent restart."
                    + " Default: ${DEFAULT-VALUE}.")
    boolean checkpoint;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Kill the task and exit " + RunFramework.EXIT_TIMEOUT + " if it has not ended this long after"
                    + " mezzo run started. Default: none (the task runs as long as it needs).")
    Duration timeout;

    @Option(names = "--master_timeout", paramLabel = "DURATION", defaultValue = "60secs",
            converter = DurationConverter.class,
            description = "Exit " + RunFramework.EXIT_NO_MASTER + " if no leading master answers for this long (at the"
                    + " start, or after losing it). Default: ${DEFAULT-VALUE}.")
    Duration masterTimeout;

    @Option(names = "--offer_timeout", paramLabel = "DURATION", defaultValue = "60secs",
            converter = DurationConverter.class,
            description = "Exit " + RunFramework.EXIT_NO_OFFER + " if no offer fits the task within this time (counted"
                    + " from the first subscription of each launch attempt). Default: ${DEFAULT-VALUE}.")
    Duration offerTimeout;

    @Option(names = "--unreachable_timeout", paramLabel = "DURATION", defaultValue = "5mins",
            converter = DurationConverter.class,
            description = "Exit " + RunFramework.EXIT_LOST + " if the task's agent stays unreachable this long."
                    + " Default: ${DEFAULT-VALUE}.")
    Duration unreachableTimeout;

    @Option(names = "--attempts", paramLabel = "N", defaultValue = "3",
            description = "Launches in all for a task that is never started (reported unknown, dropped, gone or"
                    + " lost before it started). Default: ${DEFAULT-VALUE}.")
    int attempts;

    @Parameters(paramLabel = "CMD", arity = "1..*", description = "The command and its arguments.")
    List<String> command;

    @Mixin
    LoggingOptions logging;

    @Mixin
    TlsOptions tls;

    @Override
    public Integer call() throws Exception {
        if (attempts < 1) {
            throw new IllegalArgumentException("--attempts must be at least 1, got " + attempts);
        }
        logging.apply("run", "WARN");
        Resources.Builder res = Resources.builder()
                .scalar(Resources.CPUS, parsePositive("--cpus", cpus))
                .scalar(Resources.MEM, parsePositive("--mem", mem));
        long diskMilli = Scalars.parse(disk);
        if (diskMilli > 0) {
            res.scalar(Resources.DISK, diskMilli);
        }
        CommandInfo.Builder cmd = CommandInfo.newBuilder();
        if (shell) {
            cmd.setShell(String.join(" ", command));
        } else {
            cmd.addAllArgv(command);
        }
        if (env != null) {
            Environment.Builder e = Environment.newBuilder();
            env.forEach((k, v) -> e.addVariables(Environment.Variable.newBuilder().setName(k).setValue(v)));
            cmd.setEnvironment(e);
        }
        if (user != null) {
            cmd.setUser(user);
        }
        String taskId = "run-" + UUID.randomUUID().toString().substring(0, 8);
        String taskName = name != null ? name : String.join(" ", command);
        FrameworkInfo framework = framework(masterTimeout)
                .setUser(System.getProperty("user.name", ""))
                .addRoles(role)
                .setCheckpoint(checkpoint)
                .setHostname(java.net.InetAddress.getLocalHost().getHostName())
                .build();
        RunFramework scheduler = new RunFramework(taskId, taskName, res.build(), cmd.build(), System.out, "mezzo run",
                master, new RunFramework.Bounds(masterTimeout, offerTimeout, unreachableTimeout, timeout, attempts),
                SystemClock.INSTANCE, LoggingFaultHandler.INSTANCE);
        Resources request = res.build();
        // Loaded only if the run waits for an offer longer than usual (see RunFramework.QUOTA_CHECK_AFTER).
        scheduler.quotaCheck(leader -> new QuotaProbe(role, scalarsOf(request), tls.settings(), tls.zkSettings(),
                tls.credential()).check(leader));
        MezzoSchedulerClient client = MezzoSchedulerClient.builder(framework, scheduler).master(master, tls.zkSettings())
                .tls(tls.settings()).credential(tls.credential())
                .declineUnusedOffers(false) // RunFramework answers offers on its own loop, after the callback
                .build();
        Thread interrupt = new Thread(() -> stopOnSignal(client, scheduler), "mezzo-run-interrupt");
        Runtime.getRuntime().addShutdownHook(interrupt);
        try {
            client.start();
            // Bounded by the framework's own timers: only the task's run time is not, unless --timeout.
            RunFramework.Outcome outcome = scheduler.outcome().get();
            client.teardown();
            return outcome.exitCode();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(interrupt);
            } catch (IllegalStateException shuttingDown) {
                // Already shutting down: the hook is running.
            }
            client.close();
            scheduler.close();
        }
    }

    /**
     * The framework {@code mezzo run} registers: partition-aware, so that a task the master is not
     * sure about reads TASK_UNREACHABLE (wait) and only one it knows does not exist reads
     * TASK_UNKNOWN (launch again), and with a failover timeout of {@code masterTimeout} plus {@link
     * #FAILOVER_MARGIN}.
     */
    static FrameworkInfo.Builder framework(Duration masterTimeout) {
        return FrameworkInfo.newBuilder()
                .setName("mezzo-run")
                .setFailoverTimeout(masterTimeout.plus(FAILOVER_MARGIN).toSeconds())
                .addCapabilities(FrameworkInfo.Capability.newBuilder()
                        .setType(FrameworkInfo.Capability.Type.PARTITION_AWARE));
    }

    /** On Ctrl-C: kill the task, wait briefly for its end, tear the framework down. */
    private static void stopOnSignal(MezzoSchedulerClient client, RunFramework scheduler) {
        if (scheduler.outcome().isDone()) {
            return;
        }
        TaskID task = scheduler.currentTaskId();
        System.out.println("mezzo run: interrupted; killing task " + task.getValue());
        client.kill(task, null, null);
        try {
            scheduler.result().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // Best effort: teardown below kills whatever is left.
        }
        client.teardown();
        client.close();
        Runtime.getRuntime().halt(130);
    }

    private static Map<String, Long> scalarsOf(Resources r) {
        Map<String, Long> out = new java.util.TreeMap<>();
        r.scalarNames().forEach(name -> out.put(name, r.scalar(name)));
        return out;
    }

    private static long parsePositive(String flag, String value) {
        long milli;
        try {
            milli = Scalars.parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + " " + e.getMessage());
        }
        if (milli <= 0) {
            throw new IllegalArgumentException(flag + " must be positive, got " + value);
        }
        return milli;
    }
}
