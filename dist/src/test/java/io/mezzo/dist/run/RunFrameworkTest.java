package io.mezzo.dist.run;

import static io.mezzo.testkit.Protos.offer;
import static io.mezzo.testkit.Protos.offers;
import static io.mezzo.testkit.Protos.status;
import static io.mezzo.testkit.Protos.update;
import static io.mezzo.testkit.Protos.uuid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.common.resources.ResourceText;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.scheduler.MezzoSchedulerClient;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.ScriptedMaster;
import io.mezzo.testkit.Timeouts;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The framework of {@code mezzo run} with the real scheduler client against a scripted master on
 * loopback, time on a manual clock shared by both: relaunching a task that never started, the exit
 * code of a task lost after it started, and every bound.
 */
class RunFrameworkTest {

    private static final FrameworkInfo FRAMEWORK = Protos.framework("mezzo-run").build();
    private static final RunFramework.Bounds BOUNDS = new RunFramework.Bounds(
            Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(30), null, 3);
    private static final String FITS = "cpus:1;mem:128";

    private final ManualClock clock = new ManualClock();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private RunFramework run;
    private ScriptedMaster.SchedulerStream stream;

    @AfterEach
    void tearDown() throws Exception {
        while (!resources.isEmpty()) {
            resources.pop().close();
        }
        faults.assertNoFaults();
    }

    @Test
    void aTaskTheNewLeaderNeverHeardOfIsLaunchedAgainUnderANewId() throws Exception {
        ScriptedMaster master = master();
        start(master, BOUNDS);
        subscribeAndLaunch(master, "run-1");

        // The leader dies before acting on the ACCEPT; the next one answers the library's
        // reconciliation with TASK_UNKNOWN.
        stream.fail();
        awaitPrinted("mezzo run: lost the master; reconnecting (giving up after 1m without one)");
        clock.advance(Duration.ofSeconds(1));
        stream = master.nextSchedulerStream();
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.SUBSCRIBE);
        stream.send(Protos.subscribed("framework-1", master.info()));
        // The library suppresses again what mezzo run suppressed after launching.
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.SUPPRESS);
        Call reconcile = stream.nextCall();
        assertThat(reconcile.getType()).isEqualTo(Call.Type.RECONCILE);
        assertThat(reconcile.getReconcile().getTasks(0).getTaskId().getValue()).isEqualTo("run-1");
        stream.send(update(status("run-1", "agent-1", TaskState.TASK_UNKNOWN)
                .setReason(StatusReason.REASON_RECONCILIATION)
                .setMessage("task run-1 is not known to the master")
                .build()));

        assertThat(stream.nextCall().getType()).as("offers wanted again").isEqualTo(Call.Type.REVIVE);
        awaitPrinted("mezzo run: task run-1 was never started (TASK_UNKNOWN: task run-1 is not known to the master);"
                + " launching it again as run-1-2 (attempt 2 of 3)");
        stream.send(offers(offer("offer-2", "agent-2", FITS)));
        assertLaunched("run-1-2", "agent-2");
        sendFromAgent(status("run-1-2", "agent-2", TaskState.TASK_RUNNING));
        sendFromAgent(status("run-1-2", "agent-2", TaskState.TASK_FAILED).setExitCode(3));

        RunFramework.Outcome outcome = outcome();
        assertThat(outcome.exitCode()).isEqualTo(3);
        assertThat(printed()).contains("mezzo run: task run-1-2 TASK_FAILED (exit 3)");
    }

    @Test
    void aTaskNeverStartedInEveryAttemptEndsTheRunAndALateEarlierAttemptIsKilled() throws Exception {
        ScriptedMaster master = master();
        start(master, new RunFramework.Bounds(
                Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(30), null, 2));
        subscribeAndLaunch(master, "run-1");

        stream.send(update(status("run-1", "agent-1", TaskState.TASK_DROPPED).setMessage("agent restarted").build()));
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.REVIVE);
        // The dropped launch turns out to be alive: it is killed, so one copy runs at most.
        // The kill (from the run's loop) and the acknowledgement (from the client) may come in either order.
        stream.send(update(status("run-1", "agent-1", TaskState.TASK_RUNNING).setUuid(uuid()).build()));
        List<Call> calls = List.of(stream.nextCall(), stream.nextCall());
        assertThat(calls).extracting(Call::getType)
                .containsExactlyInAnyOrder(Call.Type.KILL, Call.Type.ACKNOWLEDGE);
        assertThat(calls).filteredOn(c -> c.getType() == Call.Type.KILL).singleElement()
                .satisfies(kill -> assertThat(kill.getKill().getTaskId().getValue()).isEqualTo("run-1"));

        stream.send(offers(offer("offer-2", "agent-1", FITS)));
        assertLaunched("run-1-2", "agent-1");
        stream.send(update(status("run-1-2", "agent-1", TaskState.TASK_GONE).setMessage("agent is gone").build()));

        RunFramework.Outcome outcome = outcome();
        assertThat(outcome.exitCode()).isEqualTo(RunFramework.EXIT_NEVER_RAN);
        assertThat(printed()).contains("mezzo run: task run-1 was never started (TASK_DROPPED: agent restarted);"
                        + " launching it again as run-1-2 (attempt 2 of 2)")
                .contains("mezzo run: task run-1 (an earlier attempt) is TASK_RUNNING after all; killing it")
                .contains("mezzo run: task run-1-2 was never started (TASK_GONE: agent is gone); giving up after 2"
                        + " attempts");
    }

    /**
     * Found by the agent-restart soak: the agent sent TASK_STARTING, died before the command started,
     * and on recovery reported TASK_DROPPED. The command never ran, so the run launches it again
     * instead of ending with the "outcome unknown" code.
     */
    @Test
    void aTaskDroppedAfterStartingIsLaunchedAgain() throws Exception {
        ScriptedMaster master = master();
        start(master, BOUNDS);
        subscribeAndLaunch(master, "run-1");
        sendFromAgent(status("run-1", "agent-1", TaskState.TASK_STARTING));

        sendFromAgent(status("run-1", "agent-1", TaskState.TASK_DROPPED).setReason(StatusReason.REASON_AGENT_RESTARTED)
                .setMessage("The agent restarted before the task's command started"));
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.REVIVE);
        awaitPrinted("mezzo run: task run-1 was never started (TASK_DROPPED: The agent restarted before the task's"
                + " command started); launching it again as run-1-2 (attempt 2 of 3)");
        stream.send(offers(offer("offer-2", "agent-1", FITS)));
        assertLaunched("run-1-2", "agent-1");
        sendFromAgent(status("run-1-2", "agent-1", TaskState.TASK_RUNNING));
        sendFromAgent(status("run-1-2", "agent-1", TaskState.TASK_FAILED).setExitCode(4));

        assertThat(outcome().exitCode()).isEqualTo(4);
    }

    /**
     * Found by the leader soak: after a failover the new master knew from the agent's report that
     * the task had failed and answered the reconciliation TASK_FAILED, without the exit code, which
     * only the agent's own update carries. The run waits for that update and exits with its code.
     */
    @Test
    void aFailureLearntByReconciliationWaitsForTheAgentsExitCode() throws Exception {
        ScriptedMaster master = master();
        start(master, BOUNDS);
        subscribeAndLaunch(master, "run-1");
        sendFromAgent(status("run-1", "agent-1", TaskState.TASK_RUNNING));

        stream.send(update(status("run-1", "agent-1", TaskState.TASK_FAILED)
                .setReason(StatusReason.REASON_RECONCILIATION).setMessage("explicit reconciliation").build()));
        awaitPrinted("mezzo run: task run-1 failed; waiting for its agent's update with the exit code");
        sendFromAgent(status("run-1", "agent-1", TaskState.TASK_FAILED).setExitCode(6));

        assertThat(outcome().exitCode()).isEqualTo(6);
    }

    @Test
    void aTaskLostAfterItStartedEndsWithTheLostCodeAndIsNotLaunchedAgain() throws Exception {
        ScriptedMaster master = master();
        start(master, BOUNDS);
        subscribeAndLaunch(master, "run-1");
        sendFromAgent(status("run-1", "agent-1", TaskState.TASK_RUNNING));

        stream.send(update(status("run-1", "agent-1", TaskState.TASK_GONE)
                .setMessage("agent agent-1 re-registered without task run-1").build()));

        assertThat(outcome().exitCode()).isEqualTo(RunFramework.EXIT_LOST);
        assertThat(printed()).contains("mezzo run: task run-1 was running and is now TASK_GONE: agent agent-1"
                + " re-registered without task run-1; its outcome is unknown");
        assertThat(stream.nextCallOrNull(Duration.ofMillis(200))).as("no relaunch").isNull();
    }

    @Test
    void noLeadingMasterAtAllEndsTheRunAfterTheMasterBound() throws Exception {
        ScriptedMaster gone = ScriptedMaster.start();
        String address = gone.address();
        gone.close();
        start(address, BOUNDS);

        clock.advance(Duration.ofSeconds(59));
        run.barrier().get(5, TimeUnit.SECONDS);
        assertThat(run.outcome()).isNotDone();
        clock.advance(Duration.ofSeconds(1));

        RunFramework.Outcome outcome = outcome();
        assertThat(outcome.exitCode()).isEqualTo(RunFramework.EXIT_NO_MASTER);
        assertThat(printed()).contains("mezzo run: no leading master answered at " + address + " for 1m");
    }

    @Test
    void aMasterLostForLongerThanTheBoundEndsTheRunAndSaysTheTaskMayStillRun() throws Exception {
        ScriptedMaster master = master();
        start(master, BOUNDS);
        subscribeAndLaunch(master, "run-1");
        sendFromAgent(status("run-1", "agent-1", TaskState.TASK_RUNNING));

        master.close();
        awaitPrinted("lost the master; reconnecting");
        clock.advance(Duration.ofSeconds(59));
        run.barrier().get(5, TimeUnit.SECONDS);
        assertThat(run.outcome()).isNotDone();
        clock.advance(Duration.ofSeconds(1));

        assertThat(outcome().exitCode()).isEqualTo(RunFramework.EXIT_NO_MASTER);
        assertThat(printed()).contains("for 1m; task run-1 may still be running: the master kills it when the"
                + " framework's failover timeout passes");
    }

    @Test
    void noFittingOfferEndsTheRunAfterTheOfferBound() throws Exception {
        ScriptedMaster master = master();
        start(master, BOUNDS);
        subscribe(master);

        stream.send(offers(offer("offer-1", "agent-1", "cpus:0.01;mem:128")));
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.DECLINE);
        clock.advance(Duration.ofSeconds(59));
        run.barrier().get(5, TimeUnit.SECONDS);
        assertThat(run.outcome()).isNotDone();
        clock.advance(Duration.ofSeconds(1));

        assertThat(outcome().exitCode()).isEqualTo(RunFramework.EXIT_NO_OFFER);
        assertThat(printed()).contains("mezzo run: no offer with cpus:0.1;mem:32 arrived from " + master.address()
                + " within 1m");
    }

    @Test
    void anAgentUnreachableForLongerThanTheBoundEndsTheRunWithTheLostCode() throws Exception {
        ScriptedMaster master = master();
        start(master, BOUNDS);
        subscribeAndLaunch(master, "run-1");
        sendFromAgent(status("run-1", "agent-1", TaskState.TASK_RUNNING));

        stream.send(update(status("run-1", "agent-1", TaskState.TASK_UNREACHABLE).build()));
        awaitPrinted("mezzo run: the agent of task run-1 is unreachable; waiting up to 30s for it to come back");
        clock.advance(Duration.ofSeconds(20));
        stream.send(update(status("run-1", "agent-1", TaskState.TASK_RUNNING).build())); // back in time
        awaitPrinted("mezzo run: task run-1 TASK_RUNNING", 2);
        clock.advance(Duration.ofSeconds(20));
        run.barrier().get(5, TimeUnit.SECONDS);
        assertThat(run.outcome()).isNotDone();

        stream.send(update(status("run-1", "agent-1", TaskState.TASK_UNREACHABLE).build()));
        awaitPrinted("mezzo run: task run-1 TASK_UNREACHABLE", 2);
        run.barrier().get(5, TimeUnit.SECONDS);
        clock.advance(Duration.ofSeconds(30));

        assertThat(outcome().exitCode()).isEqualTo(RunFramework.EXIT_LOST);
        assertThat(printed()).contains("mezzo run: the agent of task run-1 has been unreachable for 30s; giving up");
    }

    @Test
    void aTaskStillRunningAtTheTimeoutIsKilled() throws Exception {
        ScriptedMaster master = master();
        start(master, new RunFramework.Bounds(
                Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(40), 3));
        subscribeAndLaunch(master, "run-1");
        sendFromAgent(status("run-1", "agent-1", TaskState.TASK_RUNNING));

        clock.advance(Duration.ofSeconds(40));

        Call kill = stream.nextCall();
        assertThat(kill.getType()).isEqualTo(Call.Type.KILL);
        assertThat(kill.getKill().getTaskId().getValue()).isEqualTo("run-1");
        assertThat(kill.getKill().getAgentId().getValue()).isEqualTo("agent-1");
        assertThat(outcome().exitCode()).isEqualTo(RunFramework.EXIT_TIMEOUT);
        assertThat(printed()).contains("mezzo run: task run-1 did not end within --timeout 40s; killing it");
    }

    // ---------------------------------------------------------------------------------------
    // Fixtures.
    // ---------------------------------------------------------------------------------------

    private ScriptedMaster master() {
        ScriptedMaster master = ScriptedMaster.start();
        resources.push(master);
        return master;
    }

    private void start(ScriptedMaster master, RunFramework.Bounds bounds) {
        start(master.address(), bounds);
    }

    /** Starts the framework and its client, both on the manual clock. */
    private void start(String address, RunFramework.Bounds bounds) {
        run = new RunFramework("run-1", "sleep", ResourceText.parse("cpus:0.1;mem:32"),
                CommandInfo.newBuilder().setShell("sleep 1").build(),
                new PrintStream(printed, true, StandardCharsets.UTF_8), "mezzo run", address, bounds, clock, faults);
        resources.push(run);
        MezzoSchedulerClient client = MezzoSchedulerClient.builder(FRAMEWORK, run).declineUnusedOffers(false)
                .master(address)
                .clock(clock)
                .faultHandler(faults)
                .reconnectBackoff(Duration.ofSeconds(1), Duration.ofSeconds(1))
                .build();
        resources.push(client);
        client.start();
    }

    /** Answers the SUBSCRIBE; the framework asks for offers. */
    private void subscribe(ScriptedMaster master) throws Exception {
        stream = master.nextSchedulerStream();
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.SUBSCRIBE);
        stream.send(Protos.subscribed("framework-1", master.info()));
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.REVIVE);
    }

    private void subscribeAndLaunch(ScriptedMaster master, String taskId) throws Exception {
        subscribe(master);
        stream.send(offers(offer("offer-1", "agent-1", FITS)));
        assertLaunched(taskId, "agent-1");
    }

    /** The next calls are the ACCEPT launching {@code taskId} on {@code agent}, then SUPPRESS. */
    private void assertLaunched(String taskId, String agent) throws Exception {
        Call accept = stream.nextCall();
        assertThat(accept.getType()).isEqualTo(Call.Type.ACCEPT);
        assertThat(accept.getAccept().getOperations(0).getLaunch().getTaskInfos(0).getTaskId().getValue())
                .isEqualTo(taskId);
        assertThat(accept.getAccept().getOperations(0).getLaunch().getTaskInfos(0).getAgentId().getValue())
                .isEqualTo(agent);
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.SUPPRESS);
    }

    /** Sends an update as an agent does (with a uuid) and takes the client's acknowledgement. */
    private void sendFromAgent(TaskStatus.Builder status) throws Exception {
        stream.send(update(status.setUuid(uuid()).build()));
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.ACKNOWLEDGE);
    }

    private RunFramework.Outcome outcome() throws Exception {
        return run.outcome().get(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private String printed() {
        return printed.toString(StandardCharsets.UTF_8);
    }

    private void awaitPrinted(String text) {
        awaitPrinted(text, 1);
    }

    /** Waits until {@code text} was printed {@code times} times. */
    private void awaitPrinted(String text, int times) {
        await().atMost(Timeouts.WAIT).until(() -> printed().split(java.util.regex.Pattern.quote(text), -1).length - 1
                == times);
    }
}
