package io.mezzo.dist.cli;

import io.mezzo.common.resources.Resources;
import io.mezzo.common.resources.Scalars;
import io.mezzo.dist.run.RunFramework;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Environment;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.scheduler.MezzoSchedulerClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mezzo run}: submits one command through a built-in framework, prints each state change of
 * the task and exits with the task's exit code.
 */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run one command on the cluster and exit with its exit code.",
            "Prints each state change of the task; the command's output stays in its sandbox on the agent."},
        footer = {"", "Exit codes: the command's own; 137 if the task was killed; 130 if interrupted;"
                + " 1 if it never ran or was lost; 2 for bad flags."})
final class RunCommand implements Callable<Integer> {

    @Option(names = "--master", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:5050",
            description = "The master. Default: ${DEFAULT-VALUE}.")
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

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60secs", converter = DurationConverter.class,
            description = "Give up if no offer fits the task within this time. Default: ${DEFAULT-VALUE}.")
    Duration timeout;

    @Parameters(paramLabel = "CMD", arity = "1..*", description = "The command and its arguments.")
    List<String> command;

    @Mixin
    LoggingOptions logging;

    @Override
    public Integer call() throws Exception {
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
        FrameworkInfo framework = FrameworkInfo.newBuilder()
                .setName("mezzo-run")
                .setUser(System.getProperty("user.name", ""))
                .addRoles(role)
                .setFailoverTimeout(60)
                .setCheckpoint(checkpoint)
                .setHostname(java.net.InetAddress.getLocalHost().getHostName())
                .build();
        RunFramework scheduler = new RunFramework(taskId, taskName, res.build(), cmd.build(), System.out, "mezzo run");
        MezzoSchedulerClient client = MezzoSchedulerClient.builder(framework, scheduler).master(master).build();
        Thread interrupt = new Thread(() -> stopOnSignal(client, scheduler), "mezzo-run-interrupt");
        Runtime.getRuntime().addShutdownHook(interrupt);
        try {
            client.start();
            try {
                scheduler.launched().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                System.err.println("mezzo run: no offer with " + res.build() + " arrived from " + master + " within "
                        + timeout.toSeconds() + "s");
                client.teardown();
                return 1;
            }
            TaskStatus status = scheduler.result().get();
            client.teardown();
            return RunFramework.exitCode(status);
        } catch (ExecutionException e) {
            System.err.println("mezzo run: " + e.getCause().getMessage());
            return 1;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(interrupt);
            } catch (IllegalStateException shuttingDown) {
                // Already shutting down: the hook is running.
            }
            client.close();
        }
    }

    /** On Ctrl-C: kill the task, wait briefly for its end, tear the framework down. */
    private static void stopOnSignal(MezzoSchedulerClient client, RunFramework scheduler) {
        if (scheduler.result().isDone()) {
            return;
        }
        System.out.println("mezzo run: interrupted; killing task " + scheduler.taskId().getValue());
        client.kill(scheduler.taskId(), null, null);
        try {
            scheduler.result().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // Best effort: teardown below kills whatever is left.
        }
        client.teardown();
        client.close();
        Runtime.getRuntime().halt(130);
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
