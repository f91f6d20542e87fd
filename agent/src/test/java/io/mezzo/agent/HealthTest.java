package io.mezzo.agent;

import static io.mezzo.agent.AgentHarness.ack;
import static io.mezzo.agent.AgentHarness.acknowledgeThrough;
import static io.mezzo.agent.AgentHarness.run;
import static io.mezzo.agent.AgentHarness.task;
import static io.mezzo.testkit.Protos.shell;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.agent.testing.TestCgroups;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.HealthCheck;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.ScriptedMaster;
import io.mezzo.testkit.Timeouts;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Health checks run next to the task on the agent's clock; their results reach the framework. */
class HealthTest {

    @TempDir
    Path workDir;

    private AgentHarness h;

    @BeforeEach
    void start() throws Exception {
        h = new AgentHarness(workDir, b -> b.isolation(AgentConfig.IsolationMode.POSIX));
        h.start();
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    @Test
    void aPassingCheckReportsTheTaskHealthy() throws Exception {
        try (ServerSocket listening = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"))) {
            ScriptedMaster.AgentStream conn = h.register();
            conn.send(run(checked(shell("sleep 600"), HealthCheck.newBuilder()
                    .setType(HealthCheck.Type.TCP)
                    .setTcp(HealthCheck.TCPCheckInfo.newBuilder().setPort(listening.getLocalPort())))));
            StatusUpdate running = acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING);
            h.awaitAcknowledged(running);
            assertThat(running.getStatus().hasHealthy()).isFalse();
            StatusUpdate healthy = nextUpdateAdvancing(conn);
            assertThat(healthy.getStatus().getState()).isEqualTo(TaskState.TASK_RUNNING);
            assertThat(healthy.getStatus().getReason()).isEqualTo(StatusReason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED);
            assertThat(healthy.getStatus().getHealthy()).isTrue();
            conn.send(ack(healthy));
            h.awaitAcknowledged(healthy);
            // Healthy again and again: nothing more to say.
            h.advance(Duration.ofSeconds(1));
            h.advance(Duration.ofSeconds(1));
            h.settle();
            assertThat(conn.unread()).isZero();
        }
    }

    @Test
    void aTaskFailingItsThresholdIsKilledWithTheHealthCheckReason() throws Exception {
        ScriptedMaster.AgentStream conn = h.register();
        conn.send(run(checked(shell("sleep 600"), HealthCheck.newBuilder()
                .setType(HealthCheck.Type.COMMAND)
                .setConsecutiveFailures(2)
                .setCommand(CommandInfo.newBuilder().setShell("exit 1")))));
        h.awaitAcknowledged(acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING));
        long pid = h.pidOf("checked");
        StatusUpdate unhealthy = nextUpdateAdvancing(conn);
        assertThat(unhealthy.getStatus().getState()).isEqualTo(TaskState.TASK_RUNNING);
        assertThat(unhealthy.getStatus().getHealthy()).isFalse();
        assertThat(unhealthy.getStatus().getMessage()).isEqualTo("command exited with status 1");
        conn.send(ack(unhealthy));
        h.awaitAcknowledged(unhealthy);
        // The clock runs ahead while the test waits, so the agent may have resent the unhealthy
        // update before its acknowledgement arrived: a resend is the same update, not news.
        StatusUpdate killed = nextUpdateAdvancing(conn);
        while (killed.getStatus().getUuid().equals(unhealthy.getStatus().getUuid())) {
            killed = nextUpdateAdvancing(conn);
        }
        assertThat(killed.getStatus().getState()).isEqualTo(TaskState.TASK_KILLED);
        assertThat(killed.getStatus().getReason()).isEqualTo(StatusReason.REASON_HEALTH_CHECK_FAILED);
        assertThat(killed.getStatus().getHealthy()).isFalse();
        assertThat(killed.getStatus().getMessage())
                .isEqualTo("Task failed 2 consecutive health checks; the last: command exited with status 1");
        await().atMost(Timeouts.WAIT).until(() -> !TestCgroups.running(pid));
    }

    private StatusUpdate nextUpdateAdvancing(ScriptedMaster.AgentStream conn) throws Exception {
        await().atMost(Timeouts.WAIT).until(() -> {
            h.advance(Duration.ofSeconds(1));
            return conn.unread() > 0;
        });
        return conn.nextUpdate();
    }

    private static TaskInfo checked(CommandInfo command, HealthCheck.Builder check) {
        return task("checked", command, 32).toBuilder()
                .setHealthCheck(check
                        .setDelaySeconds(1)
                        .setIntervalSeconds(1)
                        .setTimeoutSeconds(10)
                        // The smallest grace period: proto3 reads 0 as "the default".
                        .setGracePeriodSeconds(0.001))
                .build();
    }
}
