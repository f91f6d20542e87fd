package io.mezzo.scheduler;

import static io.mezzo.scheduler.Events.offerId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mezzo.common.resources.ResourceText;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.scheduler.RecordingScheduler.Disconnected;
import io.mezzo.scheduler.RecordingScheduler.Offers;
import io.mezzo.scheduler.RecordingScheduler.Subscribed;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.ScriptedMaster;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The helpers that spare frameworks the usual boilerplate, against a scripted master over real gRPC:
 * unused offers declined, SUPPRESS remembered across resubscriptions, {@code launch(offer, tasks)}
 * completing the tasks.
 */
class DriverHelpersTest {

    private static final FrameworkInfo FRAMEWORK = FrameworkInfo.newBuilder()
            .setName("helpers").addRoles("*").setFailoverTimeout(60).build();
    private static final FrameworkID ID = Events.frameworkId("framework-1");

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
    }

    @Test
    void offersTheCallbackLeftAloneAreDeclinedWhenItReturns() throws Exception {
        ScriptedMaster master = master();
        Filters refuse = Filters.newBuilder().setRefuseSeconds(30).build();
        scheduler.onOffers = (driver, offers) -> {
            driver.launch(offers.get(0), task("t1"));
            driver.decline(List.of(offers.get(1).getId()), refuse);
        };
        MezzoSchedulerClient client = client(master, b -> {});
        ScriptedMaster.SchedulerStream stream = subscribe(client, master);

        stream.send(Protos.offers(offer("o1", "a1"), offer("o2", "a2"), offer("o3", "a3"), offer("o4", "a4")));

        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.ACCEPT);
        assertThat(stream.nextCall()).isEqualTo(decline(refuse, "o2"));
        assertThat(stream.nextCall()).as("o3 and o4, in one DECLINE with the master's default filter")
                .isEqualTo(decline(null, "o3", "o4"));
    }

    @Test
    void withDeclineUnusedOffersOffTheSchedulerAnswersAlone() throws Exception {
        ScriptedMaster master = master();
        MezzoSchedulerClient client = client(master, b -> b.declineUnusedOffers(false));
        ScriptedMaster.SchedulerStream stream = subscribe(client, master);

        stream.send(Protos.offers(offer("o1", "a1")));
        assertThat(scheduler.next()).isInstanceOf(Offers.class);
        settle(client);
        assertThat(client.reconcile(List.of())).isTrue();
        assertThat(stream.nextCall().getType()).as("no DECLINE before it").isEqualTo(Call.Type.RECONCILE);
    }

    @Test
    void launchOnAnOfferFillsTheAgentAndTheRoleAndPacksSeveralTasks() throws Exception {
        ScriptedMaster master = master();
        MezzoSchedulerClient client = client(master, b -> {});
        ScriptedMaster.SchedulerStream stream = subscribe(client, master);
        Offer offer = offer("o1", "a1");

        assertThat(client.launch(offer, task("t1"), task("t2"))).isTrue();

        Call accept = stream.nextCall();
        assertThat(accept.getAccept().getOfferIdsList()).containsExactly(offerId("o1"));
        List<TaskInfo> launched = accept.getAccept().getOperations(0).getLaunch().getTaskInfosList();
        assertThat(launched).extracting(t -> t.getTaskId().getValue()).containsExactly("t1", "t2");
        assertThat(launched).allSatisfy(t -> {
            assertThat(t.getAgentId().getValue()).isEqualTo("a1");
            assertThat(t.getResourcesList()).allSatisfy(r -> assertThat(r.getAllocationInfo().getRole()).isEqualTo("*"));
        });
    }

    @Test
    void launchOfMoreThanTheOfferHasThrowsAndSendsNothing() throws Exception {
        ScriptedMaster master = master();
        MezzoSchedulerClient client = client(master, b -> {});
        ScriptedMaster.SchedulerStream stream = subscribe(client, master);
        Offer small = Protos.offer("o1", "a1", "cpus:0.15;mem:64");

        assertThatThrownBy(() -> client.launch(small, task("t1"), task("t2")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("task t2 needs").hasMessageContaining("o1");
        assertThat(client.reconcile(List.of())).isTrue();
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.RECONCILE);
    }

    @Test
    void suppressIsSentAgainAfterEveryResubscriptionUntilRevived() throws Exception {
        ScriptedMaster master = master();
        MezzoSchedulerClient client = client(master, b -> {});
        ScriptedMaster.SchedulerStream first = subscribe(client, master);
        assertThat(client.suppress()).isTrue();
        assertThat(first.nextCall().getType()).isEqualTo(Call.Type.SUPPRESS);

        // A new master forgot it: the client suppresses again, before the scheduler hears SUBSCRIBED.
        ScriptedMaster.SchedulerStream second = resubscribe(client, master, first);
        assertThat(second.nextCall()).isEqualTo(Call.newBuilder().setFrameworkId(ID).setType(Call.Type.SUPPRESS)
                .setSuppress(Call.Suppress.getDefaultInstance()).build());
        assertThat(scheduler.next()).isInstanceOf(Subscribed.class);

        // Revived while disconnected: not sent, but remembered; the next subscription stays unsuppressed.
        second.complete();
        assertThat(scheduler.next()).isInstanceOf(Disconnected.class);
        settle(client);
        assertThat(client.revive()).isFalse();
        clock.advance(Duration.ofSeconds(1));
        ScriptedMaster.SchedulerStream third = master.nextSchedulerStream();
        assertThat(third.nextCall().getType()).isEqualTo(Call.Type.SUBSCRIBE);
        third.send(Events.subscribed("framework-1", 15, master.info()));
        assertThat(scheduler.next()).isInstanceOf(Subscribed.class);
        assertThat(client.reconcile(List.of())).isTrue();
        assertThat(third.nextCall().getType()).as("no SUPPRESS before it").isEqualTo(Call.Type.RECONCILE);
    }

    // ---------------------------------------------------------------------------------------
    // Fixtures.
    // ---------------------------------------------------------------------------------------

    private ScriptedMaster master() {
        ScriptedMaster master = ScriptedMaster.start(1);
        resources.push(master);
        return master;
    }

    private MezzoSchedulerClient client(ScriptedMaster master, Consumer<MezzoSchedulerClient.Builder> options) {
        MezzoSchedulerClient.Builder b = MezzoSchedulerClient.builder(FRAMEWORK, scheduler)
                .master(master.address())
                .clock(clock)
                .faultHandler(faults)
                .reconnectBackoff(Duration.ofSeconds(1), Duration.ofSeconds(30));
        options.accept(b);
        MezzoSchedulerClient client = b.build();
        resources.push(client);
        return client;
    }

    private ScriptedMaster.SchedulerStream subscribe(MezzoSchedulerClient client, ScriptedMaster master)
            throws Exception {
        client.start();
        ScriptedMaster.SchedulerStream stream = master.nextSchedulerStream();
        assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.SUBSCRIBE);
        stream.send(Events.subscribed("framework-1", 15, master.info()));
        assertThat(scheduler.next()).isInstanceOf(Subscribed.class);
        return stream;
    }

    /** Ends {@code stream} and answers the next SUBSCRIBE; the scheduler's SUBSCRIBED is left unread. */
    private ScriptedMaster.SchedulerStream resubscribe(MezzoSchedulerClient client, ScriptedMaster master,
            ScriptedMaster.SchedulerStream stream) throws Exception {
        stream.fail();
        assertThat(scheduler.next()).isInstanceOf(Disconnected.class);
        settle(client);
        clock.advance(Duration.ofSeconds(1));
        ScriptedMaster.SchedulerStream next = master.nextSchedulerStream();
        assertThat(next.nextCall().getType()).isEqualTo(Call.Type.SUBSCRIBE);
        next.send(Events.subscribed("framework-1", 15, master.info()));
        return next;
    }

    private static void settle(MezzoSchedulerClient client) throws Exception {
        client.barrier().get(5, TimeUnit.SECONDS);
    }

    private static Offer offer(String id, String agent) {
        return Protos.offer(id, agent, "cpus:1;mem:1024");
    }

    private static TaskInfo task(String id) {
        return TaskInfo.newBuilder()
                .setName(id)
                .setTaskId(Ids.task(id))
                .addAllResources(ResourceText.parse("cpus:0.1;mem:32").toProto())
                .setCommand(CommandInfo.newBuilder().setShell("true"))
                .build();
    }

    private static Call decline(Filters filters, String... offers) {
        Call.Decline.Builder d = Call.Decline.newBuilder();
        for (String o : offers) {
            d.addOfferIds(offerId(o));
        }
        if (filters != null) {
            d.setFilters(filters);
        }
        return Call.newBuilder().setFrameworkId(ID).setType(Call.Type.DECLINE).setDecline(d).build();
    }
}
