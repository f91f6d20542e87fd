package io.mezzo.master;

import static io.mezzo.master.CoreHarness.agentInfo;
import static io.mezzo.master.CoreHarness.runningTask;
import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.testkit.Protos;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Explicit reconciliation of tasks the master does not know, in every recovery phase (the table in
 * {@link TaskLifecycle#reconcile} and docs/api.md): answered at once when the master is sure, held
 * while an agent that may have the task has not re-registered, and then answered by what the agent
 * reports, by its being marked unreachable or gone, or by the end of recovery. On the core itself,
 * recovering from a registry the test writes; time is a manual clock.
 */
class ReconciliationTest {

    private static final FrameworkInfo AWARE = Protos.framework("aware")
            .setId(FrameworkID.newBuilder().setValue("fw-aware"))
            .addCapabilities(FrameworkInfo.Capability.newBuilder()
                    .setType(FrameworkInfo.Capability.Type.PARTITION_AWARE))
            .build();
    private static final FrameworkInfo PLAIN = Protos.framework("plain")
            .setId(FrameworkID.newBuilder().setValue("fw-plain")).build();
    private static final AgentInfo A = agentInfo("old-S1", "host-1");
    private static final AgentInfo B = agentInfo("old-S2", "host-2");

    private CoreHarness h;

    @AfterEach
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    /** A new leader whose registry holds agents A and B (expected back) and both frameworks. */
    private CoreHarness afterFailover() {
        double t = 1_767_000_000;
        return new CoreHarness(List.of(RegistryRecords.admitted(A, t), RegistryRecords.admitted(B, t),
                RegistryRecords.active(AWARE, t, 0), RegistryRecords.active(PLAIN, t, 0)),
                b -> b.agentReregisterTimeout(Duration.ofMinutes(2)));
    }

    private static Call.Builder reconcile(String... taskAndAgent) {
        Call.Reconcile.Builder r = Call.Reconcile.newBuilder();
        for (int i = 0; i < taskAndAgent.length; i += 2) {
            Call.Reconcile.Task.Builder t = Call.Reconcile.Task.newBuilder()
                    .setTaskId(TaskID.newBuilder().setValue(taskAndAgent[i]));
            if (!taskAndAgent[i + 1].isEmpty()) {
                t.setAgentId(io.mezzo.proto.v1.AgentID.newBuilder().setValue(taskAndAgent[i + 1]));
            }
            r.addTasks(t);
        }
        return Call.newBuilder().setType(Call.Type.RECONCILE).setReconcile(r);
    }

    private static List<String> answers(CoreHarness.Scheduler s) {
        List<String> out = new ArrayList<>();
        for (TaskStatus status : s.updates()) {
            out.add(status.getTaskId().getValue() + "=" + status.getState());
        }
        return out;
    }

    @Test
    void withNoRecoveryInProgressAnUnknownTaskIsAnsweredAtOnce() {
        h = new CoreHarness();
        CoreHarness.Agent agent = h.register("host-1");
        String id = agent.info.getId().getValue();
        CoreHarness.Scheduler aware = h.subscribe(AWARE);
        CoreHarness.Scheduler plain = h.subscribe(PLAIN);

        aware.call(reconcile("t1", "", "t2", "no-such-agent", "t3", id));
        plain.call(reconcile("t1", "", "t2", "no-such-agent", "t3", id));

        assertThat(answers(aware)).containsExactly("t1=TASK_UNKNOWN", "t2=TASK_UNKNOWN", "t3=TASK_GONE");
        assertThat(answers(plain)).containsExactly("t1=TASK_LOST", "t2=TASK_LOST", "t3=TASK_LOST");
        assertThat(aware.updates()).allSatisfy(s -> {
            assertThat(s.getReason()).isEqualTo(StatusReason.REASON_RECONCILIATION);
            assertThat(s.getUuid().isEmpty()).isTrue();
        });
    }

    @Test
    void duringRecoveryAnswersWaitForTheNamedAgentOrTheEndOfRecovery() {
        h = afterFailover();
        CoreHarness.Scheduler s = h.subscribe(AWARE);
        assertThat(s.ofType(Event.Type.SUBSCRIBED)).hasSize(1);

        s.call(reconcile("t1", A.getId().getValue(), "t2", B.getId().getValue(), "t3", "", "t4", "no-such-agent"));
        assertThat(s.updates()).as("nothing is sure while A and B may come back with the tasks").isEmpty();

        // A comes back without t1: the agent decides t1; t3 and t4 still wait for B.
        h.reregister(A, List.of(), AWARE);
        assertThat(answers(s)).containsExactly("t1=TASK_GONE");

        // B comes back with t2 running; recovery is over, so t3 and t4 are unknown, in the order asked.
        h.reregister(B, List.of(runningTask("t2", AWARE, B)), AWARE);
        assertThat(answers(s)).containsExactly("t1=TASK_GONE", "t2=TASK_RUNNING", "t3=TASK_UNKNOWN",
                "t4=TASK_UNKNOWN");

        // From now on an unknown task is answered at once.
        s.call(reconcile("t5", ""));
        assertThat(answers(s)).endsWith("t5=TASK_UNKNOWN");
    }

    @Test
    void aTaskNamingNoAgentIsAnsweredAsSoonAsAnAgentBringsItBack() {
        h = afterFailover();
        CoreHarness.Scheduler s = h.subscribe(AWARE);
        s.call(reconcile("t1", ""));
        h.reregister(A, List.of(runningTask("t1", AWARE, A)), AWARE);
        assertThat(answers(s)).as("B is still expected, but t1 is known now").containsExactly("t1=TASK_RUNNING");
    }

    @Test
    void aHeldAnswerFollowsItsAgentToUnreachableWhenTheReregistrationTimeoutPasses() {
        h = afterFailover();
        CoreHarness.Scheduler aware = h.subscribe(AWARE);
        CoreHarness.Scheduler plain = h.subscribe(PLAIN);
        aware.call(reconcile("t1", A.getId().getValue(), "t2", ""));
        plain.call(reconcile("t1", A.getId().getValue(), "t2", ""));

        h.advance(Duration.ofSeconds(119));
        assertThat(aware.updates()).isEmpty();
        assertThat(plain.updates()).isEmpty();

        h.advance(Duration.ofSeconds(1));
        assertThat(answers(aware)).containsExactly("t1=TASK_UNREACHABLE", "t2=TASK_UNKNOWN");
        assertThat(answers(plain)).containsExactly("t1=TASK_LOST", "t2=TASK_LOST");
    }

    @Test
    void aHeldAnswerFollowsItsAgentWhenAnOperatorMarksItGone() {
        h = afterFailover();
        CoreHarness.Scheduler s = h.subscribe(AWARE);
        s.call(reconcile("t1", A.getId().getValue()));
        List<String> answer = new ArrayList<>();
        h.run(() -> h.core.markGone(io.mezzo.common.id.AgentId.of(A.getId().getValue()),
                error -> answer.add(String.valueOf(error))));
        assertThat(answer).containsExactly("null");
        assertThat(answers(s)).containsExactly("t1=TASK_GONE");
    }

    @Test
    void heldAnswersAreDroppedWithTheStreamAndNeverSentToTheNextOne() {
        h = afterFailover();
        CoreHarness.Scheduler first = h.subscribe(AWARE);
        first.call(reconcile("t1", A.getId().getValue()));
        first.close();
        CoreHarness.Scheduler second = h.subscribe(AWARE);

        h.reregister(A, List.of(), AWARE);
        assertThat(first.updates()).isEmpty();
        assertThat(second.updates()).as("the new stream reconciles again if it wants to").isEmpty();

        second.call(reconcile("t1", A.getId().getValue()));
        assertThat(answers(second)).containsExactly("t1=TASK_GONE");
    }

    @Test
    void aTaskAskedAboutTwiceWhileHeldIsAnsweredOnce() {
        h = afterFailover();
        CoreHarness.Scheduler s = h.subscribe(AWARE);
        s.call(reconcile("t1", A.getId().getValue(), "t2", A.getId().getValue()));
        s.call(reconcile("t1", A.getId().getValue()));
        h.reregister(A, List.of(), AWARE);
        assertThat(answers(s)).containsExactly("t1=TASK_GONE", "t2=TASK_GONE");
    }

    @Test
    void heldAnswersAreBoundedPerFramework() {
        h = afterFailover();
        CoreHarness.Scheduler s = h.subscribe(AWARE);
        String[] many = new String[2 * (HeldReconciliations.MAX_PER_FRAMEWORK + 1)];
        for (int i = 0; i < many.length; i += 2) {
            many[i] = "t" + i / 2;
            many[i + 1] = "";
        }
        s.call(reconcile(many));
        assertThat(s.ofType(Event.Type.ERROR)).singleElement().satisfies(e -> {
            assertThat(e.getError().getCode()).isEqualTo(Event.Error.Code.INVALID_CALL);
            assertThat(e.getError().getMessage()).startsWith("1 tasks of this RECONCILE are not answered");
        });
        assertThat(s.updates()).isEmpty();
    }

    @Test
    void aKillOfAnUnknownTaskDuringRecoveryIsAnsweredOnceTheAgentIsBackAndCanBeSentAgain() {
        h = afterFailover();
        CoreHarness.Scheduler s = h.subscribe(AWARE);
        Call.Builder kill = Call.newBuilder().setType(Call.Type.KILL).setKill(Call.Kill.newBuilder()
                .setTaskId(TaskID.newBuilder().setValue("t1")).setAgentId(A.getId()));
        s.call(kill.clone());
        assertThat(s.updates()).as("t1 may still run on A").isEmpty();

        CoreHarness.Agent back = h.reregister(A, List.of(runningTask("t1", AWARE, A)), AWARE);
        assertThat(answers(s)).containsExactly("t1=TASK_RUNNING");
        s.call(kill.clone());
        assertThat(back.ofType(MasterMessage.Type.KILL_TASK)).singleElement()
                .satisfies(m -> assertThat(m.getKillTask().getTaskId().getValue()).isEqualTo("t1"));
    }

    @Test
    void aFrameworkThatIsNotPartitionAwareNeverSeesATaskItWasToldWasLostRunning() {
        h = afterFailover();
        CoreHarness.Scheduler plain = h.subscribe(PLAIN);
        h.reregister(B, List.of(), PLAIN);
        h.advance(Duration.ofMinutes(2));
        plain.call(reconcile("t1", A.getId().getValue()));
        assertThat(answers(plain)).containsExactly("t1=TASK_LOST");

        // A returns from unreachable with t1 still running: it is killed, never reported running.
        CoreHarness.Agent back = h.reregister(A, List.of(runningTask("t1", PLAIN, A)), PLAIN);
        assertThat(back.ofType(MasterMessage.Type.KILL_TASK)).singleElement()
                .satisfies(m -> assertThat(m.getKillTask().getTaskId().getValue()).isEqualTo("t1"));
        assertThat(answers(plain)).containsExactly("t1=TASK_LOST");
    }

    @Test
    void aPartitionAwareFrameworkHearsItsTaskIsBackWhenItsAgentReturnsFromUnreachable() {
        h = afterFailover();
        CoreHarness.Scheduler aware = h.subscribe(AWARE);
        h.reregister(B, List.of(), AWARE);
        h.advance(Duration.ofMinutes(2));
        aware.call(reconcile("t1", A.getId().getValue()));
        CoreHarness.Agent back = h.reregister(A, List.of(runningTask("t1", AWARE, A)), AWARE);
        assertThat(back.ofType(MasterMessage.Type.KILL_TASK)).isEmpty();
        assertThat(answers(aware)).containsExactly("t1=TASK_UNREACHABLE", "t1=TASK_RUNNING");
    }
}
