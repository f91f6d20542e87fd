package io.mezzo.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.agent.status.TaskKey;
import io.mezzo.agent.testing.TestCgroups;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.task.TaskStates;
import io.mezzo.ha.StandaloneMasterDetector;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.GetAgentStateResponse;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.Value;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.ScriptedMaster;
import io.mezzo.testkit.Timeouts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One agent against a {@link ScriptedMaster} on a manual clock, with the message builders and waits the
 * agent tests share. Agents can be restarted on the same work directory (recovery tests). Closes in
 * reverse order; checks that no fault was recorded.
 */
final class AgentHarness implements AutoCloseable {

    static final FrameworkInfo FRAMEWORK = FrameworkInfo.newBuilder()
            .setId(FrameworkID.newBuilder().setValue("framework-1"))
            .setName("test")
            .setUser("nobody")
            .build();
    static final FrameworkInfo CHECKPOINTING = FRAMEWORK.toBuilder().setCheckpoint(true).build();

    final ManualClock clock = new ManualClock();
    final RecordingFaultHandler faults = new RecordingFaultHandler();
    final Path workDir;
    final String cgroupsRoot = TestCgroups.uniqueRoot();
    final ScriptedMaster master;
    private final Consumer<AgentConfig.Builder> tweak;
    private final List<Agent> agents = new ArrayList<>();
    Agent agent;

    AgentHarness(Path workDir, Consumer<AgentConfig.Builder> tweak) throws Exception {
        this.workDir = workDir;
        this.tweak = tweak;
        this.master = ScriptedMaster.start();
    }

    /** The configuration every agent of this harness gets (before the test's tweak). */
    AgentConfig.Builder config() {
        AgentConfig.Builder b = AgentConfig.builder()
                .masterDetector(new StandaloneMasterDetector("127.0.0.1", master.port()))
                .port(0)
                .workDir(workDir)
                .resources("cpus:2;mem:1024;disk:2048;ports:[31000-31009]")
                .registrationBackoff(Duration.ofSeconds(1), Duration.ofSeconds(1))
                .registrationTimeout(Duration.ofMinutes(10))
                .statusUpdateRetry(Duration.ofSeconds(2), Duration.ofSeconds(2))
                .cgroupsRoot(cgroupsRoot)
                .clock(clock)
                .faultHandler(faults);
        tweak.accept(b);
        return b;
    }

    /** Starts a new agent on the work directory. */
    Agent start() {
        return start(b -> {});
    }

    /** Starts a new agent on the work directory with one more tweak. */
    Agent start(Consumer<AgentConfig.Builder> more) {
        AgentConfig.Builder b = config();
        more.accept(b);
        agent = new Agent(b.build());
        agents.add(agent);
        return agent.start();
    }

    /** Takes the agent's first stream, expects REGISTER and answers REGISTERED as agent-1. */
    ScriptedMaster.AgentStream register() throws Exception {
        ScriptedMaster.AgentStream conn = master.nextAgentStream();
        conn.next(AgentMessage.Type.REGISTER);
        conn.send(registered(1));
        agent.registered().get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);
        return conn;
    }

    @Override
    public void close() throws Exception {
        for (int i = agents.size() - 1; i >= 0; i--) {
            agents.get(i).close();
        }
        master.close();
        TestCgroups.remove(cgroupsRoot);
        faults.assertNoFaults();
    }

    // ---------------------------------------------------------------- waits

    /** Takes the next updates, which must be in {@code states}, acknowledging each; returns the last. */
    static StatusUpdate acknowledgeThrough(ScriptedMaster.AgentStream conn, TaskState... states)
            throws InterruptedException {
        StatusUpdate update = null;
        for (TaskState state : states) {
            update = conn.nextUpdate();
            assertThat(update.getStatus().getState()).as("update %s", update).isEqualTo(state);
            conn.send(ack(update));
        }
        return update;
    }

    /** Takes updates, acknowledging each, until one is terminal; returns that one. */
    static StatusUpdate acknowledgeUntilTerminal(ScriptedMaster.AgentStream conn) throws InterruptedException {
        while (true) {
            StatusUpdate update = conn.nextUpdate();
            conn.send(ack(update));
            if (TaskStates.isTerminal(update.getStatus().getState())) {
                return update;
            }
        }
    }

    /**
     * Waits until the agent has processed the acknowledgement of {@code update}: before that, advancing
     * the clock past the retry delay would make it resend the update.
     */
    void awaitAcknowledged(StatusUpdate update) {
        await().atMost(Timeouts.WAIT).until(() -> on(() -> agent.core().pendingUpdates()).stream()
                .noneMatch(u -> u.getStatus().getUuid().equals(update.getStatus().getUuid())));
    }

    void awaitTaskState(String task, TaskState state) {
        await().atMost(Timeouts.WAIT).until(() -> {
            TaskRecord r = on(() -> agent.core().task(key(task)));
            return r != null && r.state() == state;
        });
    }

    long pidOf(String task) throws Exception {
        return on(() -> agent.core().task(key(task)).container.pid());
    }

    GetAgentStateResponse state() throws Exception {
        return agent.state().get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    Path sandbox(StatusUpdate update) {
        return workDir.resolve("agents/agent-1/frameworks/framework-1/tasks")
                .resolve(update.getStatus().getTaskId().getValue())
                .resolve("runs")
                .resolve(update.getStatus().getContainerId().getValue());
    }

    void advance(Duration d) throws Exception {
        clock.advance(d);
        settle();
    }

    void settle() throws Exception {
        agent.loop().barrier().get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    <T> T on(Supplier<T> read) throws Exception {
        return agent.loop().call(read).get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    static TaskKey key(String task) {
        return new TaskKey(FrameworkId.of(FRAMEWORK.getId()), TaskId.of(task));
    }

    // ---------------------------------------------------------------- messages

    MasterMessage registered(long epoch) {
        return registered(master.port(), epoch);
    }

    /** REGISTERED as agent-1 from master-1 at 127.0.0.1:{@code port}, with {@code epoch}. */
    static MasterMessage registered(int port, long epoch) {
        return MasterMessage.newBuilder()
                .setType(MasterMessage.Type.REGISTERED)
                .setEpoch(epoch)
                .setRegistered(MasterMessage.Registered.newBuilder()
                        .setAgentId(AgentID.newBuilder().setValue("agent-1"))
                        .setMasterInfo(MasterInfo.newBuilder()
                                .setId("master-1")
                                .setIp("127.0.0.1")
                                .setPort(port)
                                .setEpoch(epoch))
                        .setPingIntervalSeconds(10)
                        .setMaxPingTimeouts(3))
                .build();
    }

    static MasterMessage run(FrameworkInfo framework, TaskInfo task) {
        return MasterMessage.newBuilder()
                .setType(MasterMessage.Type.RUN_TASK)
                .setEpoch(1)
                .setRunTask(MasterMessage.RunTask.newBuilder().setFramework(framework).setTask(task))
                .build();
    }

    static MasterMessage run(TaskInfo task) {
        return run(FRAMEWORK, task);
    }

    static MasterMessage kill(String task) {
        return kill(task, StatusReason.REASON_KILLED_BY_FRAMEWORK, null);
    }

    /** KILL_TASK of a task of {@link #FRAMEWORK}, with a grace period when not null. */
    static MasterMessage kill(String task, StatusReason reason, java.time.Duration grace) {
        MasterMessage.KillTask.Builder kill = MasterMessage.KillTask.newBuilder()
                .setFrameworkId(FRAMEWORK.getId())
                .setTaskId(TaskID.newBuilder().setValue(task))
                .setReason(reason);
        if (grace != null) {
            kill.setKillPolicy(io.mezzo.proto.v1.KillPolicy.newBuilder().setGracePeriod(
                    io.mezzo.proto.v1.DurationInfo.newBuilder().setNanoseconds(grace.toNanos())));
        }
        return MasterMessage.newBuilder()
                .setType(MasterMessage.Type.KILL_TASK)
                .setEpoch(1)
                .setKillTask(kill)
                .build();
    }

    static MasterMessage ack(StatusUpdate update) {
        return Protos.ack(update).toBuilder().setEpoch(1).build();
    }

    /** A task with 0.1 cpus and {@code memMb} of memory. */
    static TaskInfo task(String id, CommandInfo command, long memMb) {
        return Protos.task(id, "agent-1", "cpus:0.1;mem:" + memMb).setCommand(command).build();
    }
}
