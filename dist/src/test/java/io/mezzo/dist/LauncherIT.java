package io.mezzo.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.testkit.Timeouts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher as users run it: {@code bin/mezzo dev} in a child process, then {@code bin/mezzo
 * run} against it. Runs after {@code package}, on the unpacked distribution in target/mezzo.
 */
class LauncherIT {


    @TempDir
    Path work;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopEverything() throws Exception {
        for (Process p : started) {
            List<ProcessHandle> tree = p.descendants().toList();
            p.destroyForcibly();
            tree.forEach(ProcessHandle::destroyForcibly);
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static Path mezzo() {
        Path home = Path.of(System.getProperty("mezzo.home", "target/mezzo"));
        Path script = home.resolve("bin/mezzo");
        assertThat(script).as("the unpacked distribution (mvn package)").isExecutable();
        return script;
    }

    private Process start(Path log, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(mezzo().toString());
        command.addAll(List.of(args));
        ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        b.environment().put("JAVA_HOME", System.getProperty("java.home"));
        b.environment().put("MEZZO_JAVA_OPTS", "-Xmx256m");
        Process p = b.start();
        started.add(p);
        return p;
    }

    private static String read(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Test
    void devClusterRunsCommandsAndStopsCleanly() throws Exception {
        Path devLog = work.resolve("dev.log");
        Path workDir = work.resolve("cluster");
        Process dev = start(devLog, "dev", "--port", "0", "--agent_port", "0", "--work_dir", workDir.toString());
        await("mezzo dev to come up").atMost(Timeouts.CLUSTER).until(() -> read(devLog).contains("Serving until Ctrl-C."));
        String out = read(devLog);
        assertThat(out).contains("Demo finished: the cluster works.");
        assertThat(mezzo().getParent().resolveSibling("completion/mezzo.bash")).as("shell completion is shipped")
                .content().contains("complete -F _complete_mezzo", "maintenance");
        Matcher m = Pattern.compile("master +127\\.0\\.0\\.1:(\\d+)").matcher(out);
        assertThat(m.find()).as("master endpoint in:%n%s", out).isTrue();
        String master = "127.0.0.1:" + m.group(1);

        Path runLog = work.resolve("run.log");
        Process run = start(runLog, "run", "--master", master, "--", "echo", "hello");
        assertThat(run.waitFor(Timeouts.CLUSTER.toSeconds(), TimeUnit.SECONDS)).as("mezzo run ends").isTrue();
        assertThat(run.exitValue()).as(read(runLog)).isZero();
        assertThat(read(runLog)).contains("TASK_RUNNING").contains("TASK_FINISHED").doesNotContain("hello");
        String taskId = extractTaskId(read(runLog));
        try (Stream<Path> files = Files.walk(workDir)) {
            Path stdout = files.filter(p -> p.endsWith("stdout") && p.toString().contains("/tasks/" + taskId + "/"))
                    .findFirst().orElseThrow();
            assertThat(Files.readString(stdout)).isEqualTo("hello\n");
        }

        Path failLog = work.resolve("fail.log");
        Process fail = start(failLog, "run", "--master", master, "--shell", "--", "exit 7");
        assertThat(fail.waitFor(Timeouts.CLUSTER.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(fail.exitValue()).as(read(failLog)).isEqualTo(7);
        assertThat(read(failLog)).contains("TASK_FAILED");

        List<ProcessHandle> tree = dev.descendants().toList();
        dev.destroy();
        assertThat(dev.waitFor(60, TimeUnit.SECONDS)).as("mezzo dev stops on SIGTERM").isTrue();
        await("no process of the dev cluster is left").atMost(Duration.ofSeconds(30))
                .until(() -> tree.stream().noneMatch(ProcessHandle::isAlive));
        assertThat(read(devLog)).contains("Stopping dev cluster on signal");
    }

    @Test
    void badFlagsFailWithAMessageNamingThem() throws Exception {
        Path log = work.resolve("agent.log");
        Process agent = start(log, "agent", "--master", "127.0.0.1:1", "--work_dir", work.toString(),
                "--resources", "cpus:lots");
        assertThat(agent.waitFor(Timeouts.CLUSTER.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(agent.exitValue()).isEqualTo(2);
        assertThat(read(log)).contains("cpus:lots").contains("not a number");

        Path runLog = work.resolve("run.log");
        Process run = start(runLog, "run", "--cpus", "-1", "--", "true");
        assertThat(run.waitFor(Timeouts.CLUSTER.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(run.exitValue()).isEqualTo(2);
        assertThat(read(runLog)).contains("--cpus");
    }

    @Test
    void helpListsTheFlagsWithTheirDefaults() throws Exception {
        Path log = work.resolve("help.log");
        Process help = start(log, "master", "--help");
        assertThat(help.waitFor(Timeouts.CLUSTER.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(help.exitValue()).isZero();
        assertThat(read(log)).contains("--agent_ping_timeout").contains("Default: 15secs");
    }

    private static String extractTaskId(String runOutput) {
        Matcher m = Pattern.compile("task (run-[0-9a-f]+)").matcher(runOutput);
        assertThat(m.find()).as(runOutput).isTrue();
        return m.group(1);
    }
}
