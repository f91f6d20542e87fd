package io.mezzo.master;

import static io.mezzo.master.CoreHarness.agentInfo;
import static io.mezzo.master.CoreHarness.runningTask;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.ha.registry.RegistryOp;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.DrainConfig;
import io.mezzo.proto.v1.DrainState;
import io.mezzo.proto.v1.DurationInfo;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MaintenanceWindow;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.testkit.Protos;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * DrainAgent, ReactivateAgent, the maintenance schedule and operator kill/teardown on the master's
 * event loop with a manual clock ({@link CoreHarness}): kills with the draining reason and a capped
 * grace period, DRAINED once empty, mark_gone, the window's timer and its advance notice, and
 * drains and schedules read back by a new leader.
 */
class DrainAgentTest {

    private static final FrameworkInfo FW = Protos.framework("svc")
            .setId(FrameworkID.newBuilder().setValue("fw-1")).setFailoverTimeout(3600).build();
    private static final AgentInfo A = agentInfo("old-S1", "host-1");
    private static final AgentInfo B = agentInfo("old-S2", "host-2");
    private static final long SECOND = 1_000_000_000L;

    private final List<CoreHarness> harnesses = new ArrayList<>();

    @AfterEach
    void stop() {
        harnesses.forEach(CoreHarness::close);
    }

    /** A leader whose registry holds agents A and B and the framework, plus {@code more}. */
    private CoreHarness leader(List<RegistryOp> more) {
        double t = 1_767_000_000;
        List<RegistryOp> records = new ArrayList<>(List.of(RegistryRecords.admitted(A, t), RegistryRecords.admitted(B, t),
                RegistryRecords.active(FW, t, 0)));
        records.addAll(more);
        CoreHarness h = new CoreHarness(records, b -> b.agentReregisterTimeout(Duration.ofMinutes(10)));
        harnesses.add(h);
        return h;
    }

    /** What a harness's registry holds, as records for the next leader. */
    private static List<RegistryOp> registryOf(CoreHarness h) {
        List<RegistryOp> ops = new ArrayList<>();
        h.registry.readAll().forEach((collection, records) -> records.forEach((key, bytes) ->
                ops.add(RegistryOp.put(collection, key, bytes))));
        return ops;
    }

    private static Status call(CoreHarness h, java.util.function.Consumer<java.util.function.Consumer<Status>> op) {
        AtomicReference<Status> result = new AtomicReference<>(Status.UNKNOWN.withDescription("no answer"));
        h.run(() -> op.accept(s -> result.set(s == null ? Status.OK : s)));
        return result.get();
    }

    private static AgentView view(CoreHarness h, AgentInfo agent) {
        return h.call(() -> h.core.views().agentViews()).stream()
                .filter(v -> v.getAgentInfo().getId().equals(agent.getId())).findFirst().orElseThrow();
    }

    private static AgentMessage killed(AgentInfo agent, String task, StatusReason reason) {
        return AgentMessage.newBuilder().setType(AgentMessage.Type.STATUS_UPDATE).setAgentId(agent.getId())
                .setStatusUpdate(StatusUpdate.newBuilder().setFrameworkId(FW.getId()).setStatus(TaskStatus.newBuilder()
                        .setTaskId(TaskID.newBuilder().setValue(task)).setState(TaskState.TASK_KILLED)
                        .setReason(reason).setSource(StatusSource.SOURCE_EXECUTOR)
                        .setUuid(ByteString.copyFromUtf8(String.format("%-16s", "u-" + task)))))
                .build();
    }

    private static DrainConfig drain(long graceSeconds, boolean markGone) {
        return DrainConfig.newBuilder().setMaxGracePeriod(DurationInfo.newBuilder().setNanoseconds(graceSeconds * SECOND))
                .setMarkGone(markGone).build();
    }

    @Test
    void aDrainKillsTheTasksWithACappedGraceThenTheAgentIsDrainedAndMarkedGone() {
        CoreHarness h = leader(List.of());
        CoreHarness.Scheduler s = h.subscribe(FW);
        // Neither task has a grace period of its own: both get the cap (DrainCapTest covers the minimum).
        CoreHarness.Agent a = h.reregister(A, List.of(runningTask("t1", FW, A), runningTask("t2", FW, A)), FW);
        h.reregister(B, List.of(), FW);

        assertThat(call(h, done -> h.core.drainAgent(AgentId.of(A.getId()), drain(5, true), done)).isOk()).isTrue();

        List<MasterMessage> kills = a.ofType(MasterMessage.Type.KILL_TASK);
        assertThat(kills).hasSize(2).allSatisfy(k -> {
            assertThat(k.getKillTask().getReason()).isEqualTo(StatusReason.REASON_AGENT_DRAINING);
            assertThat(k.getKillTask().getKillPolicy().getGracePeriod().getNanoseconds()).isEqualTo(5 * SECOND);
        });
        assertThat(view(h, A).getState()).isEqualTo(AgentView.State.DRAINING);
        assertThat(view(h, A).getDrainInfo().getConfig().getMarkGone()).isTrue();
        // Not offered any more; B still is.
        h.advance(Duration.ofSeconds(2));
        assertThat(h.call(() -> h.core.views().state().getOffersList())).allSatisfy(o ->
                assertThat(o.getAgentId()).isEqualTo(B.getId()));
        // A second pass of the progress timer does not kill again.
        assertThat(a.ofType(MasterMessage.Type.KILL_TASK)).hasSize(2);

        a.send(killed(A, "t1", StatusReason.REASON_AGENT_DRAINING));
        assertThat(view(h, A).getState()).isEqualTo(AgentView.State.DRAINING);
        a.send(killed(A, "t2", StatusReason.REASON_AGENT_DRAINING));
        // Drained, then marked gone as asked: told to shut down.
        assertThat(view(h, A).getState()).isEqualTo(AgentView.State.GONE);
        assertThat(a.ofType(MasterMessage.Type.SHUTDOWN)).hasSize(1);
        assertThat(s.updates()).extracting(TaskStatus::getReason).contains(StatusReason.REASON_AGENT_DRAINING);
    }

    @Test
    void drainedWithoutMarkGoneStaysDrainedUntilReactivated() {
        CoreHarness h = leader(List.of());
        h.subscribe(FW);
        CoreHarness.Agent a = h.reregister(A, List.of(), FW);
        assertThat(call(h, done -> h.core.drainAgent(AgentId.of(A.getId()), drain(5, false), done)).isOk()).isTrue();
        assertThat(view(h, A).getState()).isEqualTo(AgentView.State.DRAINED);
        assertThat(view(h, A).getDrainInfo().getState()).isEqualTo(DrainState.DRAIN_STATE_DRAINED);
        assertThat(a.ofType(MasterMessage.Type.SHUTDOWN)).isEmpty();

        assertThat(call(h, done -> h.core.reactivateAgent(AgentId.of(A.getId()), done)).isOk()).isTrue();
        assertThat(view(h, A).getState()).isEqualTo(AgentView.State.REGISTERED);
        assertThat(view(h, A).hasDrainInfo()).isFalse();
        h.advance(Duration.ofSeconds(2));
        assertThat(h.call(() -> h.core.views().state().getOffersList())).anySatisfy(o ->
                assertThat(o.getAgentId()).isEqualTo(A.getId()));
        // Reactivating an agent that is not draining is refused.
        assertThat(call(h, done -> h.core.reactivateAgent(AgentId.of(A.getId()), done)).getCode())
                .isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(call(h, done -> h.core.drainAgent(AgentId.of("nope"), drain(1, false), done)).getCode())
                .isEqualTo(Status.Code.NOT_FOUND);
    }

    @Test
    void aNewLeaderAndARestartedAgentKeepTheDrainAndTheSchedule() {
        CoreHarness h1 = leader(List.of());
        h1.subscribe(FW);
        h1.reregister(A, List.of(runningTask("t1", FW, A)), FW);
        assertThat(call(h1, done -> h1.core.drainAgent(AgentId.of(A.getId()), drain(5, false), done)).isOk()).isTrue();
        double start = h1.clock.millis() / 1000.0 + 3600;
        MaintenanceWindow window = MaintenanceWindow.newBuilder().addAgentIds(B.getId()).setStartTime(start).build();
        assertThat(call(h1, done -> h1.core.updateMaintenance(List.of(window), done)).isOk()).isTrue();

        // Failover: the next leader reads both back; A re-registers (as after an agent restart) and stays draining.
        CoreHarness h2 = new CoreHarness(registryOf(h1), b -> b.agentReregisterTimeout(Duration.ofMinutes(10)));
        harnesses.add(h2);
        assertThat(h2.call(() -> h2.core.maintenanceSchedule())).containsExactly(window);
        CoreHarness.Scheduler s = h2.subscribe(FW);
        CoreHarness.Agent a = h2.reregister(A, List.of(runningTask("t1", FW, A)), FW);
        assertThat(view(h2, A).getState()).isEqualTo(AgentView.State.DRAINING);
        assertThat(a.ofType(MasterMessage.Type.KILL_TASK)).isEmpty(); // sent by the next progress pass
        h2.advance(Duration.ofSeconds(1));
        assertThat(a.ofType(MasterMessage.Type.KILL_TASK)).singleElement().satisfies(k ->
                assertThat(k.getKillTask().getReason()).isEqualTo(StatusReason.REASON_AGENT_DRAINING));
        assertThat(s.ofType(Event.Type.MAINTENANCE)).singleElement().satisfies(e ->
                assertThat(e.getMaintenance().getWindowsList()).containsExactly(window));
    }

    @Test
    void aMaintenanceWindowIsAnnouncedAtOnceAndDrainsItsAgentsWhenItStarts() {
        CoreHarness h = leader(List.of());
        CoreHarness.Scheduler s = h.subscribe(FW);
        h.reregister(A, List.of(), FW);
        h.reregister(B, List.of(), FW);
        double start = h.clock.millis() / 1000.0 + 600;
        MaintenanceWindow window = MaintenanceWindow.newBuilder().addAgentIds(A.getId()).setStartTime(start)
                .setDrainConfig(drain(10, false)).build();
        assertThat(call(h, done -> h.core.updateMaintenance(List.of(window), done)).isOk()).isTrue();
        assertThat(s.ofType(Event.Type.MAINTENANCE)).singleElement().satisfies(e ->
                assertThat(e.getMaintenance().getWindowsList()).containsExactly(window));

        h.advance(Duration.ofSeconds(599));
        assertThat(view(h, A).getState()).isEqualTo(AgentView.State.REGISTERED);
        h.advance(Duration.ofSeconds(1));
        assertThat(view(h, A).hasDrainInfo()).isTrue();
        assertThat(view(h, A).getState()).isIn(AgentView.State.DRAINING, AgentView.State.DRAINED);
        assertThat(h.call(() -> h.core.maintenanceSchedule())).isEmpty();
        assertThat(s.ofType(Event.Type.MAINTENANCE)).hasSize(2).last().satisfies(e ->
                assertThat(e.getMaintenance().getWindowsList()).isEmpty());
        // An unknown agent in a window is refused.
        MaintenanceWindow bad = window.toBuilder().clearAgentIds()
                .addAgentIds(io.mezzo.proto.v1.AgentID.newBuilder().setValue("nope")).build();
        assertThat(call(h, done -> h.core.updateMaintenance(List.of(bad), done)).getCode())
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void anOperatorKillsATaskAndTearsAFrameworkDown() {
        CoreHarness h = leader(List.of());
        CoreHarness.Scheduler s = h.subscribe(FW);
        CoreHarness.Agent a = h.reregister(A, List.of(runningTask("t1", FW, A), runningTask("t2", FW, A)), FW);
        FrameworkId fw = FrameworkId.of(FW.getId());
        assertThat(h.call(() -> h.core.killTask(fw, TaskId.of("t1")))).isNull();
        assertThat(a.ofType(MasterMessage.Type.KILL_TASK)).singleElement().satisfies(k ->
                assertThat(k.getKillTask().getReason()).isEqualTo(StatusReason.REASON_KILLED_BY_OPERATOR));
        assertThat(h.call(() -> h.core.killTask(fw, TaskId.of("nope"))).getCode()).isEqualTo(Status.Code.NOT_FOUND);

        assertThat(call(h, done -> h.core.teardownFramework(fw, done)).isOk()).isTrue();
        assertThat(s.ofType(Event.Type.ERROR)).singleElement().satisfies(e ->
                assertThat(e.getError().getCode()).isEqualTo(Event.Error.Code.FRAMEWORK_REMOVED));
        assertThat(a.ofType(MasterMessage.Type.SHUTDOWN_FRAMEWORK)).hasSize(1);
        assertThat(h.registry.record(RegistryRecords.FRAMEWORKS, "fw-1")).isNotNull();
        assertThat(call(h, done -> h.core.teardownFramework(fw, done)).getCode()).isEqualTo(Status.Code.NOT_FOUND);
    }

    @Test
    void killsResentToARestartedAgentKeepTheirReasonAndTheCappedGrace() {
        CoreHarness h = leader(List.of());
        h.subscribe(FW);
        CoreHarness.Agent a = h.reregister(A, List.of(runningTask("t1", FW, A)), FW);
        CoreHarness.Agent b = h.reregister(B, List.of(runningTask("t2", FW, B)), FW);
        assertThat(call(h, done -> h.core.drainAgent(AgentId.of(A.getId()), drain(5, false), done)).isOk()).isTrue();
        assertThat(h.call(() -> h.core.killTask(FrameworkId.of(FW.getId()), TaskId.of("t2")))).isNull();
        assertThat(a.ofType(MasterMessage.Type.KILL_TASK)).hasSize(1);
        assertThat(b.ofType(MasterMessage.Type.KILL_TASK)).hasSize(1);

        // Both agents restart before the tasks end: the kills go out again, with the reasons they had.
        a.close();
        b.close();
        CoreHarness.Agent a2 = h.reregister(A, List.of(runningTask("t1", FW, A)), FW);
        CoreHarness.Agent b2 = h.reregister(B, List.of(runningTask("t2", FW, B)), FW);
        assertThat(a2.ofType(MasterMessage.Type.KILL_TASK)).singleElement().satisfies(k -> {
            assertThat(k.getKillTask().getReason()).isEqualTo(StatusReason.REASON_AGENT_DRAINING);
            assertThat(k.getKillTask().getKillPolicy().getGracePeriod().getNanoseconds()).isEqualTo(5 * SECOND);
        });
        assertThat(b2.ofType(MasterMessage.Type.KILL_TASK)).singleElement().satisfies(k ->
                assertThat(k.getKillTask().getReason()).isEqualTo(StatusReason.REASON_KILLED_BY_OPERATOR));
        // The progress timer does not send the drain's kill a second time.
        h.advance(Duration.ofSeconds(2));
        assertThat(a2.ofType(MasterMessage.Type.KILL_TASK)).hasSize(1);
    }

    @Test
    void aSchedulerHearsTheScheduleWhenItSubscribesAndItsNoticeIsForgottenWhenItGoes() {
        CoreHarness h = leader(List.of());
        h.reregister(A, List.of(), FW);
        MaintenanceWindow window = MaintenanceWindow.newBuilder().addAgentIds(A.getId())
                .setStartTime(h.clock.millis() / 1000.0 + 600).build();
        assertThat(call(h, done -> h.core.updateMaintenance(List.of(window), done)).isOk()).isTrue();

        // No clock advance: the notice comes with the subscription, not with the next progress pass.
        CoreHarness.Scheduler s = h.subscribe(FW);
        assertThat(s.ofType(Event.Type.SUBSCRIBED)).hasSize(1);
        assertThat(s.ofType(Event.Type.MAINTENANCE)).singleElement().satisfies(e ->
                assertThat(e.getMaintenance().getWindowsList()).containsExactly(window));
        assertThat(h.call(() -> h.core.maintenanceNoticedStreams())).isEqualTo(1);

        s.close();
        assertThat(h.call(() -> h.core.maintenanceNoticedStreams())).isZero();
        CoreHarness.Scheduler again = h.subscribe(FW);
        assertThat(again.ofType(Event.Type.MAINTENANCE)).hasSize(1);
        h.advance(Duration.ofSeconds(2));
        assertThat(again.ofType(Event.Type.MAINTENANCE)).hasSize(1);
        assertThat(call(h, done -> h.core.teardownFramework(FrameworkId.of(FW.getId()), done)).isOk()).isTrue();
        assertThat(h.call(() -> h.core.maintenanceNoticedStreams())).isZero();
    }
}
