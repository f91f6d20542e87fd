package io.mezzo.scheduler;

import static io.mezzo.scheduler.Events.agentId;
import static io.mezzo.scheduler.Events.frameworkId;
import static io.mezzo.scheduler.Events.offer;
import static io.mezzo.scheduler.Events.offerId;
import static io.mezzo.scheduler.Events.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Metadata;
import io.grpc.Status;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.scheduler.RecordingScheduler.Disconnected;
import io.mezzo.scheduler.RecordingScheduler.ErrorReceived;
import io.mezzo.scheduler.RecordingScheduler.Offers;
import io.mezzo.scheduler.RecordingScheduler.Rescinded;
import io.mezzo.scheduler.RecordingScheduler.Subscribed;
import io.mezzo.scheduler.RecordingScheduler.Update;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.ScriptedMaster;
import io.mezzo.testkit.Timeouts;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The client against scripted masters: real gRPC over loopback, time on a manual clock. Each test
 * drives the master by hand and compares what the scheduler and the master saw as values.
 */
class MezzoSchedulerClientTest {

    private static final FrameworkInfo FRAMEWORK = FrameworkInfo.newBuilder()
            .setName("test-framework")
            .setUser("tester")
            .addRoles("*")
            .setFailoverTimeout(60)
            .build();
    private static final FrameworkID FRAMEWORK_ID = frameworkId("framework-1");

    private final ManualClock clock = new ManualClock();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final RecordingScheduler scheduler = new RecordingScheduler();
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();

    @AfterEach
    void tearDown() throws Exception {
        while (!resources.isEmpty()) {
            resources.pop().close();
        }
        faults.assertNoFaults();
        await().atMost(Timeouts.WAIT).until(() -> clientThreads().isEmpty());
    }

    // ---------------------------------------------------------------------------------------
    // Subscription and events.
    // ---------------------------------------------------------------------------------------

    @Test
    void subscribesAndReportsTheFrameworkId() throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()));
        assertThat(client.frameworkId()).isEmpty();

        client.start();
        ScriptedMaster.SchedulerStream stream = master.nextSchedulerStream();
        assertThat(stream.nextCall())
                .isEqualTo(Call.newBuilder()
                        .setType(Call.Type.SUBSCRIBE)
                        .setSubscribe(Call.Subscribe.newBuilder().setFrameworkInfo(FRAMEWORK))
                        .build());
        assertThat(client.isSubscribed()).isFalse();

        stream.send(Events.subscribed("framework-1", 15, master.info()));

        assertThat(scheduler.next()).isEqualTo(new Subscribed(FRAMEWORK_ID, master.info()));
        assertThat(client.frameworkId()).contains(FRAMEWORK_ID);
        assertThat(client.isSubscribed()).isTrue();
        assertThat(client.state().get(5, TimeUnit.SECONDS)).isEqualTo(ClientState.SUBSCRIBED);
    }

    @Test
    void deliversEventsInOrderOnTheClientThreadAndTakesCallsFromCallbacks() throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()));
        Filters refuse = Filters.newBuilder().setRefuseSeconds(30).build();
        scheduler.onOffers = (driver, offers) ->
                assertThat(driver.decline(offers.stream().map(Offer::getId).toList(), refuse)).isTrue();
        ScriptedMaster.SchedulerStream stream = subscribe(client, master);

        stream.send(Events.offers(offer("offer-1", "agent-1"), offer("offer-2", "agent-2")));
        stream.send(Events.rescind("offer-1"));
        stream.send(Events.offers(offer("offer-3", "agent-1")));

        assertThat(List.of(scheduler.next(), scheduler.next(), scheduler.next()))
                .containsExactly(
                        new Offers(List.of(offer("offer-1", "agent-1"), offer("offer-2", "agent-2"))),
                        new Rescinded(offerId("offer-1")),
                        new Offers(List.of(offer("offer-3", "agent-1"))));
        assertThat(scheduler.threads).containsExactly(MezzoSchedulerClient.THREAD_NAME);
        assertThat(stream.nextCall()).isEqualTo(decline(refuse, "offer-1", "offer-2"));
        assertThat(stream.nextCall()).isEqualTo(decline(refuse, "offer-3"));
    }

    @Test
    void acknowledgesUpdatesWithUuidAndOnlyThose() throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()));
        ScriptedMaster.SchedulerStream stream = subscribe(client, master);

        TaskStatus fromAgent = status("task-1", "agent-1", TaskState.TASK_RUNNING, "uuid-1");
        stream.send(Events.update(fromAgent));
        assertThat(scheduler.next()).isEqualTo(new Update(fromAgent));
        assertThat(stream.nextCall()).isEqualTo(ack("agent-1", "task-1", fromAgent));

        TaskStatus fromMaster = status("task-2", "agent-1", TaskState.TASK_LOST, "");
        TaskStatus next = status("task-3", "agent-2", TaskState.TASK_FINISHED, "uuid-3");
        stream.send(Events.update(fromMaster));
        stream.send(Events.update(next));
        assertThat(List.of(scheduler.next(), scheduler.next()))
                .containsExactly(new Update(fromMaster), new Update(next));
        // The stream is ordered: had the master-generated update been acknowledged, its ACK would
        // come first.
        assertThat(stream.nextCall()).isEqualTo(ack("agent-2", "task-3", next));
    }

    @Test
    void leavesAcknowledgementToTheSchedulerWhenAutoAcknowledgeIsOff() throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()).autoAcknowledge(false));
        ScriptedMaster.SchedulerStream stream = subscribe(client, master);

        TaskStatus running = status("task-1", "agent-1", TaskState.TASK_RUNNING, "uuid-1");
        stream.send(Events.update(running));
        assertThat(scheduler.next()).isEqualTo(new Update(running));
        settle(client);

        assertThat(client.revive()).isTrue();
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.REVIVE);
        assertThat(client.acknowledge(running)).isTrue();
        assertThat(stream.nextCall()).isEqualTo(ack("agent-1", "task-1", running));
    }

    @Test
    void anUpdateWhoseCallbackThrowsGoesToTheFaultHandlerAndIsNotAcknowledged() throws Exception {
        ScriptedMaster master = master(1);
        RecordingFaultHandler expected = new RecordingFaultHandler();
        MezzoSchedulerClient client = client(b -> b.master(master.address()).faultHandler(expected));
        ScriptedMaster.SchedulerStream stream = subscribe(client, master);
        TaskStatus bad = status("task-1", "agent-1", TaskState.TASK_RUNNING, "uuid-1");
        TaskStatus good = status("task-2", "agent-1", TaskState.TASK_RUNNING, "uuid-2");
        scheduler.onUpdate = (driver, s) -> {
            if (s.equals(bad)) {
                throw new IllegalStateException("scheduler bug");
            }
        };

        stream.send(Events.update(bad));
        stream.send(Events.update(good));

        assertThat(List.of(scheduler.next(), scheduler.next())).containsExactly(new Update(bad), new Update(good));
        assertThat(stream.nextCall()).isEqualTo(ack("agent-1", "task-2", good));
        assertThat(expected.faults()).singleElement().asString().contains("Scheduler.update", "scheduler bug");
    }

    @Test
    void callsWhileNotSubscribedAreNotSentAndReturnFalse() throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()));
        assertThat(client.decline(List.of(offerId("offer-1")), null)).isFalse();
        assertThat(client.kill(TaskID.newBuilder().setValue("task-1").build(), null, null)).isFalse();
        assertThat(client.teardown()).isFalse();

        client.start();
        ScriptedMaster.SchedulerStream stream = master.nextSchedulerStream();
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.SUBSCRIBE);
        assertThat(client.revive()).as("before SUBSCRIBED").isFalse();

        stream.send(Events.subscribed("framework-1", 15, master.info()));
        assertThat(scheduler.next()).isInstanceOf(Subscribed.class);
        assertThat(client.suppress("*")).isTrue();
        assertThat(stream.nextCall())
                .isEqualTo(Call.newBuilder()
                        .setFrameworkId(FRAMEWORK_ID)
                        .setType(Call.Type.SUPPRESS)
                        .setSuppress(Call.Suppress.newBuilder().addRoles("*"))
                        .build());

        stream.complete();
        assertThat(scheduler.next()).isEqualTo(new Disconnected());
        assertThat(client.isSubscribed()).isFalse();
        assertThat(client.revive()).as("while reconnecting").isFalse();
    }

    @Test
    void aNonFatalErrorIsReportedAndTheStreamStays() throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()));
        ScriptedMaster.SchedulerStream stream = subscribe(client, master);

        stream.send(Events.error(Event.Error.Code.NOT_FOUND, "no offer offer-9", Call.Type.DECLINE));

        SchedulerError error = new SchedulerError(Event.Error.Code.NOT_FOUND, "no offer offer-9", Call.Type.DECLINE);
        assertThat(scheduler.next()).isEqualTo(new ErrorReceived(error));
        assertThat(error.fatal()).isFalse();
        assertThat(client.isSubscribed()).isTrue();
        assertThat(client.revive()).isTrue();
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.REVIVE);
    }

    // ---------------------------------------------------------------------------------------
    // Reconnection.
    // ---------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"completed", "failed"})
    void resubscribesWithTheFrameworkIdAfterTheMasterEndsTheStream(String how) throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()));
        ScriptedMaster.SchedulerStream first = subscribe(client, master);

        if (how.equals("completed")) {
            first.complete();
        } else {
            first.fail(Status.INTERNAL.withDescription("master restarting"), new Metadata());
        }
        assertThat(scheduler.next()).isEqualTo(new Disconnected());
        // The first failure since SUBSCRIBED is retried at once: the clock does not move.
        ScriptedMaster.SchedulerStream second = master.nextSchedulerStream();
        assertThat(second.nextCall()).isEqualTo(resubscribe());
        // A failure of that retry backs off.
        second.fail(Status.UNAVAILABLE.withDescription("still restarting"), new Metadata());
        await().atMost(Timeouts.WAIT)
                .until(() -> client.state().get(5, TimeUnit.SECONDS) == ClientState.BACKING_OFF);
        clock.advance(Duration.ofSeconds(2)); // the second delay is at most twice the initial backoff
        ScriptedMaster.SchedulerStream third = master.nextSchedulerStream();
        assertThat(third.nextCall()).isEqualTo(resubscribe());
        third.send(Events.subscribed("framework-1", 15, master.info()));

        assertThat(scheduler.next()).isEqualTo(new Subscribed(FRAMEWORK_ID, master.info()));
        assertThat(scheduler.callbacks).as("disconnected is told once").isEmpty();
    }

    @Test
    void reconnectsWhenHeartbeatsAreMissed() throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()).missedHeartbeats(3));
        ScriptedMaster.SchedulerStream first = subscribe(client, master, 2.0);

        clock.advance(Duration.ofMillis(5_900));
        settle(client);
        assertThat(scheduler.callbacks).isEmpty();
        assertThat(client.isSubscribed()).isTrue();

        clock.advance(Duration.ofMillis(200)); // 6.1 s of silence: more than 3 intervals of 2 s
        assertThat(scheduler.next()).isEqualTo(new Disconnected());
        assertThat(first.awaitPeerEnded()).isEqualTo("cancelled");
        settle(client);

        clock.advance(Duration.ofSeconds(1));
        ScriptedMaster.SchedulerStream second = master.nextSchedulerStream();
        assertThat(second.nextCall()).isEqualTo(resubscribe());
    }

    @Test
    void heartbeatsKeepTheStreamAlive() throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()).missedHeartbeats(2));
        ScriptedMaster.SchedulerStream stream = subscribe(client, master, 1.0);

        long received = client.eventsReceived().get(5, TimeUnit.SECONDS);
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofMillis(1_500)); // 7.5 s in all: far past 2 intervals of 1 s
            stream.send(Events.heartbeat());
            long expected = ++received;
            await().atMost(Timeouts.WAIT)
                    .until(() -> client.eventsReceived().get(5, TimeUnit.SECONDS) == expected);
        }
        settle(client);
        assertThat(client.isSubscribed()).isTrue();
        assertThat(scheduler.callbacks).isEmpty();
    }

    @Test
    void followsTheLeaderHintOfAMasterThatIsNotTheLeader() throws Exception {
        ScriptedMaster leader = master(2);
        ScriptedMaster follower = master(2);
        follower.redirectTo(leader.address());
        MezzoSchedulerClient client = client(b -> b.master(follower.address()));

        client.start();

        ScriptedMaster.SchedulerStream stream = leader.nextSchedulerStream();
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.SUBSCRIBE);
        assertThat(follower.redirected()).isEqualTo(1);
        stream.send(Events.subscribed("framework-1", 15, leader.info()));
        assertThat(scheduler.next()).isEqualTo(new Subscribed(FRAMEWORK_ID, leader.info()));
    }

    @Test
    void followsTheDetectorToANewLeader() throws Exception {
        ScriptedMaster a = master(1);
        ScriptedMaster b = master(2);
        SwitchingDetector detector = new SwitchingDetector(a.info());
        resources.push(detector);
        MezzoSchedulerClient client = client(builder -> builder.detector(detector));
        ScriptedMaster.SchedulerStream onA = subscribe(client, a);

        detector.elect(Optional.of(b.info()));
        assertThat(scheduler.next()).isEqualTo(new Disconnected());
        assertThat(onA.awaitPeerEnded()).isEqualTo("cancelled");
        settle(client);
        clock.advance(Duration.ofSeconds(1));
        ScriptedMaster.SchedulerStream onB = b.nextSchedulerStream();
        assertThat(onB.nextCall()).isEqualTo(resubscribe());
        onB.send(Events.subscribed("framework-1", 15, b.info()));
        assertThat(scheduler.next()).isEqualTo(new Subscribed(FRAMEWORK_ID, b.info()));

        detector.elect(Optional.empty());
        assertThat(scheduler.next()).isEqualTo(new Disconnected());
        settle(client);
        assertThat(client.state().get(5, TimeUnit.SECONDS)).isEqualTo(ClientState.NO_LEADER);

        detector.elect(Optional.of(a.info()));
        ScriptedMaster.SchedulerStream backOnA = a.nextSchedulerStream();
        assertThat(backOnA.nextCall()).isEqualTo(resubscribe());
    }

    @Test
    void refusesASubscriptionFromAnOlderEpoch() throws Exception {
        ScriptedMaster master = master(2);
        MezzoSchedulerClient client = client(b -> b.master(master.address()));
        ScriptedMaster.SchedulerStream first = subscribe(client, master);
        first.complete();
        assertThat(scheduler.next()).isEqualTo(new Disconnected());
        settle(client);
        clock.advance(Duration.ofSeconds(1));

        ScriptedMaster.SchedulerStream stale = master.nextSchedulerStream();
        assertThat(stale.nextCall()).isEqualTo(resubscribe());
        stale.send(Events.subscribed("framework-1", 15, master.info(1)));
        assertThat(stale.awaitPeerEnded()).isEqualTo("cancelled");
        settle(client);
        assertThat(scheduler.callbacks).isEmpty();

        clock.advance(Duration.ofSeconds(2));
        ScriptedMaster.SchedulerStream fresh = master.nextSchedulerStream();
        assertThat(fresh.nextCall()).isEqualTo(resubscribe());
        fresh.send(Events.subscribed("framework-1", 15, master.info(3)));
        assertThat(scheduler.next()).isEqualTo(new Subscribed(FRAMEWORK_ID, master.info(3)));
    }

    @Test
    void followsAHintAtOnceWhateverTheDetector() throws Exception {
        ScriptedMaster leader = master(2);
        ScriptedMaster follower = master(2);
        follower.redirectTo(leader.address());
        SwitchingDetector stale = new SwitchingDetector(follower.info()); // lags behind the election
        resources.push(stale);
        MezzoSchedulerClient client = client(b -> b.detector(stale));

        client.start();

        // The clock does not move: a client that waited for its backoff would never get there.
        ScriptedMaster.SchedulerStream stream = leader.nextSchedulerStream();
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.SUBSCRIBE);
        assertThat(follower.redirected()).isEqualTo(1);
        stream.send(Events.subscribed("framework-1", 15, leader.info()));
        assertThat(scheduler.next()).isEqualTo(new Subscribed(FRAMEWORK_ID, leader.info()));
    }

    @Test
    void aMasterThatStopsLeadingMovesTheClientToTheLeaderItNamesAtOnce() throws Exception {
        ScriptedMaster a = master(1);
        ScriptedMaster b = master(2);
        SwitchingDetector detector = new SwitchingDetector(a.info());
        resources.push(detector);
        MezzoSchedulerClient client = client(builder -> builder.detector(detector));
        ScriptedMaster.SchedulerStream onA = subscribe(client, a);
        // Earlier failures have grown the backoff; a hint still goes at once.
        onA.fail();
        assertThat(scheduler.next()).isEqualTo(new Disconnected());
        settle(client);
        clock.advance(Duration.ofSeconds(1));
        onA = a.nextSchedulerStream();
        assertThat(onA.nextCall()).isEqualTo(resubscribe());
        onA.send(Events.subscribed("framework-1", 15, a.info()));
        assertThat(scheduler.next()).isEqualTo(new Subscribed(FRAMEWORK_ID, a.info()));

        onA.failNotLeader(b.address());

        assertThat(scheduler.next()).isEqualTo(new Disconnected());
        ScriptedMaster.SchedulerStream onB = b.nextSchedulerStream();
        assertThat(onB.nextCall()).isEqualTo(resubscribe());
        onB.send(Events.subscribed("framework-1", 15, b.info()));
        assertThat(scheduler.next()).isEqualTo(new Subscribed(FRAMEWORK_ID, b.info()));

        // The detector, still behind, names the old leader again: the hint was the fresher news.
        detector.elect(Optional.of(a.info()));
        settle(client);
        assertThat(client.isSubscribed()).isTrue();
        assertThat(onB.ended()).isFalse();
        assertThat(scheduler.callbacks).isEmpty();
    }

    @Test
    void aFailedAttemptAsksTheDetectorAgainInsteadOfRetryingTheLastLeader() throws Exception {
        ScriptedMaster a = master(1);
        ScriptedMaster b = master(2);
        SwitchingDetector detector = new SwitchingDetector(a.info());
        resources.push(detector);
        MezzoSchedulerClient client = client(builder -> builder.detector(detector));
        ScriptedMaster.SchedulerStream onA = subscribe(client, a);

        // The detector learns of b, but its notification is lost (an expired watch).
        detector.electSilently(Optional.of(b.info()));
        onA.fail();
        assertThat(scheduler.next()).isEqualTo(new Disconnected());
        settle(client);
        clock.advance(Duration.ofSeconds(1));

        ScriptedMaster.SchedulerStream onB = b.nextSchedulerStream();
        assertThat(onB.nextCall()).isEqualTo(resubscribe());
        assertThat(a.pollSchedulerStream(Duration.ofMillis(200))).as("no retry of the old leader").isNull();
    }

    // ---------------------------------------------------------------------------------------
    // Reconciling launched tasks.
    // ---------------------------------------------------------------------------------------

    @Test
    void reconcilesExactlyTheLaunchedTasksThatHaveNotEndedAfterEveryResubscription() throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()));
        ScriptedMaster.SchedulerStream first = subscribe(client, master);
        assertThat(client.revive()).isTrue();
        assertThat(first.nextCall().getType()).as("nothing to reconcile yet").isEqualTo(Call.Type.REVIVE);

        assertThat(client.launch(offerId("offer-1"), List.of(task("t1", "agent-1"), task("t2", "agent-1")))).isTrue();
        assertThat(client.accept(List.of(offerId("offer-2")), List.of(
                        Offer.Operation.newBuilder().setType(Offer.Operation.Type.RESERVE).build(),
                        Calls.launch(List.of(task("t3", "agent-2"), task("t4", "agent-2"), task("t5", "agent-2")))),
                null)).isTrue();
        assertThat(first.nextCall().getType()).isEqualTo(Call.Type.ACCEPT);
        assertThat(first.nextCall().getType()).isEqualTo(Call.Type.ACCEPT);
        TaskStatus t1Running = status("t1", "agent-1", TaskState.TASK_RUNNING, "uuid-1");
        TaskStatus t2Finished = status("t2", "agent-1", TaskState.TASK_FINISHED, "uuid-2");
        TaskStatus t3Unreachable = status("t3", "agent-2", TaskState.TASK_UNREACHABLE, "");
        TaskStatus t5Unknown = status("t5", "agent-2", TaskState.TASK_UNKNOWN, "");
        for (TaskStatus s : List.of(t1Running, t2Finished, t3Unreachable, t5Unknown)) {
            first.send(Events.update(s));
            assertThat(scheduler.next()).isEqualTo(new Update(s));
        }

        // The leader dies; the client resubscribes and asks about t1, t3 and t4 (never heard of).
        first.fail();
        assertThat(scheduler.next()).isEqualTo(new Disconnected());
        settle(client);
        clock.advance(Duration.ofSeconds(1));
        ScriptedMaster.SchedulerStream second = master.nextSchedulerStream();
        assertThat(second.nextCall()).isEqualTo(resubscribe());
        second.send(Events.subscribed("framework-1", 15, master.info()));
        assertThat(second.nextCall()).isEqualTo(reconcile(
                reconcileTask("t1", "agent-1"), reconcileTask("t3", "agent-2"), reconcileTask("t4", "agent-2")));
        assertThat(scheduler.next()).isEqualTo(new Subscribed(FRAMEWORK_ID, master.info()));

        // The answers are ordinary updates; a terminal one or TASK_UNKNOWN ends the tracking.
        TaskStatus t1Again = status("t1", "agent-1", TaskState.TASK_RUNNING, "");
        TaskStatus t3Gone = status("t3", "agent-2", TaskState.TASK_GONE, "");
        TaskStatus t4Unknown = status("t4", "agent-2", TaskState.TASK_UNKNOWN, "");
        for (TaskStatus s : List.of(t1Again, t3Gone, t4Unknown)) {
            second.send(Events.update(s));
            assertThat(scheduler.next()).isEqualTo(new Update(s));
        }
        assertThat(client.launchedTasksTracked().get(5, TimeUnit.SECONDS)).isEqualTo(1);

        second.complete();
        assertThat(scheduler.next()).isEqualTo(new Disconnected());
        settle(client);
        clock.advance(Duration.ofSeconds(1));
        ScriptedMaster.SchedulerStream third = master.nextSchedulerStream();
        assertThat(third.nextCall()).isEqualTo(resubscribe());
        third.send(Events.subscribed("framework-1", 15, master.info()));
        assertThat(third.nextCall()).isEqualTo(reconcile(reconcileTask("t1", "agent-1")));
        assertThat(scheduler.next()).isEqualTo(new Subscribed(FRAMEWORK_ID, master.info()));
        TaskStatus t1Failed = status("t1", "agent-1", TaskState.TASK_FAILED, "uuid-9");
        third.send(Events.update(t1Failed));
        assertThat(scheduler.next()).isEqualTo(new Update(t1Failed));
        assertThat(third.nextCall()).isEqualTo(ack("agent-1", "t1", t1Failed));

        // Nothing left: the next subscription sends no RECONCILE.
        third.complete();
        assertThat(scheduler.next()).isEqualTo(new Disconnected());
        settle(client);
        clock.advance(Duration.ofSeconds(1));
        ScriptedMaster.SchedulerStream fourth = master.nextSchedulerStream();
        assertThat(fourth.nextCall()).isEqualTo(resubscribe());
        fourth.send(Events.subscribed("framework-1", 15, master.info()));
        assertThat(scheduler.next()).isEqualTo(new Subscribed(FRAMEWORK_ID, master.info()));
        assertThat(client.revive()).isTrue();
        assertThat(fourth.nextCall().getType()).isEqualTo(Call.Type.REVIVE);
    }

    @Test
    void aLaunchThatWasNotSentIsNotTrackedAndIsAnsweredAsLost() throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()));
        assertThat(client.launch(offerId("offer-1"), List.of(task("t1", "agent-1")))).isFalse();
        // One contract for every launch not sent: the task comes back as an ordinary update.
        assertThat(scheduler.next()).isInstanceOfSatisfying(Update.class, u -> {
            assertThat(u.status().getTaskId().getValue()).isEqualTo("t1");
            assertThat(u.status().getState()).isEqualTo(TaskState.TASK_LOST);
            assertThat(u.status().getReason()).isEqualTo(StatusReason.REASON_INVALID_OFFERS);
            assertThat(u.status().getAgentId()).isEqualTo(agentId("agent-1"));
            assertThat(u.status().getUuid().isEmpty()).isTrue();
        });
        ScriptedMaster.SchedulerStream stream = subscribe(client, master);

        assertThat(client.launchedTasksTracked().get(5, TimeUnit.SECONDS)).isZero();
        assertThat(client.revive()).isTrue();
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.REVIVE);
    }

    @Test
    void reconcilesInBatchesEachSentOnceThePreviousOneIsAnswered() throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()));
        ScriptedMaster.SchedulerStream first = subscribe(client, master);
        int count = LaunchedTasks.BATCH + 1;
        List<TaskInfo> tasks = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            tasks.add(task("t" + i, "agent-1"));
        }
        assertThat(client.launch(offerId("offer-1"), tasks)).isTrue();
        assertThat(first.nextCall().getType()).isEqualTo(Call.Type.ACCEPT);

        first.fail();
        assertThat(scheduler.next()).isEqualTo(new Disconnected());
        settle(client);
        clock.advance(Duration.ofSeconds(1));
        ScriptedMaster.SchedulerStream second = master.nextSchedulerStream();
        assertThat(second.nextCall()).isEqualTo(resubscribe());
        second.send(Events.subscribed("framework-1", 15, master.info()));
        Call firstBatch = second.nextCall();
        assertThat(firstBatch.getReconcile().getTasksCount()).isEqualTo(LaunchedTasks.BATCH);
        assertThat(firstBatch.getReconcile().getTasks(0)).isEqualTo(reconcileTask("t0", "agent-1"));
        assertThat(scheduler.next()).isEqualTo(new Subscribed(FRAMEWORK_ID, master.info()));
        assertThat(second.nextCallOrNull(Duration.ofMillis(300)))
                .as("the second batch waits for the answers to the first").isNull();

        for (int i = 0; i < LaunchedTasks.BATCH; i++) {
            second.send(Events.update(status("t" + i, "agent-1", TaskState.TASK_RUNNING, "")));
        }
        assertThat(second.nextCall()).isEqualTo(reconcile(reconcileTask("t" + LaunchedTasks.BATCH, "agent-1")));
    }

    @Test
    void withReconciliationOffNoReconcileIsSent() throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()).reconcileLaunchedTasks(false));
        ScriptedMaster.SchedulerStream first = subscribe(client, master);
        assertThat(client.launch(offerId("offer-1"), List.of(task("t1", "agent-1")))).isTrue();
        assertThat(first.nextCall().getType()).isEqualTo(Call.Type.ACCEPT);

        first.fail();
        assertThat(scheduler.next()).isEqualTo(new Disconnected());
        settle(client);
        clock.advance(Duration.ofSeconds(1));
        ScriptedMaster.SchedulerStream second = master.nextSchedulerStream();
        assertThat(second.nextCall()).isEqualTo(resubscribe());
        second.send(Events.subscribed("framework-1", 15, master.info()));
        assertThat(scheduler.next()).isEqualTo(new Subscribed(FRAMEWORK_ID, master.info()));
        assertThat(client.revive()).isTrue();
        assertThat(second.nextCall().getType()).isEqualTo(Call.Type.REVIVE);
        assertThat(client.launchedTasksTracked().get(5, TimeUnit.SECONDS)).isZero();
    }

    // ---------------------------------------------------------------------------------------
    // Stopping for good.
    // ---------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(value = Event.Error.Code.class, names = {"FRAMEWORK_REMOVED", "FRAMEWORK_FAILED_OVER"})
    void stopsForGoodOnAFatalError(Event.Error.Code code) throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()));
        ScriptedMaster.SchedulerStream stream = subscribe(client, master);

        stream.send(Events.error(code, "framework framework-1 is gone", Call.Type.UNKNOWN));

        SchedulerError error = new SchedulerError(code, "framework framework-1 is gone", Call.Type.UNKNOWN);
        assertThat(scheduler.next()).isEqualTo(new ErrorReceived(error));
        assertThat(error.fatal()).isTrue();
        assertThat(stream.awaitPeerEnded()).isEqualTo("half-closed");
        assertThat(client.isSubscribed()).isFalse();
        assertThat(client.revive()).isFalse();

        clock.advance(Duration.ofMinutes(5));
        settle(client);
        assertThat(client.state().get(5, TimeUnit.SECONDS)).isEqualTo(ClientState.STOPPED);
        assertThat(master.pollSchedulerStream(Duration.ofMillis(200))).as("no reconnection").isNull();
        assertThat(scheduler.callbacks).as("no disconnected callback").isEmpty();
    }

    @Test
    void stopsForGoodWhenTheSubscriptionIsRefused() throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()));
        client.start();
        ScriptedMaster.SchedulerStream stream = master.nextSchedulerStream();
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.SUBSCRIBE);

        stream.send(Events.error(Event.Error.Code.INVALID_CALL, "role 'x y' is invalid", Call.Type.SUBSCRIBE));

        ErrorReceived received = (ErrorReceived) scheduler.next();
        assertThat(received.error().fatal()).isTrue();
        assertThat(stream.awaitPeerEnded()).isEqualTo("half-closed");
        assertThat(client.state().get(5, TimeUnit.SECONDS)).isEqualTo(ClientState.STOPPED);
    }

    @Test
    void teardownSendsTeardownAndStopsReconnecting() throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()));
        ScriptedMaster.SchedulerStream stream = subscribe(client, master);

        assertThat(client.teardown()).isTrue();

        assertThat(stream.nextCall())
                .isEqualTo(Call.newBuilder().setFrameworkId(FRAMEWORK_ID).setType(Call.Type.TEARDOWN).build());
        assertThat(stream.awaitPeerEnded()).isEqualTo("half-closed");
        clock.advance(Duration.ofMinutes(5));
        settle(client);
        assertThat(client.state().get(5, TimeUnit.SECONDS)).isEqualTo(ClientState.STOPPED);
        assertThat(scheduler.callbacks).isEmpty();
        assertThat(master.pollSchedulerStream(Duration.ofMillis(200))).as("no reconnection").isNull();
    }

    @Test
    void closeStopsTheStreamAndLeavesNoClientThread() throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()));
        ScriptedMaster.SchedulerStream stream = subscribe(client, master);
        assertThat(clientThreads()).isNotEmpty();

        assertThat(threadsNamed("scheduler-client-io")).as("the client's own I/O thread").hasSize(1);

        client.close();

        assertThat(clientThreads()).isEmpty();
        // Stopped before close() returns: nothing of the client is left blocked in native code,
        // where a JVM exiting at once (mezzo run) would wait 300 ms for it.
        assertThat(threadsNamed("scheduler-client-io")).isEmpty();
        assertThat(stream.awaitPeerEnded()).isEqualTo("half-closed");
        assertThat(client.isSubscribed()).isFalse();
        assertThat(client.revive()).isFalse();
        client.close(); // idempotent
        assertThat(scheduler.callbacks).isEmpty();

        master.close();
        // gRPC releases its shared transport threads about a second after the last user closes.
        await().atMost(Timeouts.WAIT).until(() -> grpcThreads().isEmpty());
    }

    @Test
    void closeFromInsideACallbackStopsTheClient() throws Exception {
        ScriptedMaster master = master(1);
        MezzoSchedulerClient client = client(b -> b.master(master.address()));
        scheduler.onUpdate = (driver, status) -> driver.close();
        ScriptedMaster.SchedulerStream stream = subscribe(client, master);

        stream.send(Events.update(status("task-1", "agent-1", TaskState.TASK_FINISHED, "uuid-1")));

        assertThat(scheduler.next()).isInstanceOf(Update.class);
        assertThat(stream.awaitPeerEnded()).isEqualTo("half-closed");
        await().atMost(Timeouts.WAIT).until(() -> clientThreads().isEmpty());
        assertThat(stream.nextCallOrNull(Duration.ofMillis(200))).as("no ACK after close").isNull();
    }

    @Test
    void closeBeforeStartStopsTheThread() {
        MezzoSchedulerClient client = client(b -> b.master("127.0.0.1:1"));
        client.close();
        assertThat(clientThreads()).isEmpty();
        assertThat(client.revive()).isFalse();
    }

    // ---------------------------------------------------------------------------------------
    // Fixtures.
    // ---------------------------------------------------------------------------------------

    private ScriptedMaster master(long epoch) {
        ScriptedMaster master = ScriptedMaster.start(epoch);
        resources.push(master);
        return master;
    }

    private MezzoSchedulerClient client(Consumer<MezzoSchedulerClient.Builder> target) {
        MezzoSchedulerClient.Builder builder = MezzoSchedulerClient.builder(FRAMEWORK, scheduler)
                .clock(clock)
                .faultHandler(faults)
                .reconnectBackoff(Duration.ofSeconds(1), Duration.ofSeconds(30));
        target.accept(builder);
        MezzoSchedulerClient client = builder.build();
        resources.push(client);
        return client;
    }

    private ScriptedMaster.SchedulerStream subscribe(MezzoSchedulerClient client, ScriptedMaster master) throws Exception {
        return subscribe(client, master, 15);
    }

    /** Starts the client and answers its SUBSCRIBE with framework-1. */
    private ScriptedMaster.SchedulerStream subscribe(MezzoSchedulerClient client, ScriptedMaster master, double heartbeatSeconds)
            throws Exception {
        client.start();
        ScriptedMaster.SchedulerStream stream = master.nextSchedulerStream();
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.SUBSCRIBE);
        stream.send(Events.subscribed("framework-1", heartbeatSeconds, master.info()));
        assertThat(scheduler.next()).isEqualTo(new Subscribed(FRAMEWORK_ID, master.info()));
        return stream;
    }

    /** Waits until the client's loop has handled everything so far and fired due timers. */
    private static void settle(MezzoSchedulerClient client) throws Exception {
        client.barrier().get(5, TimeUnit.SECONDS);
    }

    private static Call resubscribe() {
        return Call.newBuilder()
                .setFrameworkId(FRAMEWORK_ID)
                .setType(Call.Type.SUBSCRIBE)
                .setSubscribe(Call.Subscribe.newBuilder().setFrameworkInfo(FRAMEWORK.toBuilder().setId(FRAMEWORK_ID)))
                .build();
    }

    private static TaskInfo task(String id, String agent) {
        return Protos.task(id, agent, "cpus:0.1;mem:32").build();
    }

    private static Call.Reconcile.Task reconcileTask(String task, String agent) {
        return Call.Reconcile.Task.newBuilder()
                .setTaskId(TaskID.newBuilder().setValue(task))
                .setAgentId(agentId(agent))
                .build();
    }

    private static Call reconcile(Call.Reconcile.Task... tasks) {
        return Call.newBuilder()
                .setFrameworkId(FRAMEWORK_ID)
                .setType(Call.Type.RECONCILE)
                .setReconcile(Call.Reconcile.newBuilder().addAllTasks(List.of(tasks)))
                .build();
    }

    private static Call decline(Filters filters, String... offers) {
        Call.Decline.Builder decline = Call.Decline.newBuilder().setFilters(filters);
        for (String offer : offers) {
            decline.addOfferIds(offerId(offer));
        }
        return Call.newBuilder()
                .setFrameworkId(FRAMEWORK_ID)
                .setType(Call.Type.DECLINE)
                .setDecline(decline)
                .build();
    }

    private static Call ack(String agent, String task, TaskStatus status) {
        return Call.newBuilder()
                .setFrameworkId(FRAMEWORK_ID)
                .setType(Call.Type.ACKNOWLEDGE)
                .setAcknowledge(Call.Acknowledge.newBuilder()
                        .setAgentId(agentId(agent))
                        .setTaskId(TaskID.newBuilder().setValue(task))
                        .setUuid(status.getUuid()))
                .build();
    }

    private static List<String> grpcThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("grpc-"))
                .map(Thread::getName)
                .toList();
    }

    private static List<Thread> clientThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().equals(MezzoSchedulerClient.THREAD_NAME))
                .toList();
    }

    private static List<Thread> threadsNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().equals(name)).toList();
    }
}
