package io.mezzo.agent.containerizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.ContainerId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Environment;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.Value;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.Timeouts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The containerizer with the posix isolator and real processes, on a manual clock: kill grace periods
 * end when the test advances the clock, never by sleeping.
 */
class ContainerizerTest {


    @TempDir
    Path workDir;

    private final ManualClock clock = new ManualClock();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final EventLoop loop = new EventLoop("test-loop", clock, faults);
    private Containerizer containerizer;
    private final BlockingQueue<Termination> exits = new LinkedBlockingQueue<>();
    private final AtomicInteger runs = new AtomicInteger();

    @BeforeEach
    void start() throws IOException {
        containerizer = new Containerizer(loop, System.getenv(), Containerizer.posixIsolator(System.getenv()),
                LauncherScript.install(workDir));
    }

    @AfterEach
    void stop() throws Exception {
        List<CompletableFuture<?>> gone = on(containerizer::destroyAll);
        CompletableFuture.allOf(gone.toArray(new CompletableFuture<?>[0])).get(20, TimeUnit.SECONDS);
        loop.close();
        faults.assertNoFaults();
    }

    @Test
    void runsAShellCommandInItsSandbox() throws Exception {
        Container c = launch(shell("echo hello; pwd"), Map.of());
        Termination t = exit();
        assertThat(t.exitValue()).isZero();
        assertThat(t.succeeded()).isTrue();
        assertThat(t.killedWith()).isEqualTo(Termination.KillSignal.NONE);
        assertThat(t.describe()).isEqualTo("Command exited with status 0");
        assertThat(read(c.sandbox().resolve("stdout"))).isEqualTo("hello\n" + c.sandbox().toRealPath() + "\n");
    }

    @Test
    void reportsTheExitCode() throws Exception {
        Container c = launch(shell("echo oops >&2; exit 3"), Map.of());
        Termination t = exit();
        assertThat(t.exitValue()).isEqualTo(3);
        assertThat(t.signal()).isEmpty();
        assertThat(t.describe()).isEqualTo("Command exited with status 3");
        assertThat(read(c.sandbox().resolve("stderr"))).isEqualTo("oops\n");
    }

    @Test
    void runsTheCommandInTheLaunchersSessionAndGroup() throws Exception {
        Container c = launch(shell("ps -o ppid=,pgid=,sid= -p $$"), Map.of());
        exit();
        String[] ids = read(c.sandbox().resolve("stdout")).trim().split("\\s+");
        // The launcher leads the session and group and is the command's parent.
        assertThat(ids).containsExactly(
                Long.toString(c.pid()), Long.toString(c.pid()), Long.toString(c.pid()));
    }

    @Test
    void recordsTheExitStatusForAnAgentThatRestarts() throws Exception {
        Container c = launch(shell("exit 42"), Map.of());
        assertThat(exit().exitValue()).isEqualTo(42);
        assertThat(LauncherScript.readStatus(c.statusFile())).isEqualTo(42);
    }

    @Test
    void recoversALauncherStillRunningAndLearnsItsExitStatus() throws Exception {
        Container first = launch(shell("read line < fifo; exit 7"), Map.of(), true);
        // A second containerizer, as after an agent restart, adopts the running launcher.
        Containerizer again = new Containerizer(loop, System.getenv(), Containerizer.posixIsolator(System.getenv()),
                LauncherScript.install(workDir));
        BlockingQueue<Termination> recovered = new LinkedBlockingQueue<>();
        Container adopted = on(() -> again.recover(first.id(), first.sandbox(), "", first.pid(), first.startTime(),
                first.statusFile(), (c, t) -> recovered.add(t)).orElseThrow());
        assertThat(adopted.recovered()).isTrue();
        Files.writeString(first.sandbox().resolve("fifo"), "done\n");
        assertThat(exit().exitValue()).isEqualTo(7);
        // The adopted container notices the exit by polling /proc on the loop's clock.
        await().atMost(Timeouts.PROCESS).until(() -> {
            clock.advance(Containerizer.LIVENESS_INTERVAL);
            return !recovered.isEmpty();
        });
        assertThat(recovered.poll().exitValue()).isEqualTo(7);
    }

    @Test
    void neverAdoptsAPidThatWasReused() throws Exception {
        Container c = launch(shell("sleep 60"), Map.of());
        Containerizer again = new Containerizer(loop, System.getenv(), Containerizer.posixIsolator(System.getenv()),
                LauncherScript.install(workDir));
        assertThat(on(() -> again.recover(c.id(), c.sandbox(), "", c.pid(), c.startTime() + 1, c.statusFile(),
                (x, t) -> {}))).isEmpty();
    }

    @Test
    void setsTheTaskEnvironment() throws Exception {
        TaskInfo task = TaskInfo.newBuilder()
                .setTaskId(TaskID.newBuilder().setValue("task-1"))
                .addResources(Resource.newBuilder()
                        .setName("ports")
                        .setType(Value.Type.RANGES)
                        .setRanges(Value.Ranges.newBuilder()
                                .addRange(Value.Range.newBuilder().setBegin(31000).setEnd(31001))
                                .addRange(Value.Range.newBuilder().setBegin(31005).setEnd(31005))))
                .setCommand(CommandInfo.newBuilder()
                        .setShell("echo \"$MEZZO_TASK_ID|$MEZZO_FRAMEWORK_ID|$MEZZO_AGENT_ID|$MEZZO_EXECUTOR_ID"
                                + "|$PORTS|$PORT0|$PORT1|$PORT2|$GREETING|$MEZZO_SANDBOX|$HOME\"")
                        .setEnvironment(Environment.newBuilder()
                                .addVariables(var("GREETING", "hi"))
                                .addVariables(var("MEZZO_AGENT_ID", "overridden"))))
                .build();
        Path sandbox = workDir.resolve("sandbox");
        Sandbox.create(sandbox);
        ContainerId id = ContainerId.of("container-" + runs.incrementAndGet());
        Map<String, String> env = TaskEnvironment.build(
                Map.of("PATH", System.getenv("PATH"), "HOME", "/root"), AgentId.of("agent-1"),
                FrameworkId.of("framework-1"), task, id, sandbox);
        Container c = launchOrThrow(new LaunchSpec(id, sandbox, task.getCommand(), env));
        assertThat(exit().exitValue()).isZero();
        assertThat(read(c.sandbox().resolve("stdout")))
                .isEqualTo("task-1|framework-1|overridden|task-1|31000-31001,31005|31000|31001|31005|hi|" + sandbox
                        + "|\n");
    }

    @Test
    void runsArgvWithoutAShell() throws Exception {
        Container c = launch(CommandInfo.newBuilder().addArgv("echo").addArgv("a  b").addArgv("$HOME").build(),
                Map.of());
        assertThat(exit().exitValue()).isZero();
        assertThat(read(c.sandbox().resolve("stdout"))).isEqualTo("a  b $HOME\n");
    }

    @Test
    void failsToLaunchAProgramThatIsNotThere() throws Exception {
        assertThatThrownBy(() -> launch(CommandInfo.newBuilder().addArgv("no-such-program-mezzo").build(), Map.of()))
                .isInstanceOf(ContainerLaunchException.class)
                .hasMessageContaining("Program 'no-such-program-mezzo' is not found on PATH");
        assertThatThrownBy(() -> launch(CommandInfo.newBuilder().addArgv("/nonexistent/program").build(), Map.of()))
                .isInstanceOf(ContainerLaunchException.class)
                .hasMessageContaining("'/nonexistent/program' does not exist or is not executable");
        assertThat(on(containerizer::running)).isEmpty();
    }

    @Test
    void killsWithSigtermAndTheWholeGroupGoes() throws Exception {
        Container c = launch(shell("sleep 60 & sleep 60 & echo started; wait"), Map.of());
        awaitOutput(c, "started");
        await().atMost(Timeouts.PROCESS).until(() -> c.handle().descendants().count() == 3);
        List<ProcessHandle> all = processes(c);

        run(() -> containerizer.kill(c, Duration.ofSeconds(30)));
        Termination t = exit();
        assertThat(t.killedWith()).isEqualTo(Termination.KillSignal.SIGTERM);
        assertThat(t.signal()).hasValue(15);
        assertThat(t.describe()).isEqualTo("Command terminated by signal 15");
        await().atMost(Timeouts.PROCESS).untilAsserted(() -> assertThat(all).noneMatch(ContainerizerTest::running));
    }

    @Test
    void killsWithSigkillAfterTheGracePeriodWhenSigtermIsIgnored() throws Exception {
        Container c = launch(shell("trap '' TERM; echo ready; sleep 60"), Map.of());
        awaitOutput(c, "ready");
        List<ProcessHandle> all = processes(c);

        run(() -> containerizer.kill(c, Duration.ofSeconds(5)));
        // SIGTERM is ignored: nothing ends while the clock stands still.
        assertThat(exits.poll(500, TimeUnit.MILLISECONDS)).isNull();
        assertThat(ProcTable.isRunning(c.pid())).isTrue();
        assertThat(on(c::signalSent)).isEqualTo(Termination.KillSignal.SIGTERM);

        clock.advance(Duration.ofSeconds(4));
        loop.barrier().get(5, TimeUnit.SECONDS);
        assertThat(on(c::signalSent)).isEqualTo(Termination.KillSignal.SIGTERM);

        clock.advance(Duration.ofSeconds(1));
        Termination t = exit();
        assertThat(t.killedWith()).isEqualTo(Termination.KillSignal.SIGKILL);
        assertThat(t.signal()).hasValue(9);
        await().atMost(Timeouts.PROCESS).untilAsserted(() -> assertThat(all).noneMatch(ContainerizerTest::running));
    }

    @Test
    void aSecondKillMayShortenTheGracePeriod() throws Exception {
        Container c = launch(shell("trap '' TERM; echo ready; sleep 60"), Map.of());
        awaitOutput(c, "ready");
        run(() -> containerizer.kill(c, Duration.ofSeconds(60)));
        run(() -> containerizer.kill(c, Duration.ofSeconds(2)));
        clock.advance(Duration.ofSeconds(2));
        assertThat(exit().killedWith()).isEqualTo(Termination.KillSignal.SIGKILL);
    }

    @Test
    void killsDescendantsThatLeftTheGroup() throws Exception {
        // The inner setsid puts the sleep into a session (and group) of its own.
        Container c = launch(shell("setsid sleep 60 & echo started; wait"), Map.of());
        awaitOutput(c, "started");
        await().atMost(Timeouts.PROCESS).until(() -> c.handle().descendants().anyMatch(h -> h.info().command()
                .map(cmd -> cmd.endsWith("sleep")).orElse(false)));
        List<ProcessHandle> all = processes(c);
        assertThat(all).hasSizeGreaterThanOrEqualTo(2);

        run(() -> containerizer.kill(c, Duration.ofSeconds(30)));
        exit();
        await().atMost(Timeouts.PROCESS).untilAsserted(() -> assertThat(all).noneMatch(ContainerizerTest::running));
    }

    @Test
    void killsWhatACommandLeftBehindWhenItExits() throws Exception {
        Container c = launch(shell("sleep 60 & echo $! > child.pid"), Map.of());
        assertThat(exit().exitValue()).isZero();
        long child = Long.parseLong(read(c.sandbox().resolve("child.pid")).trim());
        await().atMost(Timeouts.PROCESS).until(() -> !ProcTable.isRunning(child));
    }

    @Test
    void destroyAllKillsEverything() throws Exception {
        Container a = launch(shell("sleep 60"), Map.of());
        Container b = launch(shell("trap '' TERM; sleep 60 & wait"), Map.of());
        List<ProcessHandle> all = new ArrayList<>(processes(a));
        await().atMost(Timeouts.PROCESS).until(() -> b.handle().descendants().count() == 2);
        all.addAll(processes(b));

        List<CompletableFuture<?>> gone = on(containerizer::destroyAll);
        CompletableFuture.allOf(gone.toArray(new CompletableFuture<?>[0])).get(20, TimeUnit.SECONDS);
        // The futures cover the launchers; every other process got its SIGKILL at the same time but
        // may take a moment to die on a loaded machine.
        await().atMost(Timeouts.WAIT).untilAsserted(() -> assertThat(all).noneMatch(ContainerizerTest::running));
        assertThat(exit().killedWith()).isEqualTo(Termination.KillSignal.SIGKILL);
        assertThat(exit().killedWith()).isEqualTo(Termination.KillSignal.SIGKILL);
    }

    @Test
    void findsProgramsLikeExecvp() throws Exception {
        assertThat(Containerizer.which("sh", "/nonexistent:/bin:/usr/bin", workDir)).isPresent();
        assertThat(Containerizer.which("sh", "/nonexistent", workDir)).isEmpty();
        Path script = workDir.resolve("run.sh");
        Files.writeString(script, "#!/bin/sh\n");
        assertThat(Containerizer.which("./run.sh", "", workDir)).isEmpty();
        assertThat(script.toFile().setExecutable(true)).isTrue();
        assertThat(Containerizer.which("./run.sh", "", workDir)).contains(workDir.resolve("./run.sh"));
        assertThat(Containerizer.which("", "/bin", workDir)).isEmpty();
    }

    private Container launch(CommandInfo command, Map<String, String> extraEnv) throws Exception {
        return launch(command, extraEnv, false);
    }

    private Container launch(CommandInfo command, Map<String, String> extraEnv, boolean fifo) throws Exception {
        ContainerId id = ContainerId.of("container-" + runs.incrementAndGet());
        Path sandbox = workDir.resolve(id.value());
        Sandbox.create(sandbox);
        if (fifo) {
            assertThat(new ProcessBuilder("mkfifo", sandbox.resolve("fifo").toString()).start().waitFor()).isZero();
        }
        Map<String, String> env = new HashMap<>(extraEnv);
        env.put("PATH", System.getenv().getOrDefault("PATH", TaskEnvironment.DEFAULT_PATH));
        env.put(TaskEnvironment.CONTAINER_ID, id.value());
        LaunchSpec spec = new LaunchSpec(id, sandbox, command, env);
        return launchOrThrow(spec);
    }

    /** Alive and not a zombie (this host's init may never reap orphans). */
    static boolean running(ProcessHandle h) {
        return ProcTable.isRunning(h.pid());
    }

    private Container launchOrThrow(LaunchSpec spec) throws Exception {
        // The launch runs on the loop; a failure comes back as a value so that the loop sees no fault.
        Object result = on(() -> {
            try {
                return containerizer.launch(spec, (c, t) -> exits.add(t), c -> {});
            } catch (ContainerLaunchException e) {
                return e;
            }
        });
        if (result instanceof ContainerLaunchException e) {
            throw e;
        }
        return (Container) result;
    }

    private Termination exit() throws InterruptedException {
        Termination t = exits.poll(Timeouts.PROCESS.toSeconds(), TimeUnit.SECONDS);
        assertThat(t).as("container exit within %s", Timeouts.PROCESS).isNotNull();
        return t;
    }

    private static List<ProcessHandle> processes(Container c) {
        List<ProcessHandle> all = new ArrayList<>();
        all.add(c.handle());
        c.handle().descendants().forEach(all::add);
        return all;
    }

    private static void awaitOutput(Container c, String text) {
        await().atMost(Timeouts.PROCESS).until(() -> read(c.sandbox().resolve("stdout")).contains(text));
    }

    private static CommandInfo shell(String command) {
        return CommandInfo.newBuilder().setShell(command).build();
    }

    private static Environment.Variable var(String name, String value) {
        return Environment.Variable.newBuilder().setName(name).setValue(value).build();
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.UTF_8);
    }

    private <T> T on(Supplier<T> call) throws Exception {
        return loop.call(call).get(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void run(Runnable call) throws Exception {
        on(() -> {
            call.run();
            return null;
        });
    }
}
