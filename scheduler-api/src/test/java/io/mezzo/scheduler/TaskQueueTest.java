package io.mezzo.scheduler;

import static io.mezzo.scheduler.Events.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.ScriptedMaster;
import io.mezzo.testkit.Timeouts;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The task queue against a scripted master over real gRPC: packing, placement, retries by policy,
 * suppress and revive, and the histories it completes with.
 */
class TaskQueueTest {

    private final ManualClock clock = new ManualClock();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();

    @Test
    void packsTasksIntoOffersRetriesFailuresAndCompletesWithEachHistory() throws Exception {
        try (ScriptedMaster master = ScriptedMaster.start(1);
                TaskQueue queue = queue(master, RetryPolicy.retries(2))) {
            ScriptedMaster.SchedulerStream stream = subscribe(master);
            CompletableFuture<List<TaskHistory>> all = queue.submitAll(List.of(
                    TaskSpec.shell("a", "exit 1", "cpus:0.1;mem:32"),
                    TaskSpec.shell("b", "true", "cpus:0.1;mem:32"),
                    TaskSpec.shell("c", "true", "cpus:0.1;mem:32").withPlacement(o -> o.getHostname().equals("host-a2"))));

            stream.send(Protos.offers(Protos.offer("o1", "a1", "cpus:1;mem:1024")));
            assertThat(launched(stream.nextCall())).containsExactly("a.1", "b.1");
            stream.send(Protos.offers(Protos.offer("o2", "a2", "cpus:1;mem:1024")));
            assertThat(launched(stream.nextCall())).containsExactly("c.1");
            assertThat(stream.nextCall().getType()).as("nothing waits").isEqualTo(Call.Type.SUPPRESS);

            stream.send(Events.update(status("a.1", "a1", TaskState.TASK_FAILED, "u1")));
            assertThat(stream.nextCall().getType()).as("a waits again").isEqualTo(Call.Type.REVIVE);
            assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.ACKNOWLEDGE);
            stream.send(Events.update(status("b.1", "a1", TaskState.TASK_RUNNING, "u2")));
            stream.send(Events.update(status("b.1", "a1", TaskState.TASK_FINISHED, "u3")));
            stream.send(Events.update(status("c.1", "a2", TaskState.TASK_FINISHED, "u4")));
            stream.send(Protos.offers(Protos.offer("o3", "a1", "cpus:1;mem:1024")));
            for (int i = 0; i < 3; i++) {
                assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.ACKNOWLEDGE);
            }
            assertThat(launched(stream.nextCall())).containsExactly("a.2");
            assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.SUPPRESS);
            assertThat(all).isNotDone();
            stream.send(Events.update(status("a.2", "a1", TaskState.TASK_FINISHED, "u5")));

            List<TaskHistory> histories = all.get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(histories).extracting(TaskHistory::name).containsExactly("a", "b", "c");
            assertThat(histories).allSatisfy(h -> assertThat(h.succeeded()).isTrue());
            assertThat(histories.get(0).attempts()).extracting(TaskHistory.Attempt::state)
                    .containsExactly(TaskState.TASK_FAILED, TaskState.TASK_FINISHED);
            assertThat(histories.get(1).attempts()).singleElement().satisfies(a -> assertThat(a.updates())
                    .extracting(TaskStatus::getState).containsExactly(TaskState.TASK_RUNNING, TaskState.TASK_FINISHED));
            assertThat(histories.get(2).attempts()).singleElement()
                    .satisfies(a -> assertThat(a.agentId().getValue()).isEqualTo("a2"));
        }
        faults.assertNoFaults();
    }

    @Test
    void theRetryPolicySaysWhatRunsAgainAndVoidOffersDoNotCount() throws Exception {
        try (ScriptedMaster master = ScriptedMaster.start(1);
                TaskQueue queue = queue(master, RetryPolicy.retries(1))) {
            ScriptedMaster.SchedulerStream stream = subscribe(master);
            CompletableFuture<TaskHistory> x = queue.submit(TaskSpec.shell("x", "exit 1", "cpus:0.1;mem:32"));
            CompletableFuture<TaskHistory> y = queue.submit(TaskSpec.shell("y", "sleep 9", "cpus:0.1;mem:32"));

            stream.send(Protos.offers(Protos.offer("o1", "a1", "cpus:1;mem:1024")));
            assertThat(launched(stream.nextCall())).containsExactly("x.1", "y.1");
            // The offer was void: x never ran, so it runs again without using its one retry.
            stream.send(Events.update(status("x.1", "a1", TaskState.TASK_LOST, "").toBuilder()
                    .setReason(StatusReason.REASON_INVALID_OFFERS).build()));
            stream.send(Events.update(status("y.1", "a1", TaskState.TASK_KILLED, "")));
            assertThat(y.get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS).finalState())
                    .as("killed on purpose: not retried").isEqualTo(TaskState.TASK_KILLED);

            for (int attempt = 2; attempt <= 3; attempt++) {
                stream.send(Protos.offers(Protos.offer("o" + attempt, "a1", "cpus:1;mem:1024")));
                Call accept;
                do {
                    accept = stream.nextCall();
                } while (accept.getType() != Call.Type.ACCEPT);
                assertThat(launched(accept)).containsExactly("x." + attempt);
                stream.send(Events.update(status("x." + attempt, "a1", TaskState.TASK_FAILED, "")));
            }
            TaskHistory history = x.get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(history.succeeded()).isFalse();
            assertThat(history.attempts()).extracting(TaskHistory.Attempt::state)
                    .containsExactly(TaskState.TASK_LOST, TaskState.TASK_FAILED, TaskState.TASK_FAILED);
        }
        faults.assertNoFaults();
    }

    @Test
    void closingTearsTheFrameworkDownAndFailsWhatIsLeft() throws Exception {
        try (ScriptedMaster master = ScriptedMaster.start(1)) {
            TaskQueue queue = queue(master, RetryPolicy.none());
            ScriptedMaster.SchedulerStream stream = subscribe(master);
            CompletableFuture<TaskHistory> x = queue.submit(TaskSpec.shell("x", "sleep 9", "cpus:0.1;mem:32"));
            // A TEARDOWN needs a subscribed framework: wait until the client has taken SUBSCRIBED in.
            await().atMost(Timeouts.WAIT).until(() -> queue.frameworkId().isPresent());
            queue.close();
            assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.TEARDOWN);
            assertThat(x).isCompletedExceptionally();
        }
        faults.assertNoFaults();
    }

    private TaskQueue queue(ScriptedMaster master, RetryPolicy retry) {
        return TaskQueue.builder("batch")
                .master(master.address())
                .retry(retry)
                .client(b -> b.clock(clock).faultHandler(faults))
                .build();
    }

    private static ScriptedMaster.SchedulerStream subscribe(ScriptedMaster master) throws Exception {
        ScriptedMaster.SchedulerStream stream = master.nextSchedulerStream();
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.SUBSCRIBE);
        stream.send(Events.subscribed("framework-1", 15, master.info()));
        return stream;
    }

    private static List<String> launched(Call accept) {
        assertThat(accept.getType()).isEqualTo(Call.Type.ACCEPT);
        return accept.getAccept().getOperations(0).getLaunch().getTaskInfosList().stream()
                .map(TaskInfo::getTaskId).map(t -> t.getValue()).toList();
    }
}
