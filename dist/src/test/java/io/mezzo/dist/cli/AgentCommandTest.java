package io.mezzo.dist.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.agent.AgentConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The agent's isolation, recovery, GC and fetcher flags: defaults, MEZZO_ variables, and malformed values. */
class AgentCommandTest {

    @TempDir
    Path work;

    private static AgentCommand parse(Map<String, String> env, String... args) {
        AgentCommand command = new AgentCommand();
        CommandLine cli = new CommandLine(command);
        cli.setDefaultValueProvider(new EnvDefaults(env));
        cli.parseArgs(args);
        return command;
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        AgentCommand agent = parse(Map.of(), "--master", "m:5050", "--work_dir", "/w");
        assertThat(agent.isolation).isEqualTo(AgentConfig.IsolationMode.AUTO);
        assertThat(agent.cgroupsRoot).isEqualTo("mezzo");
        assertThat(agent.cgroupsEnableCfs).isFalse();
        assertThat(agent.enforceDiskLimit).isFalse();
        assertThat(agent.switchUser).isTrue();
        assertThat(agent.diskWatchInterval).isEqualTo(Duration.ofSeconds(15));
        assertThat(agent.gcDelay).isEqualTo(Duration.ofDays(7));
        assertThat(agent.gcDiskWatermark).isEqualTo(0.9);
        assertThat(agent.recover).isEqualTo(AgentConfig.RecoverMode.RECONNECT);
        assertThat(agent.killTasksOnStop).isFalse();
        assertThat(agent.fetcherCacheDir).isNull();
        assertThat(agent.fetcherCacheSize).isEqualTo(2L << 30);
        assertThat(agent.killGracePeriod).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void everyNewFlagIsSettableFromItsVariableAndTheCommandLineWins() {
        AgentCommand agent = parse(Map.of(
                        "MEZZO_ISOLATION", "posix",
                        "MEZZO_CGROUPS_ENABLE_CFS", "true",
                        "MEZZO_ENFORCE_DISK_LIMIT", "true",
                        "MEZZO_SWITCH_USER", "false",
                        "MEZZO_GC_DELAY", "2days",
                        "MEZZO_GC_DISK_WATERMARK", "0.5",
                        "MEZZO_RECOVER", "CLEANUP",
                        "MEZZO_FETCHER_CACHE_SIZE", "512MB",
                        "MEZZO_FETCHER_CACHE_DIR", "/cache"),
                "--master", "m:5050", "--work_dir", "/w", "--isolation", "cgroups", "--no-switch_user");
        assertThat(agent.isolation).isEqualTo(AgentConfig.IsolationMode.CGROUPS);
        assertThat(agent.cgroupsEnableCfs).isTrue();
        assertThat(agent.enforceDiskLimit).isTrue();
        assertThat(agent.switchUser).isFalse();
        assertThat(agent.gcDelay).isEqualTo(Duration.ofDays(2));
        assertThat(agent.gcDiskWatermark).isEqualTo(0.5);
        assertThat(agent.recover).isEqualTo(AgentConfig.RecoverMode.CLEANUP);
        assertThat(agent.fetcherCacheSize).isEqualTo(512L << 20);
        assertThat(agent.fetcherCacheDir).isEqualTo(Path.of("/cache"));
        assertThat(parse(Map.of(), "--master", "m:1", "--work_dir", "/w", "--cgroups_enable_cfs").cgroupsEnableCfs)
                .isTrue();
    }

    @Test
    void malformedFlagsExitWithCode2AndSayWhatIsWrong() {
        assertThat(run("--isolation", "lxc")).startsWith("2:").contains("'lxc' is not one of auto, cgroups, posix");
        assertThat(run("--recover", "maybe")).startsWith("2:").contains("'maybe' is not one of reconnect, cleanup");
        assertThat(run("--fetcher_cache_size", "lots")).startsWith("2:").contains("'lots' is not a size");
        assertThat(run("--gc_delay", "soon")).startsWith("2:").contains("'soon' is not a duration");
        assertThat(run("--gc_disk_watermark", "1.5")).startsWith("2:")
                .contains("mezzo agent: --gc_disk_watermark 1.5 is not in (0, 1]");
        assertThat(run("--cgroups_root", "/abs")).startsWith("2:").contains("--cgroups_root '/abs' must be a relative");
    }

    /** Runs {@code mezzo agent} with {@code extra} flags; returns "exit code: stderr". */
    private String run(String... extra) {
        String[] args = new String[4 + extra.length];
        args[0] = "agent";
        args[1] = "--master";
        args[2] = "127.0.0.1:1";
        args[3] = "--work_dir=" + work;
        System.arraycopy(extra, 0, args, 4, extra.length);
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            int code = MezzoCommand.execute(args, Map.of());
            return code + ": " + captured.toString(StandardCharsets.UTF_8);
        } finally {
            System.setErr(err);
        }
    }
}
