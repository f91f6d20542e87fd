package io.mezzo.master;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.testkit.Protos;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Admission control ({@link LaunchAdmission}) on the master's loop with a manual clock ({@link
 * CoreHarness}): offers are paced to the launch budget, held back while it is spent, resumed when
 * the agents' first updates settle launches, and never stuck by launches that ended another way.
 */
@Timeout(60)
class LaunchAdmissionTest {

    private final List<CoreHarness> harnesses = new ArrayList<>();

    @AfterEach
    void stop() {
        harnesses.forEach(CoreHarness::close);
    }

    private CoreHarness master(int budget) {
        CoreHarness h = new CoreHarness(List.of(), b -> b.maxLaunchesInFlight(budget));
        harnesses.add(h);
        return h;
    }

    private static List<Offer> offers(CoreHarness.Scheduler s) {
        return s.ofType(Event.Type.OFFERS).stream().flatMap(e -> e.getOffers().getOffersList().stream()).toList();
    }

    /** Launches {@code count} tasks of cpus 1, mem 128 on the offer. */
    private static List<TaskInfo> accept(CoreHarness.Scheduler s, Offer offer, String prefix, int count) {
        List<TaskInfo> tasks = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            tasks.add(Protos.task(prefix + i, offer, "cpus:1;mem:128").build());
        }
        s.call(Protos.launch(offer, tasks.toArray(TaskInfo[]::new)));
        return tasks;
    }

    private static void running(CoreHarness.Agent a, Offer offer, String taskId) {
        a.send(AgentMessage.newBuilder().setType(AgentMessage.Type.STATUS_UPDATE).setAgentId(a.info.getId())
                .setStatusUpdate(StatusUpdate.newBuilder().setFrameworkId(offer.getFrameworkId())
                        .setStatus(Protos.status(taskId, a.info.getId().getValue(), TaskState.TASK_RUNNING)
                                .setSource(StatusSource.SOURCE_EXECUTOR).setUuid(Protos.uuid())))
                .build());
    }

    @Test
    void withoutABudgetEveryAgentIsOfferedInOnePass() {
        CoreHarness h = master(0);
        for (int i = 1; i <= 3; i++) {
            h.register("host-" + i);
        }
        CoreHarness.Scheduler s = h.subscribe(Protos.framework("fw").build());
        assertThat(offers(s)).hasSize(3);
    }

    @Test
    void offersArePacedHeldBackWhileTheBudgetIsSpentAndResumedAsLaunchesSettle() {
        CoreHarness h = master(4);
        List<CoreHarness.Agent> agents = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            agents.add(h.register("host-" + i));
        }
        CoreHarness.Scheduler s = h.subscribe(Protos.framework("fw").build());
        // Room for 4 launches at the first estimate of 16 per offer: one offer, not three.
        assertThat(offers(s)).hasSize(1);
        Offer first = offers(s).get(0);
        CoreHarness.Agent agent = agents.stream().filter(a -> a.info.getId().equals(first.getAgentId())).findFirst()
                .orElseThrow();
        accept(s, first, "t", 4);
        assertThat(agent.ofType(MasterMessage.Type.RUN_TASK)).hasSize(4);

        // The budget is spent: periodic passes make no offer, however long.
        h.advance(Duration.ofSeconds(5));
        assertThat(offers(s)).hasSize(1);

        // One settles: still above half the budget. Two: an allocation pass runs at once.
        running(agent, first, "t0");
        assertThat(offers(s)).hasSize(1);
        running(agent, first, "t1");
        assertThat(offers(s)).hasSizeGreaterThan(1);
        // The launched tasks were all sent and the updates forwarded: nothing was refused or dropped.
        assertThat(s.updates()).extracting(u -> u.getState()).containsExactly(TaskState.TASK_RUNNING,
                TaskState.TASK_RUNNING);
    }

    @Test
    void launchesThatEndWithoutAnUpdateFromTheirAgentDoNotHoldOffersBackForGood() {
        CoreHarness h = master(2);
        h.register("host-1");
        h.register("host-2");
        CoreHarness.Scheduler s = h.subscribe(Protos.framework("fw").build());
        Offer first = offers(s).get(0);
        accept(s, first, "t", 2);
        h.advance(Duration.ofSeconds(2));
        int before = offers(s).size();
        // The framework is torn down: its staging tasks are killed by the master, no agent update comes.
        s.call(Call.newBuilder().setType(Call.Type.TEARDOWN));
        CoreHarness.Scheduler other = h.subscribe(Protos.framework("other").build());
        h.advance(Duration.ofSeconds(2));
        assertThat(before).isEqualTo(1);
        assertThat(offers(other)).isNotEmpty();
    }
}
