package io.mezzo.dist.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.dist.run.RunFramework;
import io.mezzo.proto.v1.FrameworkInfo;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code mezzo run}'s flags, help and framework, without a cluster. */
class RunCommandTest {

    @Test
    void everyWaitHasADocumentedDefaultBoundExceptTheTasksOwnRunTime() {
        RunCommand run = new RunCommand();
        new CommandLine(run).setDefaultValueProvider(new EnvDefaults(Map.of())).parseArgs("--", "true");

        assertThat(run.masterTimeout).isEqualTo(Duration.ofSeconds(60));
        assertThat(run.offerTimeout).isEqualTo(Duration.ofSeconds(60));
        assertThat(run.unreachableTimeout).isEqualTo(Duration.ofMinutes(5));
        assertThat(run.timeout).as("the task may run as long as it needs").isNull();
        assertThat(run.attempts).isEqualTo(3);
    }

    @Test
    void theHelpListsEveryExitCode() {
        String help = new CommandLine(new RunCommand()).getUsageMessage(CommandLine.Help.Ansi.OFF);

        assertThat(help).contains("Exit codes:")
                .contains("  0-255  the command's own exit code")
                .contains("  137    the task was killed")
                .contains("  1      the task never ran")
                .contains("  2      bad flags")
                .contains("  120    the task started and was then lost, or its agent stayed")
                .contains("  121    no leading master answered for --master_timeout")
                .contains("  122    no offer fitting the task arrived within --offer_timeout")
                .contains("  124    the task did not end within --timeout")
                .contains("  130    interrupted");
        assertThat(new int[] {RunFramework.EXIT_LOST, RunFramework.EXIT_NO_MASTER, RunFramework.EXIT_NO_OFFER,
            RunFramework.EXIT_TIMEOUT, RunFramework.EXIT_NEVER_RAN, RunFramework.EXIT_KILLED, 2, 130})
                .as("one code, one meaning").doesNotHaveDuplicates();
    }

    @Test
    void theFrameworkIsPartitionAwareAndOutlivesAMasterFailoverAndTheMasterBound() {
        FrameworkInfo info = RunCommand.framework(Duration.ofSeconds(60)).build();

        assertThat(info.getCapabilitiesList())
                .extracting(FrameworkInfo.Capability::getType)
                .containsExactly(FrameworkInfo.Capability.Type.PARTITION_AWARE);
        assertThat(info.getFailoverTimeout()).isEqualTo(360.0);
        assertThat(RunCommand.framework(Duration.ofMinutes(10)).build().getFailoverTimeout()).isEqualTo(900.0);
    }

    @Test
    void fewerThanOneAttemptIsABadFlag() {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new MezzoCommand());
        cli.setErr(new PrintWriter(err));
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println(e.getMessage());
            return e instanceof IllegalArgumentException ? 2 : 1;
        });

        assertThat(cli.execute("run", "--attempts", "0", "--", "true")).isEqualTo(2);
        assertThat(err.toString()).contains("--attempts must be at least 1, got 0");
    }
}
