package io.mezzo.agent;

import static io.mezzo.agent.AgentHarness.FRAMEWORK;
import static io.mezzo.agent.AgentHarness.acknowledgeThrough;
import static io.mezzo.agent.AgentHarness.acknowledgeUntilTerminal;
import static io.mezzo.agent.AgentHarness.run;
import static io.mezzo.agent.AgentHarness.task;
import static io.mezzo.testkit.Protos.shell;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.mezzo.agent.testing.TestCgroups;
import io.mezzo.proto.v1.AgentOperatorGrpc;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.ContainerStatus;
import io.mezzo.proto.v1.GetContainersRequest;
import io.mezzo.proto.v1.GetContainersResponse;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.ScriptedMaster;
import io.mezzo.testkit.Timeouts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent keeps tasks inside their resources and runs them as their user; real processes, manual clock. */
class IsolationTest {

    @TempDir
    Path workDir;

    private AgentHarness h;

    @AfterEach
    void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void aTaskPastItsMemoryLimitFailsWithTheMemoryLimitation() throws Exception {
        assumeCgroups();
        h = new AgentHarness(workDir, b -> b.isolation(AgentConfig.IsolationMode.CGROUPS));
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        // tail keeps a line without newlines in memory and is OOM-killed; its shell lives on, but the agent
        // notices the OOM kill when it next samples the container, and destroys it.
        conn.send(run(task("hog", shell("head -c 268435456 /dev/zero | tail > /dev/null; sleep 600"), 64)));
        h.awaitAcknowledged(acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING));
        await().atMost(Timeouts.WAIT).until(() -> {
            h.advance(AgentConfig.DEFAULT_USAGE_INTERVAL);
            return conn.unread() > 0;
        });
        StatusUpdate failed = acknowledgeUntilTerminal(conn);
        assertThat(failed.getStatus().getState()).isEqualTo(TaskState.TASK_FAILED);
        assertThat(failed.getStatus().getReason()).isEqualTo(StatusReason.REASON_CONTAINER_LIMITATION_MEMORY);
        assertThat(failed.getStatus().getSource()).isEqualTo(StatusSource.SOURCE_AGENT);
        assertThat(failed.getStatus().getMessage()).startsWith("Memory limit exceeded: requested 64 MB");
    }

    @Test
    void posixIsolationKillsATaskWhoseMemoryPassesItsLimitWhenSampled() throws Exception {
        h = new AgentHarness(workDir, b -> b.isolation(AgentConfig.IsolationMode.POSIX));
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        // The shell itself holds 100 MB in a variable, against 32 MB.
        conn.send(run(task("hog", shell("x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo held; sleep 600"), 32)));
        StatusUpdate starting = acknowledgeThrough(conn, TaskState.TASK_STARTING);
        h.awaitAcknowledged(acknowledgeThrough(conn, TaskState.TASK_RUNNING));
        await().atMost(Timeouts.WAIT).until(() -> read(h.sandbox(starting).resolve("stdout")).contains("held"));
        h.advance(AgentConfig.DEFAULT_USAGE_INTERVAL);
        StatusUpdate failed = conn.nextUpdate();
        assertThat(failed.getStatus().getState()).isEqualTo(TaskState.TASK_FAILED);
        assertThat(failed.getStatus().getReason()).isEqualTo(StatusReason.REASON_CONTAINER_LIMITATION_MEMORY);
        assertThat(failed.getStatus().getMessage()).startsWith("Memory limit exceeded: requested 32 MB, used ");
    }

    @Test
    void runsTheTaskAsItsUserInASandboxItOwns() throws Exception {
        Assumptions.assumeTrue(TestCgroups.isRoot(), "switching users needs root");
        h = new AgentHarness(workDir, b -> b.isolation(AgentConfig.IsolationMode.POSIX));
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        conn.send(run(task("who", shell("id -un > me; echo written"), 32)));
        StatusUpdate starting = acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING,
                TaskState.TASK_FINISHED);
        Path sandbox = h.sandbox(starting);
        assertThat(read(sandbox.resolve("me")).trim()).isEqualTo("nobody");
        assertThat(Files.getOwner(sandbox).getName()).isEqualTo("nobody");
    }

    @Test
    void anUnknownUserFailsTheTaskWithAMessage() throws Exception {
        Assumptions.assumeTrue(TestCgroups.isRoot(), "switching users needs root");
        h = new AgentHarness(workDir, b -> b.isolation(AgentConfig.IsolationMode.POSIX));
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        CommandInfo command = CommandInfo.newBuilder().setShell("true").setUser("no-such-user-mezzo").build();
        conn.send(run(task("who", command, 32)));
        StatusUpdate failed = acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_FAILED);
        assertThat(failed.getStatus().getReason()).isEqualTo(StatusReason.REASON_TASK_USER_INVALID);
        assertThat(failed.getStatus().getMessage())
                .isEqualTo("User 'no-such-user-mezzo' does not exist on the agent's host");
    }

    @Test
    void servesTheUsageOfEveryContainer() throws Exception {
        h = new AgentHarness(workDir, b -> {});
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        conn.send(run(task("sleeper", shell("sleep 600 & wait"), 64)));
        StatusUpdate starting = acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING);
        long pid = h.pidOf("sleeper");
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", h.agent.boundPort()).usePlaintext().build();
        try {
            AgentOperatorGrpc.AgentOperatorBlockingStub stub = AgentOperatorGrpc.newBlockingStub(channel);
            await().atMost(Timeouts.WAIT).until(() -> containers(stub).getContainers(0).getStatistics().getProcesses() >= 3);
            ContainerStatus c = containers(stub).getContainers(0);
            assertThat(c.getFrameworkId()).isEqualTo(FRAMEWORK.getId());
            assertThat(c.getTaskId().getValue()).isEqualTo("sleeper");
            assertThat(c.getExecutorId().getValue()).isEqualTo("sleeper");
            assertThat(c.getContainerId()).isEqualTo(starting.getStatus().getContainerId());
            assertThat(c.getPid()).isEqualTo(pid);
            assertThat(c.getIsolation()).isEqualTo(h.agent.containerizer().isolator().name());
            assertThat(c.getStatistics().getMemLimitBytes()).isEqualTo(64L * 1024 * 1024);
            assertThat(c.getStatistics().getMemRssBytes()).isPositive();
            assertThat(c.getStatistics().getTimestamp()).isEqualTo(h.clock.seconds());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static GetContainersResponse containers(AgentOperatorGrpc.AgentOperatorBlockingStub stub) {
        return stub.withDeadlineAfter(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS)
                .getContainers(GetContainersRequest.getDefaultInstance());
    }

    private static void assumeCgroups() {
        String reason = TestCgroups.unavailableReason();
        if (reason != null) {
            System.out.println("cgroups test skipped: " + reason);
        }
        Assumptions.assumeTrue(reason == null, () -> "cgroups cannot be managed here: " + reason);
    }

    private static String read(Path file) throws java.io.IOException {
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    }
}
