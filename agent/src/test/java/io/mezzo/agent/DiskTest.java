package io.mezzo.agent;

import static io.mezzo.agent.AgentHarness.acknowledgeThrough;
import static io.mezzo.agent.AgentHarness.run;
import static io.mezzo.agent.AgentHarness.task;
import static io.mezzo.testkit.Protos.scalar;
import static io.mezzo.testkit.Protos.shell;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.ScriptedMaster;
import io.mezzo.testkit.Timeouts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sandbox disk limits and the removal of finished sandboxes, on the agent's clock. */
class DiskTest {

    private static final Duration WATCH = Duration.ofSeconds(15);

    @TempDir
    Path workDir;

    private AgentHarness h;

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    @Test
    void aSandboxPastItsDiskFailsTheTaskWhenEnforced() throws Exception {
        h = new AgentHarness(workDir, b -> b.isolation(AgentConfig.IsolationMode.POSIX).enforceDiskLimit(true)
                .diskWatchInterval(WATCH));
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        conn.send(run(withDisk(task("big", shell("head -c 3145728 /dev/zero > blob; echo written; sleep 600"), 32), 1)));
        StatusUpdate starting = acknowledgeThrough(conn, TaskState.TASK_STARTING);
        h.awaitAcknowledged(acknowledgeThrough(conn, TaskState.TASK_RUNNING));
        await().atMost(Timeouts.WAIT).until(() -> Files.readString(h.sandbox(starting).resolve("stdout")).contains("written"));
        await().atMost(Timeouts.WAIT).until(() -> {
            h.advance(WATCH);
            return conn.unread() > 0;
        });
        StatusUpdate failed = conn.nextUpdate();
        assertThat(failed.getStatus().getState()).isEqualTo(TaskState.TASK_FAILED);
        assertThat(failed.getStatus().getReason()).isEqualTo(StatusReason.REASON_CONTAINER_LIMITATION_DISK);
        assertThat(failed.getStatus().getSource()).isEqualTo(StatusSource.SOURCE_AGENT);
        assertThat(failed.getStatus().getMessage()).isEqualTo("Disk usage 3 MB exceeds the task's disk resource of 1 MB");
    }

    @Test
    void withoutEnforcementTheTaskRunsOnAndItsUsageIsReported() throws Exception {
        h = new AgentHarness(workDir, b -> b.isolation(AgentConfig.IsolationMode.POSIX).diskWatchInterval(WATCH));
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        conn.send(run(withDisk(task("big", shell("head -c 3145728 /dev/zero > blob; echo written; sleep 600"), 32), 1)));
        StatusUpdate starting = acknowledgeThrough(conn, TaskState.TASK_STARTING);
        h.awaitAcknowledged(acknowledgeThrough(conn, TaskState.TASK_RUNNING));
        await().atMost(Timeouts.WAIT).until(() -> Files.readString(h.sandbox(starting).resolve("stdout")).contains("written"));
        h.advance(WATCH);
        await().atMost(Timeouts.WAIT).until(() -> h.on(() -> h.agent.core().diskUsed(AgentHarness.key("big")))
                >= 3145728);
        assertThat(h.agent.containers().get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS).getContainers(0).getStatistics()
                .getDiskUsedBytes()).isGreaterThanOrEqualTo(3145728);
        h.advance(WATCH);
        assertThat(conn.unread()).isZero();
    }

    @Test
    void aFinishedTasksSandboxIsRemovedAfterTheGcDelay() throws Exception {
        h = new AgentHarness(workDir, b -> b.isolation(AgentConfig.IsolationMode.POSIX).gcDelay(Duration.ofHours(1)));
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        conn.send(run(task("quick", shell("echo done"), 32)));
        StatusUpdate starting = acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING);
        h.awaitAcknowledged(acknowledgeThrough(conn, TaskState.TASK_FINISHED));
        Path sandbox = h.sandbox(starting);
        await().atMost(Timeouts.WAIT).until(() -> h.on(() -> h.agent.core().sandboxesToCollect()) == 1);
        h.advance(Duration.ofMinutes(59));
        assertThat(sandbox).exists();
        h.advance(Duration.ofMinutes(1));
        await().atMost(Timeouts.WAIT).until(() -> !Files.exists(sandbox));
    }

    private static TaskInfo withDisk(TaskInfo task, long diskMb) {
        return task.toBuilder().addResources(scalar("disk", diskMb * 1000)).build();
    }
}
