package io.mezzo.agent;

import static io.mezzo.testkit.Protos.shell;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import io.mezzo.agent.link.MasterLink;
import io.mezzo.agent.status.TaskKey;
import io.mezzo.agent.testing.TestCgroups;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.ha.StandaloneMasterDetector;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.AgentOperatorGrpc;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.GetAgentStateRequest;
import io.mezzo.proto.v1.GetAgentStateResponse;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.Value;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.ScriptedMaster;
import io.mezzo.testkit.Timeouts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent against a scripted master over real gRPC on 127.0.0.1, with real processes, on a manual
 * clock: retries, ping timeouts and reconnections happen when the test advances the clock.
 */
class AgentTest {

    private static final FrameworkInfo FRAMEWORK = AgentHarness.FRAMEWORK;

    @TempDir
    Path workDir;

    private final ManualClock clock = new ManualClock();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final CountDownLatch shutdownRan = new CountDownLatch(1);
    private final String cgroupsRoot = TestCgroups.uniqueRoot();
    private ScriptedMaster master;
    private Agent agent;

    @BeforeEach
    void start() throws Exception {
        master = ScriptedMaster.start();
        agent = new Agent(AgentConfig.builder()
                        .masterDetector(new StandaloneMasterDetector("127.0.0.1", master.port()))
                        .port(0)
                        .workDir(workDir)
                        .resources("cpus:2;mem:1024;disk:2048;ports:[31000-31009]")
                        .attributes("rack:r1")
                        .registrationBackoff(Duration.ofSeconds(1), Duration.ofSeconds(1))
                        .registrationTimeout(Duration.ofMinutes(10))
                        .statusUpdateRetry(Duration.ofSeconds(2), Duration.ofSeconds(2))
                        .clock(clock)
                        .faultHandler(faults)
                        .onShutdown(shutdownRan::countDown)
                        .cgroupsRoot(cgroupsRoot)
                        .build())
                .start();
    }

    @AfterEach
    void stop() throws Exception {
        agent.close();
        master.close();
        TestCgroups.remove(cgroupsRoot);
        faults.assertNoFaults();
        assertThat(Thread.getAllStackTraces().keySet())
                .noneMatch(t -> t.isAlive() && t.getName().equals("agent-loop"));
    }

    @Test
    void registersWithItsDescriptionAndAnswersPings() throws Exception {
        ScriptedMaster.AgentStream conn = master.nextAgentStream();
        AgentMessage register = conn.next(AgentMessage.Type.REGISTER);
        assertThat(register.hasAgentId()).isFalse();
        assertThat(register.getRegister().getAgentInfo().hasId()).isFalse();
        assertThat(register.getRegister().getAgentInfo().getPort()).isEqualTo(agent.boundPort()).isPositive();
        assertThat(register.getRegister().getAgentInfo().getHostname()).isEqualTo("127.0.0.1");
        assertThat(register.getRegister().getAgentInfo().getResourcesList())
                .extracting(Resource::getName)
                .containsExactly("cpus", "disk", "mem", "ports");
        assertThat(register.getRegister().getAgentInfo().getResources(0).getScalar().getMilli()).isEqualTo(2000);
        assertThat(register.getRegister().getAgentInfo().getAttributes(0).getName()).isEqualTo("rack");
        assertThat(register.getRegister().getAgentInfo().getVersion()).isNotEmpty();

        conn.send(registered(1));
        assertThat(agent.registered().get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS).value()).isEqualTo("agent-1");
        assertThat(agent.agentId()).hasValueSatisfying(id -> assertThat(id.value()).isEqualTo("agent-1"));

        conn.send(ping(7, 1));
        AgentMessage pong = conn.next(AgentMessage.Type.PONG);
        assertThat(pong.getPong().getSequence()).isEqualTo(7);
        assertThat(pong.getAgentId().getValue()).isEqualTo("agent-1");
    }

    @Test
    void runsATaskAndResendsEachUpdateUntilAcknowledged() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        conn.send(run(task("task-1", shell("echo hello"))));

        StatusUpdate starting = conn.nextUpdate();
        assertThat(starting.getFrameworkId().getValue()).isEqualTo("framework-1");
        assertThat(starting.getStatus().getState()).isEqualTo(TaskState.TASK_STARTING);
        assertThat(starting.getStatus().getSource()).isEqualTo(StatusSource.SOURCE_EXECUTOR);
        assertThat(starting.getStatus().getAgentId().getValue()).isEqualTo("agent-1");
        assertThat(starting.getStatus().getExecutorId().getValue()).isEqualTo("task-1");
        assertThat(starting.getStatus().getContainerId().getValue()).isNotEmpty();
        assertThat(starting.getStatus().getUuid().size()).isEqualTo(16);
        assertThat(starting.getStatus().getTimestamp()).isEqualTo(clock.seconds());

        // The command runs to its end, but only the unacknowledged head has gone out.
        awaitTaskState("task-1", TaskState.TASK_FINISHED);
        settle();
        assertThat(conn.unread()).isZero();

        // Unacknowledged: resent, the very same update, once the retry delay has passed.
        clock.advance(Duration.ofSeconds(2));
        assertThat(conn.nextUpdate()).isEqualTo(starting);
        clock.advance(Duration.ofSeconds(2));
        assertThat(conn.nextUpdate()).isEqualTo(starting);

        conn.send(ack(starting));
        StatusUpdate running = conn.nextUpdate();
        assertThat(running.getStatus().getState()).isEqualTo(TaskState.TASK_RUNNING);
        assertThat(running.getStatus().getContainerId()).isEqualTo(starting.getStatus().getContainerId());
        clock.advance(Duration.ofSeconds(2));
        assertThat(conn.nextUpdate()).isEqualTo(running);

        conn.send(ack(running));
        StatusUpdate finished = conn.nextUpdate();
        assertThat(finished.getStatus().getState()).isEqualTo(TaskState.TASK_FINISHED);
        assertThat(finished.getStatus().getExitCode()).isZero();
        assertThat(finished.getStatus().getMessage()).isEqualTo("Command exited with status 0");

        conn.send(ack(finished));
        await().atMost(Timeouts.WAIT).until(() -> state().getTasksCount() == 0);
        assertThat(read(sandbox(starting).resolve("stdout"))).isEqualTo("hello\n");
        // The sandbox stays after the task is forgotten.
        assertThat(sandbox(starting)).isDirectory();
        settle();
        clock.advance(Duration.ofSeconds(10));
        settle();
        assertThat(conn.unread()).isZero();
    }

    @Test
    void reportsAFailedCommandWithItsExitCode() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        conn.send(run(task("task-1", shell("exit 3"))));
        StatusUpdate failed = acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING,
                TaskState.TASK_FAILED);
        assertThat(failed.getStatus().getReason()).isEqualTo(StatusReason.REASON_COMMAND_FAILED);
        assertThat(failed.getStatus().getMessage()).isEqualTo("Command exited with status 3");
        assertThat(failed.getStatus().getExitCode()).isEqualTo(3);
    }

    @Test
    void reportsALaunchFailure() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        conn.send(run(task("task-1", CommandInfo.newBuilder().addArgv("no-such-program-mezzo").build())));
        StatusUpdate failed = acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_FAILED);
        assertThat(failed.getStatus().getReason()).isEqualTo(StatusReason.REASON_CONTAINER_LAUNCH_FAILED);
        assertThat(failed.getStatus().getSource()).isEqualTo(StatusSource.SOURCE_AGENT);
        assertThat(failed.getStatus().getMessage()).contains("no-such-program-mezzo").contains("not found on PATH");
        assertThat(failed.getStatus().hasExitCode()).isFalse();
    }

    @Test
    void refusesATaskIdThatIsNotAPathSegment() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        conn.send(run(task("../escape", shell("true"))));
        StatusUpdate error = conn.nextUpdate();
        assertThat(error.getStatus().getState()).isEqualTo(TaskState.TASK_ERROR);
        assertThat(error.getStatus().getReason()).isEqualTo(StatusReason.REASON_TASK_INVALID);
        assertThat(error.getStatus().getSource()).isEqualTo(StatusSource.SOURCE_AGENT);
        // The one id rule the master applies too (common's Ids).
        assertThat(error.getStatus().getMessage())
                .isEqualTo("task id '../escape' must be 1-255 letters, digits or \"._-:\" and not '.' or '..'");
        conn.send(ack(error));
        settle();
        assertThat(state().getTasksCount()).isZero();
        assertThat(workDir.resolve("agents")).doesNotExist();
    }

    @Test
    void ignoresADuplicateRunTask() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        conn.send(run(task("task-1", shell("sleep 60"))));
        conn.send(run(task("task-1", shell("sleep 60"))));
        StatusUpdate starting = conn.nextUpdate();
        awaitTaskState("task-1", TaskState.TASK_RUNNING);
        settle();
        assertThat(state().getTasksCount()).isEqualTo(1);
        assertThat(on(() -> agent.core().tasks().size())).isEqualTo(1);
        try (var runs = Files.list(sandbox(starting).getParent())) {
            assertThat(runs.count()).isEqualTo(1);
        }
    }

    @Test
    void killsWithTaskKillingFirstWhenTheFrameworkAsks() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        FrameworkInfo framework = FRAMEWORK.toBuilder()
                .addCapabilities(FrameworkInfo.Capability.newBuilder()
                        .setType(FrameworkInfo.Capability.Type.TASK_KILLING_STATE))
                .build();
        conn.send(run(framework, task("task-1", shell("sleep 60"))));
        acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING);
        long pid = pidOf("task-1");

        conn.send(kill("task-1", StatusReason.REASON_KILLED_BY_FRAMEWORK, null));
        StatusUpdate killing = acknowledgeThrough(conn, TaskState.TASK_KILLING);
        assertThat(killing.getStatus().getReason()).isEqualTo(StatusReason.REASON_KILLED_BY_FRAMEWORK);
        StatusUpdate killed = acknowledgeThrough(conn, TaskState.TASK_KILLED);
        assertThat(killed.getStatus().getReason()).isEqualTo(StatusReason.REASON_KILLED_BY_FRAMEWORK);
        assertThat(killed.getStatus().getMessage()).isEqualTo("Killed by SIGTERM");
        assertThat(killed.getStatus().getExitCode()).isEqualTo(143);
        await().atMost(Timeouts.WAIT).until(() -> !TestCgroups.running(pid));
    }

    @Test
    void killsWithSigkillAfterTheGracePeriodOfTheKill() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        conn.send(run(task("task-1", shell("trap '' TERM; echo ready; sleep 60"))));
        StatusUpdate starting = acknowledgeThrough(conn, TaskState.TASK_STARTING);
        acknowledgeThrough(conn, TaskState.TASK_RUNNING);
        Path stdout = sandbox(starting).resolve("stdout");
        await().atMost(Timeouts.WAIT).until(() -> read(stdout).contains("ready"));

        conn.send(kill("task-1", StatusReason.REASON_UNSPECIFIED, Duration.ofSeconds(5)));
        awaitPhase("task-1", TaskRecord.Phase.KILLING);
        // No TASK_KILLING: the framework did not ask for it.
        settle();
        assertThat(conn.unread()).isZero();
        clock.advance(Duration.ofSeconds(5));
        StatusUpdate killed = conn.nextUpdate();
        assertThat(killed.getStatus().getState()).isEqualTo(TaskState.TASK_KILLED);
        assertThat(killed.getStatus().getMessage()).isEqualTo("Killed by SIGKILL after grace period");
        assertThat(killed.getStatus().getExitCode()).isEqualTo(137);
    }

    @Test
    void answersAKillOfAnUnknownTaskWithTaskLost() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        conn.send(kill("ghost", StatusReason.REASON_KILLED_BY_FRAMEWORK, null));
        StatusUpdate lost = conn.nextUpdate();
        assertThat(lost.getStatus().getTaskId().getValue()).isEqualTo("ghost");
        assertThat(lost.getStatus().getState()).isEqualTo(TaskState.TASK_LOST);
        assertThat(lost.getStatus().getReason()).isEqualTo(StatusReason.REASON_TASK_UNKNOWN);
        assertThat(lost.getStatus().getSource()).isEqualTo(StatusSource.SOURCE_AGENT);
    }

    @Test
    void reportsAKillDuringLaunch() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        // Both in one loop event, so the launch (the next event) finds the task already killed.
        on(() -> {
            agent.core().message(run(task("task-1", shell("sleep 60"))));
            agent.core().message(kill("task-1", StatusReason.REASON_KILLED_BY_FRAMEWORK, null));
            return null;
        });
        StatusUpdate starting = acknowledgeThrough(conn, TaskState.TASK_STARTING);
        StatusUpdate killed = acknowledgeThrough(conn, TaskState.TASK_KILLED);
        assertThat(killed.getStatus().getReason()).isEqualTo(StatusReason.REASON_TASK_KILLED_DURING_LAUNCH);
        assertThat(killed.getStatus().getSource()).isEqualTo(StatusSource.SOURCE_AGENT);
        await().atMost(Timeouts.WAIT).until(() -> state().getTasksCount() == 0);
        assertThat(sandbox(starting)).doesNotExist();
    }

    @Test
    void reregistersWithItsTasksAndUnacknowledgedUpdatesAfterTheStreamCloses() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        conn.send(run(task("task-1", shell("sleep 60"))));
        acknowledgeThrough(conn, TaskState.TASK_STARTING);
        StatusUpdate running = conn.nextUpdate();
        assertThat(running.getStatus().getState()).isEqualTo(TaskState.TASK_RUNNING);

        conn.complete();
        // The first failure since registering is retried at once (a restarted or replaced master).
        ScriptedMaster.AgentStream again = master.nextAgentStream();
        AgentMessage reregister = again.next(AgentMessage.Type.REREGISTER);
        assertThat(state().getRegistered()).isFalse();
        assertThat(reregister.getAgentId().getValue()).isEqualTo("agent-1");
        AgentMessage.Reregister body = reregister.getReregister();
        assertThat(body.getAgentInfo().getId().getValue()).isEqualTo("agent-1");
        assertThat(body.getAgentInfo().getPort()).isEqualTo(agent.boundPort());
        assertThat(body.getFrameworksList()).containsExactly(FRAMEWORK);
        assertThat(body.getTasksList()).hasSize(1);
        Task task = body.getTasks(0);
        assertThat(task.getTaskId().getValue()).isEqualTo("task-1");
        assertThat(task.getFrameworkId().getValue()).isEqualTo("framework-1");
        assertThat(task.getAgentId().getValue()).isEqualTo("agent-1");
        assertThat(task.getState()).isEqualTo(TaskState.TASK_RUNNING);
        assertThat(task.getLatestStatus()).isEqualTo(running.getStatus());
        assertThat(task.getContainerId()).isEqualTo(running.getStatus().getContainerId());
        assertThat(task.getTaskInfo().getCommand().getShell()).isEqualTo("sleep 60");
        assertThat(body.getUnacknowledgedUpdatesList()).containsExactly(running);

        again.send(registered(1));
        // The unacknowledged head goes out again on the new stream.
        assertThat(again.nextUpdate()).isEqualTo(running);
        await().atMost(Timeouts.WAIT).until(() -> state().getRegistered());
        again.send(ack(running));
        settle();
        assertThat(on(() -> agent.core().task(key("task-1")).latestStatus())).isEqualTo(running.getStatus());
    }

    @Test
    void reconnectsWhenPingsStop() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        // REGISTERED said: a PING every 10 s, reconnect after 3 missed.
        advance(Duration.ofSeconds(20));
        conn.send(ping(1, 1));
        conn.next(AgentMessage.Type.PONG);
        settle();
        advance(Duration.ofSeconds(29));
        assertThat(on(() -> agent.link().state())).isEqualTo(MasterLink.State.REGISTERED);

        advance(Duration.ofSeconds(1));
        assertThat(on(() -> agent.link().state())).isNotEqualTo(MasterLink.State.REGISTERED);
        await().atMost(Timeouts.WAIT).until(conn::ended);
        // The first failure since registering is retried at once: no clock advance needed.
        master.nextAgentStream().next(AgentMessage.Type.REREGISTER);
    }

    @Test
    void reconnectsAfterAnError() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        conn.send(MasterMessage.newBuilder()
                .setType(MasterMessage.Type.ERROR)
                .setEpoch(1)
                .setShutdown(MasterMessage.Shutdown.newBuilder().setMessage("go away"))
                .build());
        ScriptedMaster.AgentStream again = master.nextAgentStream();
        again.next(AgentMessage.Type.REREGISTER);
        again.send(registered(1));
        await().atMost(Timeouts.WAIT).until(() -> state().getRegistered());
    }

    @Test
    void reconnectsAfterTheStreamFails() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        conn.fail();
        master.nextAgentStream().next(AgentMessage.Type.REREGISTER);
    }

    @Test
    void ignoresMessagesFromAnOlderEpoch() throws Exception {
        ScriptedMaster.AgentStream conn = master.nextAgentStream();
        conn.next(AgentMessage.Type.REGISTER);
        conn.send(registered(5));
        agent.registered().get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);

        conn.send(ping(1, 3));
        conn.send(ping(2, 5));
        assertThat(conn.next(AgentMessage.Type.PONG).getPong().getSequence()).isEqualTo(2);
        conn.send(ping(3, 6));
        assertThat(conn.next(AgentMessage.Type.PONG).getPong().getSequence()).isEqualTo(3);
        conn.send(ping(4, 5));
        conn.send(run(task("task-1", shell("true")), 5));
        conn.send(ping(5, 6));
        assertThat(conn.next(AgentMessage.Type.PONG).getPong().getSequence()).isEqualTo(5);
        settle();
        assertThat(conn.unread()).isZero();
        assertThat(state().getTasksCount()).isZero();
        assertThat(on(() -> agent.link().highestEpoch())).isEqualTo(6);
    }

    @Test
    void shutsDownAFrameworkAndDropsItsUpdates() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        conn.send(run(task("task-1", shell("sleep 60"))));
        StatusUpdate starting = conn.nextUpdate();
        awaitTaskState("task-1", TaskState.TASK_RUNNING);
        long pid = pidOf("task-1");

        conn.send(MasterMessage.newBuilder()
                .setType(MasterMessage.Type.SHUTDOWN_FRAMEWORK)
                .setEpoch(1)
                .setShutdownFramework(MasterMessage.ShutdownFramework.newBuilder().setFrameworkId(FRAMEWORK.getId()))
                .build());
        // The kill's outcome is told once, not retried: nobody would acknowledge it.
        StatusUpdate killed = conn.nextUpdate();
        assertThat(killed.getStatus().getState()).isEqualTo(TaskState.TASK_KILLED);
        assertThat(killed.getStatus().getReason()).isEqualTo(StatusReason.REASON_FRAMEWORK_REMOVED);
        await().atMost(Timeouts.WAIT).until(() -> state().getTasksCount() == 0);
        await().atMost(Timeouts.WAIT).until(() -> !TestCgroups.running(pid));

        advance(Duration.ofSeconds(2));
        advance(Duration.ofSeconds(2));
        assertThat(conn.unread()).isZero();
        // A late ack of the dropped update is ignored.
        conn.send(ack(starting));
        settle();
        assertThat(conn.unread()).isZero();
    }

    @Test
    void deliversFrameworkMessagesAsFiles() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        conn.send(run(task("task-1", shell("sleep 60"))));
        StatusUpdate starting = conn.nextUpdate();
        awaitTaskState("task-1", TaskState.TASK_RUNNING);
        conn.send(frameworkMessage("task-1", "first"));
        conn.send(frameworkMessage("task-1", "second"));
        conn.send(frameworkMessage("no-such-executor", "lost"));
        Path messages = sandbox(starting).resolve("messages");
        await().atMost(Timeouts.WAIT).until(() -> Files.exists(messages.resolve("2")));
        assertThat(read(messages.resolve("1"))).isEqualTo("first");
        assertThat(read(messages.resolve("2"))).isEqualTo("second");
        try (var files = Files.list(messages)) {
            assertThat(files.count()).isEqualTo(2);
        }
    }

    @Test
    void stopsWhenTheMasterSaysShutdown() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        conn.send(run(task("task-1", shell("sleep 60"))));
        awaitTaskState("task-1", TaskState.TASK_RUNNING);
        long pid = pidOf("task-1");
        conn.send(MasterMessage.newBuilder()
                .setType(MasterMessage.Type.SHUTDOWN)
                .setEpoch(1)
                .setShutdown(MasterMessage.Shutdown.newBuilder().setMessage("agent removed"))
                .build());
        assertThat(shutdownRan.await(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        await().atMost(Timeouts.WAIT).until(() -> !TestCgroups.running(pid));
        await().atMost(Timeouts.WAIT).until(conn::ended);
    }

    @Test
    void servesItsStateAndHealth() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        conn.send(run(task("task-1", shell("sleep 60"))));
        awaitTaskState("task-1", TaskState.TASK_RUNNING);
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", agent.boundPort())
                .usePlaintext()
                .build();
        try {
            GetAgentStateResponse state = AgentOperatorGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS)
                    .getAgentState(GetAgentStateRequest.getDefaultInstance());
            assertThat(state.getRegistered()).isTrue();
            assertThat(state.getAgentInfo().getId().getValue()).isEqualTo("agent-1");
            assertThat(state.getAgentInfo().getPort()).isEqualTo(agent.boundPort());
            assertThat(state.getMasterInfo().getId()).isEqualTo("master-1");
            assertThat(state.getWorkDir()).isEqualTo(workDir.toString());
            assertThat(state.getTasksList()).extracting(t -> t.getTaskId().getValue()).containsExactly("task-1");

            HealthCheckResponse health = HealthGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance());
            assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

            LinkedBlockingQueue<ServerReflectionResponse> reflection = new LinkedBlockingQueue<>();
            StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
                    .serverReflectionInfo(new StreamObserver<>() {
                        @Override
                        public void onNext(ServerReflectionResponse value) {
                            reflection.add(value);
                        }

                        @Override
                        public void onError(Throwable t) {}

                        @Override
                        public void onCompleted() {}
                    });
            requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
            ServerReflectionResponse services = reflection.poll(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);
            requests.onCompleted();
            assertThat(services).isNotNull();
            assertThat(services.getListServicesResponse().getServiceList())
                    .extracting(ServiceResponse::getName)
                    .contains("mezzo.v1.AgentOperator", "grpc.health.v1.Health");
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void closeKillsEveryTask() throws Exception {
        ScriptedMaster.AgentStream conn = register();
        conn.send(run(task("task-1", shell("trap '' TERM; sleep 60 & sleep 60 & wait"))));
        awaitTaskState("task-1", TaskState.TASK_RUNNING);
        long pid = pidOf("task-1");
        ProcessHandle root = ProcessHandle.of(pid).orElseThrow();
        // Under the launcher: the command's shell, its two sleeps (and the launcher's watch on the agent).
        await().atMost(Timeouts.WAIT).until(() -> root.descendants()
                .filter(h -> h.info().command().map(c -> c.endsWith("sleep")).orElse(false)).count() == 2);
        List<ProcessHandle> all = new ArrayList<>(root.descendants().toList());
        all.add(root);

        agent.close();
        await().atMost(Timeouts.WAIT).untilAsserted(() -> assertThat(all).noneMatch(h -> TestCgroups.running(h.pid())));
    }

    // ---------------------------------------------------------------- helpers

    private ScriptedMaster.AgentStream register() throws Exception {
        ScriptedMaster.AgentStream conn = master.nextAgentStream();
        conn.next(AgentMessage.Type.REGISTER);
        conn.send(registered(1));
        agent.registered().get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);
        return conn;
    }

    /** Takes the next updates, which must be in {@code states}, acknowledging each; returns the last. */
    private static StatusUpdate acknowledgeThrough(ScriptedMaster.AgentStream conn, TaskState... states)
            throws InterruptedException {
        StatusUpdate update = null;
        for (TaskState state : states) {
            update = conn.nextUpdate();
            assertThat(update.getStatus().getState()).isEqualTo(state);
            conn.send(ack(update));
        }
        return update;
    }

    private void awaitTaskState(String task, TaskState state) {
        await().atMost(Timeouts.WAIT).until(() -> {
            TaskRecord r = on(() -> agent.core().task(key(task)));
            return r != null && r.state() == state;
        });
    }

    private void awaitPhase(String task, TaskRecord.Phase phase) {
        await().atMost(Timeouts.WAIT).until(() -> {
            TaskRecord r = on(() -> agent.core().task(key(task)));
            return r != null && r.phase() == phase;
        });
    }

    private long pidOf(String task) throws Exception {
        return on(() -> agent.core().task(key(task)).container.pid());
    }

    private GetAgentStateResponse state() throws Exception {
        return agent.state().get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private Path sandbox(StatusUpdate update) {
        return workDir.resolve("agents/agent-1/frameworks/framework-1/tasks")
                .resolve(update.getStatus().getTaskId().getValue())
                .resolve("runs")
                .resolve(update.getStatus().getContainerId().getValue());
    }

    private void advance(Duration d) throws Exception {
        clock.advance(d);
        settle();
    }

    private void settle() throws Exception {
        agent.loop().barrier().get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private <T> T on(Supplier<T> read) throws Exception {
        return agent.loop().call(read).get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private static TaskKey key(String task) {
        return new TaskKey(FrameworkId.of(FRAMEWORK.getId()), TaskId.of(task));
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.UTF_8);
    }

    private MasterMessage registered(long epoch) {
        return AgentHarness.registered(master.port(), epoch);
    }

    private static MasterMessage ping(long sequence, long epoch) {
        return MasterMessage.newBuilder()
                .setType(MasterMessage.Type.PING)
                .setEpoch(epoch)
                .setPing(MasterMessage.Ping.newBuilder().setSequence(sequence))
                .build();
    }

    private static MasterMessage run(TaskInfo task) {
        return run(FRAMEWORK, task);
    }

    private static MasterMessage run(TaskInfo task, long epoch) {
        return run(FRAMEWORK, task).toBuilder().setEpoch(epoch).build();
    }

    private static MasterMessage run(FrameworkInfo framework, TaskInfo task) {
        return AgentHarness.run(framework, task);
    }

    private static MasterMessage kill(String task, StatusReason reason, Duration grace) {
        return AgentHarness.kill(task, reason, grace);
    }

    private static MasterMessage ack(StatusUpdate update) {
        return AgentHarness.ack(update);
    }

    private static MasterMessage frameworkMessage(String executor, String data) {
        return MasterMessage.newBuilder()
                .setType(MasterMessage.Type.FRAMEWORK_MESSAGE)
                .setEpoch(1)
                .setFrameworkMessage(MasterMessage.FrameworkMessage.newBuilder()
                        .setFrameworkId(FRAMEWORK.getId())
                        .setExecutorId(ExecutorID.newBuilder().setValue(executor))
                        .setData(ByteString.copyFromUtf8(data)))
                .build();
    }

    private static TaskInfo task(String id, CommandInfo command) {
        return Protos.task(id, "agent-1", "cpus:0.1").setCommand(command).build();
    }
}
