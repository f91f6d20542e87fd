package io.mezzo.agent;

import static io.mezzo.agent.AgentHarness.CHECKPOINTING;
import static io.mezzo.agent.AgentHarness.FRAMEWORK;
import static io.mezzo.agent.AgentHarness.ack;
import static io.mezzo.agent.AgentHarness.acknowledgeThrough;
import static io.mezzo.agent.AgentHarness.run;
import static io.mezzo.agent.AgentHarness.task;
import static io.mezzo.testkit.Protos.shell;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.agent.checkpoint.CheckpointFile;
import io.mezzo.agent.testing.TestCgroups;
import io.mezzo.proto.v1.AgentCheckpoint;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.ContainerCheckpoint;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.ReservationInfo;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.Value;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.ScriptedMaster;
import io.mezzo.testkit.Timeouts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent restarted on the same work directory recovers what the previous one left: in one JVM, the
 * first agent stops without killing the tasks of checkpointing frameworks (as {@code mezzo agent} does
 * on SIGTERM), and a second one starts. The cross-process kill -9 case is in dist's AgentRestartIT.
 */
class RecoveryTest {

    @TempDir
    Path workDir;

    private AgentHarness h;
    private Process unrelated;

    @BeforeEach
    void start() throws Exception {
        h = new AgentHarness(workDir, b -> b.killTasksOnStop(false));
    }

    @AfterEach
    void stop() throws Exception {
        if (unrelated != null) {
            unrelated.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        h.close();
    }

    @Test
    void aRunningTaskIsReattachedAndItsEndReportedOnce() throws Exception {
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        conn.send(run(CHECKPOINTING, task("t1", shell("while [ ! -f go ]; do sleep 0.05; done; echo done"), 32)));
        StatusUpdate starting = acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING);
        long pid = h.pidOf("t1");
        awaitAcknowledged();
        h.agent.close();
        assertThat(TestCgroups.running(pid)).as("the task outlives its agent").isTrue();

        h.start();
        ScriptedMaster.AgentStream again = h.master.nextAgentStream();
        AgentMessage reregister = again.next(AgentMessage.Type.REREGISTER);
        assertThat(reregister.getAgentId().getValue()).isEqualTo("agent-1");
        assertThat(reregister.getReregister().getFrameworksList()).containsExactly(CHECKPOINTING);
        Task task = reregister.getReregister().getTasks(0);
        assertThat(task.getState()).isEqualTo(TaskState.TASK_RUNNING);
        assertThat(task.getContainerId()).isEqualTo(starting.getStatus().getContainerId());
        assertThat(reregister.getReregister().getUnacknowledgedUpdatesList()).isEmpty();
        again.send(h.registered(1));
        h.agent.registered().get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(h.pidOf("t1")).isEqualTo(pid);

        Files.writeString(h.sandbox(starting).resolve("go"), "");
        StatusUpdate finished = nextUpdatePolling(again);
        assertThat(finished.getStatus().getState()).isEqualTo(TaskState.TASK_FINISHED);
        assertThat(finished.getStatus().getExitCode()).isZero();
        again.send(ack(finished));
        await().atMost(Timeouts.WAIT).until(() -> h.state().getTasksCount() == 0);
        h.advance(java.time.Duration.ofSeconds(5));
        assertThat(again.unread()).as("TASK_FINISHED goes out exactly once").isZero();
        assertThat(workDir.resolve("meta/frameworks")).isEmptyDirectory();
    }

    @Test
    void aTaskThatEndedWhileTheAgentWasDownIsReportedWithItsExitCode() throws Exception {
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        conn.send(run(CHECKPOINTING, task("t1", shell("while [ ! -f go ]; do sleep 0.05; done; exit 7"), 32)));
        StatusUpdate starting = acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING);
        long pid = h.pidOf("t1");
        awaitAcknowledged();
        h.agent.close();
        Files.writeString(h.sandbox(starting).resolve("go"), "");
        await().atMost(Timeouts.WAIT).until(() -> !TestCgroups.running(pid));

        h.start();
        ScriptedMaster.AgentStream again = h.master.nextAgentStream();
        AgentMessage.Reregister body = again.next(AgentMessage.Type.REREGISTER).getReregister();
        assertThat(body.getTasks(0).getState()).isEqualTo(TaskState.TASK_FAILED);
        assertThat(body.getUnacknowledgedUpdatesList()).hasSize(1);
        again.send(h.registered(1));
        StatusUpdate failed = again.nextUpdate();
        assertThat(failed).isEqualTo(body.getUnacknowledgedUpdates(0));
        assertThat(failed.getStatus().getState()).isEqualTo(TaskState.TASK_FAILED);
        assertThat(failed.getStatus().getReason()).isEqualTo(StatusReason.REASON_COMMAND_FAILED);
        assertThat(failed.getStatus().getExitCode()).isEqualTo(7);
        assertThat(failed.getStatus().getMessage()).isEqualTo("Command exited with status 7");
    }

    @Test
    void unacknowledgedUpdatesAreResentInOrderWithTheirUuids() throws Exception {
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        conn.send(run(CHECKPOINTING, task("t1", shell("exit 0"), 32)));
        StatusUpdate starting = conn.nextUpdate();
        h.awaitTaskState("t1", TaskState.TASK_FINISHED);
        h.agent.close();

        h.start();
        ScriptedMaster.AgentStream again = h.master.nextAgentStream();
        List<StatusUpdate> pending = again.next(AgentMessage.Type.REREGISTER).getReregister()
                .getUnacknowledgedUpdatesList();
        assertThat(pending).extracting(u -> u.getStatus().getState())
                .containsExactly(TaskState.TASK_STARTING, TaskState.TASK_RUNNING, TaskState.TASK_FINISHED);
        assertThat(pending.get(0)).isEqualTo(starting);
        again.send(h.registered(1));
        for (StatusUpdate expected : pending) {
            StatusUpdate sent = again.nextUpdate();
            // As stored (uuid, status); a head with updates behind it also carries the task's latest state.
            assertThat(sent.toBuilder().clearLatestState().build()).isEqualTo(expected);
            if (expected != pending.get(pending.size() - 1)) {
                assertThat(sent.getLatestState()).isEqualTo(TaskState.TASK_FINISHED);
            }
            again.send(ack(sent));
        }
        await().atMost(Timeouts.WAIT).until(() -> h.state().getTasksCount() == 0);
    }

    @Test
    void aPidReusedByAnotherProcessIsNeverAdopted() throws Exception {
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        conn.send(run(CHECKPOINTING, task("t1", shell("sleep 600"), 32)));
        StatusUpdate starting = acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING);
        long pid = h.pidOf("t1");
        awaitAcknowledged();
        h.agent.close();
        // Pretend the launcher died and its pid went to an unrelated process.
        unrelated = new ProcessBuilder("sleep", "600").start();
        Path record = workDir.resolve("meta/containers").resolve(starting.getStatus().getContainerId().getValue())
                .resolve("container.info");
        ContainerCheckpoint c = CheckpointFile.read(record, ContainerCheckpoint.parser());
        CheckpointFile.write(record, c.toBuilder().setPid((int) unrelated.pid()).build());

        h.start();
        ScriptedMaster.AgentStream again = h.master.nextAgentStream();
        again.next(AgentMessage.Type.REREGISTER);
        again.send(h.registered(1));
        StatusUpdate lost = again.nextUpdate();
        assertThat(lost.getStatus().getState()).isEqualTo(TaskState.TASK_LOST);
        assertThat(lost.getStatus().getReason()).isEqualTo(StatusReason.REASON_AGENT_RESTARTED);
        assertThat(lost.getStatus().getMessage()).contains("pid " + unrelated.pid());
        assertThat(TestCgroups.running(unrelated.pid())).as("the unrelated process is spared").isTrue();
        // What the real launcher left is found through its cgroup (or its environment) and killed.
        await().atMost(Timeouts.WAIT).until(() -> !TestCgroups.running(pid));
    }

    @Test
    void aRebootedHostsTasksAreReportedGone() throws Exception {
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        FrameworkInfo partitionAware = CHECKPOINTING.toBuilder()
                .addCapabilities(FrameworkInfo.Capability.newBuilder()
                        .setType(FrameworkInfo.Capability.Type.PARTITION_AWARE))
                .build();
        conn.send(run(partitionAware, task("t1", shell("sleep 600"), 32)));
        StatusUpdate starting = acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING);
        long pid = h.pidOf("t1");
        awaitAcknowledged();
        h.agent.close();
        Path record = workDir.resolve("meta/containers").resolve(starting.getStatus().getContainerId().getValue())
                .resolve("container.info");
        CheckpointFile.write(record, CheckpointFile.read(record, ContainerCheckpoint.parser()).toBuilder()
                .setBootId("an-earlier-boot").build());
        Path agentRecord = workDir.resolve("meta/agent.info");
        CheckpointFile.write(agentRecord, CheckpointFile.read(agentRecord, AgentCheckpoint.parser()).toBuilder()
                .setBootId("an-earlier-boot").build());

        h.start();
        ScriptedMaster.AgentStream again = h.master.nextAgentStream();
        again.next(AgentMessage.Type.REREGISTER);
        again.send(h.registered(1));
        StatusUpdate gone = again.nextUpdate();
        assertThat(gone.getStatus().getState()).isEqualTo(TaskState.TASK_GONE);
        assertThat(gone.getStatus().getReason()).isEqualTo(StatusReason.REASON_AGENT_REBOOTED);
        // On a real reboot the process is gone; here the test removes it.
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    @Test
    void cleanupKillsWhatWasLeftAndRegistersAnew() throws Exception {
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        conn.send(run(CHECKPOINTING, task("t1", shell("sleep 600 & sleep 600"), 32)));
        acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING);
        long pid = h.pidOf("t1");
        List<Long> tree = Stream.concat(Stream.of(pid),
                ProcessHandle.of(pid).orElseThrow().descendants().map(ProcessHandle::pid)).toList();
        h.agent.close();

        h.start(b -> b.recover(AgentConfig.RecoverMode.CLEANUP));
        ScriptedMaster.AgentStream again = h.master.nextAgentStream();
        AgentMessage register = again.next(AgentMessage.Type.REGISTER);
        assertThat(register.getRegister().getAgentInfo().hasId()).isFalse();
        await().atMost(Timeouts.WAIT).until(() -> tree.stream().noneMatch(TestCgroups::running));
        assertThat(workDir.resolve("meta/frameworks")).doesNotExist();
    }

    @Test
    void tasksOfFrameworksThatDoNotCheckpointDoNotSurviveTheAgent() throws Exception {
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        conn.send(run(FRAMEWORK, task("t1", shell("sleep 600"), 32)));
        acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING);
        long pid = h.pidOf("t1");
        awaitAcknowledged();
        h.agent.close();
        await().atMost(Timeouts.WAIT).until(() -> !TestCgroups.running(pid));

        h.start();
        ScriptedMaster.AgentStream again = h.master.nextAgentStream();
        AgentMessage.Reregister body = again.next(AgentMessage.Type.REREGISTER).getReregister();
        // The master tells the framework (REASON_AGENT_RESTARTED) when the task is missing here.
        assertThat(body.getTasksList()).isEmpty();
    }

    @Test
    void anAgentThatKillsOnStopRecordsTheKillForTheNextOne() throws Exception {
        h.start(b -> b.killTasksOnStop(true));
        ScriptedMaster.AgentStream conn = h.register();
        conn.send(run(CHECKPOINTING, task("t1", shell("sleep 600"), 32)));
        acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING);
        long pid = h.pidOf("t1");
        awaitAcknowledged();
        h.agent.close();
        assertThat(TestCgroups.running(pid)).isFalse();

        h.start();
        ScriptedMaster.AgentStream again = h.master.nextAgentStream();
        again.next(AgentMessage.Type.REREGISTER);
        again.send(h.registered(1));
        StatusUpdate killed = again.nextUpdate();
        assertThat(killed.getStatus().getState()).isEqualTo(TaskState.TASK_KILLED);
        assertThat(killed.getStatus().getReason()).isEqualTo(StatusReason.REASON_AGENT_SHUTDOWN);
    }

    @Test
    void checkpointedReservationsAreReportedAfterARestart() throws Exception {
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        Resource reserved = Resource.newBuilder()
                .setName("cpus")
                .setType(Value.Type.SCALAR)
                .setScalar(Value.Scalar.newBuilder().setMilli(1000))
                .setReservation(ReservationInfo.newBuilder()
                        .setType(ReservationInfo.Type.DYNAMIC)
                        .setRole("eng")
                        .setPrincipal("ops"))
                .build();
        conn.send(MasterMessage.newBuilder()
                .setType(MasterMessage.Type.CHECKPOINT_RESOURCES)
                .setEpoch(1)
                .setCheckpointResources(MasterMessage.CheckpointResources.newBuilder().addResources(reserved))
                .build());
        await().atMost(Timeouts.WAIT).until(() -> h.on(() -> h.agent.core().total()).toProto().contains(reserved));
        h.agent.close();

        h.start();
        AgentMessage.Reregister body = h.master.nextAgentStream().next(AgentMessage.Type.REREGISTER).getReregister();
        assertThat(body.getAgentInfo().getResourcesList()).contains(reserved);
        assertThat(body.getAgentInfo().getResourcesList()).filteredOn(r -> r.getName().equals("cpus")
                        && !r.hasReservation())
                .extracting(r -> r.getScalar().getMilli())
                .containsExactly(1000L);
    }

    /** Waits for the agent to have processed every acknowledgement sent so far. */
    private void awaitAcknowledged() {
        await().atMost(Timeouts.WAIT).until(() -> h.on(() -> h.agent.core().pendingUpdates()).isEmpty());
    }

    /** The next update, advancing the clock so that the agent's liveness polling notices exits. */
    private StatusUpdate nextUpdatePolling(ScriptedMaster.AgentStream conn) throws Exception {
        await().atMost(Timeouts.WAIT).until(() -> {
            h.advance(io.mezzo.agent.containerizer.Containerizer.LIVENESS_INTERVAL);
            return conn.unread() > 0;
        });
        return conn.nextUpdate();
    }
}
