package io.mezzo.dist.cli;

import io.grpc.StatusRuntimeException;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code mezzo} command and its subcommands. */
@Command(
        name = "mezzo",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Mezzo: a two-level cluster resource manager (masters, agents, frameworks).",
        subcommands = {MasterCommand.class, AgentCommand.class, DevCommand.class, RunCommand.class, TlsCommand.class, EventsCommand.class,
                TaskCommand.class,
                // Operator tools (docs/operations.md, "Command-line interface").
                AgentsCommand.class, FrameworksCommand.class, FrameworksCommand.Framework.class, TasksCommand.class,
                RolesCommand.class, RolesCommand.Quota.class, RolesCommand.Weights.class, LeaderCommand.class,
                MaintenanceCommand.class, RegistryCommand.class,
                // The service scheduler (docs/services.md).
                ServicesCommand.class, ServiceCommand.class},
        footer = {"", "Every flag can also be set with an environment variable MEZZO_<FLAG>,"
                + " e.g. MEZZO_WORK_DIR=/var/lib/mezzo for --work_dir. A flag on the command line wins."})
public final class MezzoCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Parses and runs {@code args} with flag defaults from {@code env}; returns the exit code. */
    public static int execute(String[] args, Map<String, String> env) {
        return commandLine(env).execute(args);
    }

    /**
     * The whole command tree as {@code bin/mezzo} runs it: flag defaults from {@code env}, the exit
     * codes footer on every operator command, and failures printed as one line on stderr with
     * their exit code ({@link ExitCodes}).
     */
    public static CommandLine commandLine(Map<String, String> env) {
        CommandLine cli = new CommandLine(new MezzoCommand());
        cli.setDefaultValueProvider(new EnvDefaults(env));
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        addExitCodes(cli);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            String name = commandLine.getCommandSpec().qualifiedName(" ");
            if (e instanceof CliFailure f) {
                commandLine.getErr().println(name + ": " + f.getMessage());
                return f.exitCode();
            }
            if (e instanceof StatusRuntimeException s) {
                CliFailure f = ExitCodes.of(s);
                commandLine.getErr().println(name + ": " + f.getMessage());
                return f.exitCode();
            }
            if (e instanceof IllegalArgumentException) {
                commandLine.getErr().println(name + ": " + e.getMessage());
                return ExitCodes.USAGE;
            }
            throw e;
        });
        return cli;
    }

    private static void addExitCodes(CommandLine cli) {
        if (cli.getCommand() instanceof OperatorCommand || cli.getCommand() instanceof EventsCommand
                || cli.getCommand() instanceof TaskCommand.Log) {
            cli.getCommandSpec().usageMessage().footer(ExitCodes.FOOTER);
        }
        cli.getSubcommands().values().forEach(MezzoCommand::addExitCodes);
    }
}
