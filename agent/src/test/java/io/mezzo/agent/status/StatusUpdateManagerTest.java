package io.mezzo.agent.status;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.RecordingFaultHandler;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The status update manager on a manual clock. Every call runs on the loop (as in the agent); the test
 * advances the clock and waits for the loop to settle, so retries are exact, not timed.
 */
class StatusUpdateManagerTest {

    private static final Duration RETRY = Duration.ofSeconds(10);
    private static final Duration RETRY_MAX = Duration.ofSeconds(40);
    private static final FrameworkId FRAMEWORK = FrameworkId.of("framework-1");

    private final ManualClock clock = new ManualClock();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final EventLoop loop = new EventLoop("test-loop", clock, faults);
    private final List<StatusUpdate> sent = new CopyOnWriteArrayList<>();
    private final StatusUpdateManager manager =
            new StatusUpdateManager(loop, RETRY, RETRY_MAX, new Random(42), sent::add);

    @AfterEach
    void close() {
        loop.close();
        faults.assertNoFaults();
    }

    @Test
    void stampsUuidTimestampAndFramework() throws Exception {
        StatusUpdate update = on(() -> manager.add(FRAMEWORK, status("task-1", TaskState.TASK_STARTING)));
        assertThat(update.getFrameworkId().getValue()).isEqualTo("framework-1");
        assertThat(update.getStatus().getUuid().size()).isEqualTo(16);
        assertThat(update.getStatus().getTimestamp()).isEqualTo(clock.seconds());
        StatusUpdate other = on(() -> manager.add(FRAMEWORK, status("task-1", TaskState.TASK_RUNNING)));
        assertThat(other.getStatus().getUuid()).isNotEqualTo(update.getStatus().getUuid());
    }

    @Test
    void sendsInOrderWithOneInFlightPerTask() throws Exception {
        run(manager::resume);
        StatusUpdate starting = on(() -> manager.add(FRAMEWORK, status("task-1", TaskState.TASK_STARTING)));
        StatusUpdate running = on(() -> manager.add(FRAMEWORK, status("task-1", TaskState.TASK_RUNNING)));
        StatusUpdate finished = on(() -> manager.add(FRAMEWORK, status("task-1", TaskState.TASK_FINISHED)));
        // A head with updates behind it carries the task's latest state, so the master never takes it for the
        // task's state (found by the simulator).
        assertThat(sent).containsExactly(starting);

        assertThat(on(() -> ack("task-1", starting))).isEqualTo(StatusUpdateManager.AckResult.ACKNOWLEDGED);
        assertThat(sent).containsExactly(starting, latest(running, TaskState.TASK_FINISHED));
        assertThat(on(() -> ack("task-1", running))).isEqualTo(StatusUpdateManager.AckResult.ACKNOWLEDGED);
        assertThat(sent).containsExactly(starting, latest(running, TaskState.TASK_FINISHED), finished);
    }

    @Test
    void tasksAreIndependent() throws Exception {
        run(manager::resume);
        StatusUpdate a = on(() -> manager.add(FRAMEWORK, status("task-a", TaskState.TASK_STARTING)));
        StatusUpdate b = on(() -> manager.add(FRAMEWORK, status("task-b", TaskState.TASK_STARTING)));
        on(() -> manager.add(FRAMEWORK, status("task-a", TaskState.TASK_RUNNING)));
        assertThat(sent).containsExactly(a, b);
    }

    private static StatusUpdate latest(StatusUpdate update, TaskState latest) {
        return update.toBuilder().setLatestState(latest).build();
    }

    @Test
    void resendsTheHeadAfterTheBackoffUntilAcknowledged() throws Exception {
        run(manager::resume);
        StatusUpdate starting = on(() -> manager.add(FRAMEWORK, status("task-1", TaskState.TASK_STARTING)));
        on(() -> manager.add(FRAMEWORK, status("task-1", TaskState.TASK_RUNNING)));
        // Sent at once, alone; resent with the task's latest state, now that an update waits behind it.
        StatusUpdate resent = latest(starting, TaskState.TASK_RUNNING);
        assertThat(sent).containsExactly(starting);

        // Not yet: the first retry comes no earlier than half the initial delay.
        advance(Duration.ofSeconds(4));
        assertThat(sent).hasSize(1);
        // The first delay is at most the initial one.
        advance(Duration.ofSeconds(6));
        assertThat(sent).containsExactly(starting, resent);
        // Then it doubles (up to 20 s, at least 5 s).
        advance(Duration.ofSeconds(4));
        assertThat(sent).hasSize(2);
        advance(Duration.ofSeconds(16));
        assertThat(sent).containsExactly(starting, resent, resent);
        // Capped at the maximum (40 s): one more resend within 40 s.
        advance(Duration.ofSeconds(40));
        assertThat(sent).hasSize(4);
        assertThat(sent.subList(1, 4)).allMatch(u -> u.equals(resent));
    }

    @Test
    void ackOfTheHeadSendsTheNextWithAFreshBackoff() throws Exception {
        run(manager::resume);
        StatusUpdate starting = on(() -> manager.add(FRAMEWORK, status("task-1", TaskState.TASK_STARTING)));
        StatusUpdate running = on(() -> manager.add(FRAMEWORK, status("task-1", TaskState.TASK_RUNNING)));
        advance(Duration.ofSeconds(10));
        advance(Duration.ofSeconds(20));
        assertThat(sent).hasSize(3);

        on(() -> ack("task-1", starting));
        assertThat(sent.get(sent.size() - 1)).isEqualTo(running);
        sent.clear();
        // The old head's timer is gone; the new head retries from the initial delay again.
        advance(Duration.ofSeconds(10));
        assertThat(sent).containsExactly(running);
    }

    @Test
    void ignoresAcksThatDoNotMatchTheHead() throws Exception {
        run(manager::resume);
        StatusUpdate starting = on(() -> manager.add(FRAMEWORK, status("task-1", TaskState.TASK_STARTING)));
        StatusUpdate running = on(() -> manager.add(FRAMEWORK, status("task-1", TaskState.TASK_RUNNING)));

        ByteString random = ByteString.copyFrom(new byte[16]);
        assertThat(on(() -> manager.acknowledge(key("task-1"), random)))
                .isEqualTo(StatusUpdateManager.AckResult.IGNORED);
        // An ack of the second update while the first is in flight does not count either.
        assertThat(on(() -> ack("task-1", running))).isEqualTo(StatusUpdateManager.AckResult.IGNORED);
        // Nor does an ack naming another task.
        assertThat(on(() -> ack("task-2", starting))).isEqualTo(StatusUpdateManager.AckResult.IGNORED);

        assertThat(sent).containsExactly(starting);
        assertThat(on(() -> manager.inFlight(key("task-1")))).contains(starting);
        assertThat(on(() -> manager.pending(key("task-1")))).containsExactly(starting, running);
    }

    @Test
    void terminalAckEndsTheStream() throws Exception {
        run(manager::resume);
        StatusUpdate starting = on(() -> manager.add(FRAMEWORK, status("task-1", TaskState.TASK_STARTING)));
        StatusUpdate failed = on(() -> manager.add(FRAMEWORK, status("task-1", TaskState.TASK_FAILED)));
        on(() -> ack("task-1", starting));
        assertThat(on(() -> ack("task-1", failed))).isEqualTo(StatusUpdateManager.AckResult.TERMINAL_ACKNOWLEDGED);
        assertThat(on(() -> manager.hasStream(key("task-1")))).isFalse();
        assertThat(on(() -> manager.pending())).isEmpty();
        // No timer is left to resend anything.
        sent.clear();
        advance(Duration.ofMinutes(5));
        assertThat(sent).isEmpty();
        // A late duplicate ack is ignored.
        assertThat(on(() -> ack("task-1", failed))).isEqualTo(StatusUpdateManager.AckResult.IGNORED);
    }

    @Test
    void refusesAnUpdateAfterATerminalOne() throws Exception {
        on(() -> manager.add(FRAMEWORK, status("task-1", TaskState.TASK_FINISHED)));
        RuntimeException refused = on(() -> {
            try {
                manager.add(FRAMEWORK, status("task-1", TaskState.TASK_RUNNING));
                return null;
            } catch (IllegalStateException e) {
                return e;
            }
        });
        assertThat(refused).hasMessageContaining("after its terminal update");
        assertThat(on(() -> manager.pending(key("task-1")))).hasSize(1);
    }

    @Test
    void holdsUpdatesWhilePausedAndResendsEveryHeadOnResume() throws Exception {
        StatusUpdate a = latest(on(() -> manager.add(FRAMEWORK, status("task-a", TaskState.TASK_STARTING))),
                TaskState.TASK_RUNNING);
        on(() -> manager.add(FRAMEWORK, status("task-a", TaskState.TASK_RUNNING)));
        StatusUpdate b = on(() -> manager.add(FRAMEWORK, status("task-b", TaskState.TASK_STARTING)));
        advance(Duration.ofMinutes(5));
        assertThat(sent).isEmpty();

        run(manager::resume);
        assertThat(sent).containsExactly(a, b);

        run(manager::pause);
        sent.clear();
        advance(Duration.ofMinutes(5));
        assertThat(sent).isEmpty();

        run(manager::resume);
        assertThat(sent).containsExactly(a, b);
    }

    @Test
    void listsPendingUpdatesOldestFirstPerTaskForReregistration() throws Exception {
        StatusUpdate a1 = on(() -> manager.add(FRAMEWORK, status("task-a", TaskState.TASK_STARTING)));
        StatusUpdate b1 = on(() -> manager.add(FRAMEWORK, status("task-b", TaskState.TASK_STARTING)));
        StatusUpdate a2 = on(() -> manager.add(FRAMEWORK, status("task-a", TaskState.TASK_RUNNING)));
        StatusUpdate b2 = on(() -> manager.add(FRAMEWORK, status("task-b", TaskState.TASK_FAILED)));
        assertThat(on(() -> manager.pending())).containsExactly(a1, a2, b1, b2);

        run(manager::resume);
        on(() -> ack("task-a", a1));
        assertThat(on(() -> manager.pending())).containsExactly(a2, b1, b2);
    }

    @Test
    void dropsAFrameworksStreams() throws Exception {
        run(manager::resume);
        FrameworkId other = FrameworkId.of("framework-2");
        on(() -> manager.add(FRAMEWORK, status("task-a", TaskState.TASK_STARTING)));
        on(() -> manager.add(FRAMEWORK, status("task-a", TaskState.TASK_RUNNING)));
        StatusUpdate kept = on(() -> manager.add(other, status("task-a", TaskState.TASK_STARTING)));
        assertThat(on(() -> manager.dropFramework(FRAMEWORK))).isEqualTo(2);
        assertThat(on(() -> manager.pending())).containsExactly(kept);
        sent.clear();
        advance(Duration.ofSeconds(10));
        assertThat(sent).containsExactly(kept);
    }

    @Test
    void sendOnceSendsWithoutKeeping() throws Exception {
        on(() -> manager.sendOnce(FRAMEWORK, status("task-1", TaskState.TASK_KILLED)));
        assertThat(sent).isEmpty();
        run(manager::resume);
        StatusUpdate killed = on(() -> manager.sendOnce(FRAMEWORK, status("task-1", TaskState.TASK_KILLED)));
        assertThat(sent).containsExactly(killed);
        assertThat(on(() -> manager.pending())).isEmpty();
        advance(Duration.ofMinutes(1));
        assertThat(sent).containsExactly(killed);
    }

    @Test
    void formatsUuids() {
        byte[] bytes = new byte[16];
        bytes[15] = 1;
        assertThat(StatusUpdateManager.uuidText(ByteString.copyFrom(bytes)))
                .isEqualTo("00000000-0000-0000-0000-000000000001");
        assertThat(StatusUpdateManager.uuidText(ByteString.EMPTY)).isEqualTo("<none>");
    }

    private StatusUpdateManager.AckResult ack(String task, StatusUpdate update) {
        return manager.acknowledge(key(task), update.getStatus().getUuid());
    }

    private static TaskKey key(String task) {
        return new TaskKey(FRAMEWORK, TaskId.of(task));
    }

    private static TaskStatus status(String task, TaskState state) {
        return TaskStatus.newBuilder()
                .setTaskId(TaskID.newBuilder().setValue(task))
                .setState(state)
                .build();
    }

    private void advance(Duration d) throws Exception {
        clock.advance(d);
        loop.barrier().get(5, TimeUnit.SECONDS);
    }

    private <T> T on(Supplier<T> call) throws Exception {
        return loop.call(call).get(5, TimeUnit.SECONDS);
    }

    private void run(Runnable call) throws Exception {
        loop.call(() -> {
                    call.run();
                    return null;
                })
                .get(5, TimeUnit.SECONDS);
    }
}
