package io.mezzo.dist.cli;

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
                TaskCommand.class, ServicesCommand.class, ServiceCommand.class},
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
        CommandLine cli = new CommandLine(new MezzoCommand());
        cli.setDefaultValueProvider(new EnvDefaults(env));
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof IllegalArgumentException) {
                commandLine.getErr().println("mezzo " + commandLine.getCommandName() + ": " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cli.execute(args);
    }
}
