package io.mezzo.scheduler;

import static io.mezzo.scheduler.Events.status;
import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.testkit.Protos;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The bookkeeping of launched tasks, pure: no threads, no network. */
class LaunchedTasksTest {

    private final LaunchedTasks tasks = new LaunchedTasks(2);

    @Test
    void tracksTheTasksOfLaunchOperationsOnly() {
        tasks.launched(List.of(
                Offer.Operation.newBuilder().setType(Offer.Operation.Type.RESERVE).build(),
                Calls.launch(List.of(task("t1", "agent-1"), task("t2", "agent-2")))));

        assertThat(tasks.size()).isEqualTo(2);
        assertThat(ids(all())).containsExactly("t1", "t2");
    }

    @ParameterizedTest
    @EnumSource(value = TaskState.class, names = {"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR",
        "TASK_LOST", "TASK_DROPPED", "TASK_GONE", "TASK_UNKNOWN"})
    void aTerminalStateOrUnknownEndsTheTracking(TaskState state) {
        tasks.launched(List.of(Calls.launch(List.of(task("t1", "agent-1")))));

        assertThat(tasks.update(status("t1", "agent-1", state, ""))).isTrue();

        assertThat(tasks.size()).isZero();
    }

    @ParameterizedTest
    @EnumSource(value = TaskState.class, names = {"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING",
        "TASK_UNREACHABLE"})
    void aStateThatMayStillChangeKeepsTheTask(TaskState state) {
        tasks.launched(List.of(Calls.launch(List.of(task("t1", "agent-1")))));

        assertThat(tasks.update(status("t1", "agent-1", state, ""))).isFalse();

        assertThat(tasks.contains("t1")).isTrue();
    }

    @Test
    void aLaunchNotSentIsForgotten() {
        List<Offer.Operation> ops = List.of(Calls.launch(List.of(task("t1", "agent-1"))));
        tasks.launched(ops);
        tasks.notSent(ops);
        assertThat(tasks.size()).isZero();
    }

    @Test
    void aRoundGoesInBatchesEachAfterThePreviousIsAnswered() {
        tasks.launched(List.of(Calls.launch(List.of(
                task("t1", "agent-1"), task("t2", "agent-1"), task("t3", "agent-2"), task("t4", "agent-2")))));

        assertThat(tasks.startRound()).isEqualTo(4);
        assertThat(ids(tasks.nextBatch())).containsExactly("t1", "t2");
        assertThat(tasks.batchAnswered()).isFalse();
        tasks.update(status("t1", "agent-1", TaskState.TASK_RUNNING, ""));
        assertThat(tasks.batchAnswered()).isFalse();
        tasks.update(status("t3", "agent-2", TaskState.TASK_FINISHED, "")); // ends before its batch
        tasks.update(status("t2", "agent-1", TaskState.TASK_LOST, ""));
        assertThat(tasks.batchAnswered()).isTrue();

        assertThat(ids(tasks.nextBatch())).containsExactly("t4");
        assertThat(tasks.roundInProgress()).isFalse();
        assertThat(tasks.nextBatch()).isEmpty();
        assertThat(ids(all())).containsExactly("t1", "t4");
    }

    @Test
    void endingARoundStopsItsBatches() {
        tasks.launched(List.of(Calls.launch(List.of(task("t1", "agent-1"), task("t2", "agent-1"), task("t3", "a")))));
        tasks.startRound();
        tasks.nextBatch();
        tasks.endRound();
        assertThat(tasks.batchAnswered()).isFalse();
        assertThat(tasks.nextBatch()).isEmpty();
    }

    @Test
    void aTaskLaunchedWithoutAnAgentIsReconciledWithTheAgentItsUpdatesName() {
        tasks.launched(List.of(Calls.launch(List.of(TaskInfo.newBuilder(task("t1", "agent-1")).clearAgentId().build()))));
        tasks.startRound();
        assertThat(tasks.nextBatch().get(0).hasAgentId()).isFalse();

        tasks.update(status("t1", "agent-7", TaskState.TASK_STAGING, ""));
        tasks.startRound();
        assertThat(tasks.nextBatch().get(0).getAgentId().getValue()).isEqualTo("agent-7");
    }

    /** Every tracked task, by running a whole round and answering each batch with TASK_RUNNING. */
    private List<Call.Reconcile.Task> all() {
        tasks.startRound();
        List<Call.Reconcile.Task> result = new ArrayList<>();
        for (List<Call.Reconcile.Task> batch = tasks.nextBatch(); !batch.isEmpty(); batch = tasks.nextBatch()) {
            result.addAll(batch);
            for (Call.Reconcile.Task t : batch) {
                tasks.update(status(t.getTaskId().getValue(), t.getAgentId().getValue(), TaskState.TASK_RUNNING, ""));
            }
        }
        return result;
    }

    private static List<String> ids(List<Call.Reconcile.Task> batch) {
        return batch.stream().map(t -> t.getTaskId().getValue()).toList();
    }

    private static TaskInfo task(String id, String agent) {
        return Protos.task(id, agent, "cpus:0.1;mem:32").build();
    }
}
