package io.mezzo.dist.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mezzo.common.security.TlsSettings;
import io.mezzo.ha.MasterDetectors;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

class CommandLineTest {

    private static <T> T parse(T command, Map<String, String> env, String... args) {
        CommandLine cli = new CommandLine(command);
        cli.setDefaultValueProvider(new EnvDefaults(env));
        cli.parseArgs(args);
        return command;
    }

    @Test
    void flagsTakeTheirDefaultFromMezzoVariables() {
        MasterCommand master = parse(new MasterCommand(), Map.of("MEZZO_PORT", "6060", "MEZZO_AGENT_PING_TIMEOUT", "3secs"));
        assertThat(master.port).isEqualTo(6060);
        assertThat(master.agentPingTimeout).isEqualTo(Duration.ofSeconds(3));
        AgentCommand agent = parse(new AgentCommand(),
                Map.of("MEZZO_MASTER", "10.0.0.1:5050", "MEZZO_WORK_DIR", "/var/lib/mezzo", "MEZZO_RESOURCES", "cpus:2"));
        assertThat(agent.master).isEqualTo("10.0.0.1:5050");
        assertThat(agent.workDir.toString()).isEqualTo("/var/lib/mezzo");
        assertThat(agent.resources).isEqualTo("cpus:2");
    }

    @Test
    void theCommandLineWinsOverTheEnvironment() {
        MasterCommand master = parse(new MasterCommand(), Map.of("MEZZO_PORT", "6060"), "--port", "7070");
        assertThat(master.port).isEqualTo(7070);
    }

    @Test
    void withoutFlagOrVariableTheDocumentedDefaultHolds() {
        MasterCommand master = parse(new MasterCommand(), Map.of());
        assertThat(master.ip).isEqualTo("127.0.0.1");
        assertThat(master.port).isEqualTo(5050);
        assertThat(master.allocationInterval).isEqualTo(Duration.ofSeconds(1));
        RunCommand run = parse(new RunCommand(), Map.of(), "--", "echo", "hi");
        assertThat(run.cpus).isEqualTo("0.1");
        assertThat(run.mem).isEqualTo("32");
        assertThat(run.checkpoint).isTrue();
        assertThat(run.command).containsExactly("echo", "hi");
    }

    @Test
    void theAllocatorSeedIsRandomUnlessSet() {
        assertThat(parse(new MasterCommand(), Map.of()).allocatorSeed).isNull();
        assertThat(parse(new MasterCommand(), Map.of(), "--allocator_seed", "-42").allocatorSeed).isEqualTo(-42L);
        assertThat(parse(new MasterCommand(), Map.of("MEZZO_ALLOCATOR_SEED", "7")).allocatorSeed).isEqualTo(7L);
    }

    @Test
    void zkTlsIsOffByDefaultAndUsesTheTlsFilesWhenOn(@TempDir Path dir)
            throws Exception {
        Path ca = Files.writeString(dir.resolve("ca.pem"), "ca");
        for (Object command : new Object[] {new MasterCommand(), new AgentCommand(), new RunCommand()}) {
            String[] args = command instanceof RunCommand ? new String[] {"--", "true"}
                    : command instanceof AgentCommand ? new String[] {"--master", "m:5050", "--work_dir", "/w"}
                    : new String[0];
            TlsOptions off = tlsOf(parse(command, Map.of(), args));
            assertThat(off.zkSettings()).isEqualTo(TlsSettings.NONE);
        }
        TlsOptions on = parse(new MasterCommand(), Map.of("MEZZO_ZK_TLS", "true", "MEZZO_TLS_CA", ca.toString())).tls;
        assertThat(on.zkSettings().ca()).isEqualTo(ca);
        TlsOptions noCa = parse(new AgentCommand(), Map.of(), "--zk_tls", "--master", "zk://m:2181/mezzo", "--work_dir", "/w").tls;
        assertThatThrownBy(noCa::zkSettings).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--zk_tls needs --tls_ca");
        assertThatThrownBy(() -> MasterDetectors.fromAddress("10.0.0.1:5050", on.zkSettings()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--zk_tls is for a zk:// --master");
    }

    private static TlsOptions tlsOf(Object command) {
        if (command instanceof MasterCommand m) {
            return m.tls;
        }
        if (command instanceof AgentCommand a) {
            return a.tls;
        }
        return ((RunCommand) command).tls;
    }

    @Test
    void variableNamesFollowTheFlagNames() {
        assertThat(EnvDefaults.variable("--work_dir")).isEqualTo("MEZZO_WORK_DIR");
        assertThat(EnvDefaults.variable("--max_agent_ping_timeouts")).isEqualTo("MEZZO_MAX_AGENT_PING_TIMEOUTS");
    }

    @Test
    void everyOptionOfEveryCommandDocumentsItsDefault() {
        java.util.Deque<CommandLine> todo = new java.util.ArrayDeque<>(List.of(MezzoCommand.commandLine(Map.of())));
        int checked = 0;
        while (!todo.isEmpty()) {
            CommandLine sub = todo.pop();
            todo.addAll(sub.getSubcommands().values());
            for (CommandLine.Model.OptionSpec option : sub.getCommandSpec().options()) {
                if (option.usageHelp() || option.versionHelp()) {
                    continue;
                }
                String help = String.join(" ", option.description());
                boolean required = option.required() || help.contains("Required");
                assertThat(required || help.contains("Default"))
                        .as("%s %s documents its default: %s", sub.getCommandSpec().qualifiedName(" "),
                                option.longestName(), help)
                        .isTrue();
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(200);
    }

    @Test
    void malformedFlagsExitWithCode2AndAMessage() {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new MezzoCommand());
        cli.setErr(new PrintWriter(err));
        int code = cli.execute("master", "--allocation_interval", "soon");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("'soon' is not a duration");
    }

    @ParameterizedTest
    @CsvSource({"15secs,15000", "1mins,60000", "500ms,500", "2hrs,7200000", "1days,86400000", "15s,15000", "0.5secs,500"})
    void durationsParseTheMesosWay(String text, long millis) {
        assertThat(DurationConverter.parse(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @Test
    void badDurationsSayWhatIsAccepted() {
        assertThatThrownBy(() -> DurationConverter.parse("5 fortnights")).hasMessageContaining("unknown unit 'fortnights'");
    }
}
