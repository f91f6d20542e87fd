package io.mezzo.scheduler;

import static io.mezzo.scheduler.Events.agentId;
import static io.mezzo.scheduler.Events.offerId;
import static io.mezzo.scheduler.Events.status;
import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.common.resources.ResourceText;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.scheduler.example.HelloFramework;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.ScriptedMaster;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The documented example framework, against a scripted master. */
class HelloFrameworkTest {

    private static final FrameworkInfo INFO =
            FrameworkInfo.newBuilder().setName("hello").setUser("tester").setFailoverTimeout(60).build();

    @Test
    void launchesOnTheFirstOfferThatFitsDeclinesTheRestAndTearsDownWhenDone() throws Exception {
        RecordingFaultHandler faults = new RecordingFaultHandler();
        HelloFramework hello = new HelloFramework();
        try (ScriptedMaster master = ScriptedMaster.start(1);
                MezzoSchedulerClient client = MezzoSchedulerClient.builder(INFO, hello)
                        .master(master.address())
                        .clock(new ManualClock())
                        .faultHandler(faults)
                        .build()) {
            client.start();
            ScriptedMaster.SchedulerStream stream = master.nextSchedulerStream();
            assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.SUBSCRIBE);
            stream.send(Events.subscribed("framework-1", 15, master.info()));

            stream.send(Events.offers(
                    offer("offer-1", "agent-1", "cpus:0.05;mem:1024"), offer("offer-2", "agent-2", "cpus:2;mem:4096")));

            assertThat(stream.nextCall()).isEqualTo(decline("offer-1"));
            Call launch = stream.nextCall();
            assertThat(launch.getAccept().getOfferIdsList()).containsExactly(offerId("offer-2"));
            assertThat(launch.getAccept().getOperations(0).getLaunch().getTaskInfosList())
                    .containsExactly(TaskInfo.newBuilder()
                            .setName("hello")
                            .setTaskId(TaskID.newBuilder().setValue("hello-1"))
                            .setAgentId(agentId("agent-2"))
                            .addAllResources(ResourceText.parse("cpus:0.1;mem:32").toProto("*"))
                            .setCommand(CommandInfo.newBuilder().setShell("echo hello"))
                            .build());
            assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.SUPPRESS);

            stream.send(Events.offers(offer("offer-3", "agent-3", "cpus:2;mem:4096")));
            assertThat(stream.nextCall()).isEqualTo(decline("offer-3"));

            stream.send(Events.update(status("hello-1", "agent-2", TaskState.TASK_RUNNING, "uuid-1")));
            assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.ACKNOWLEDGE);
            TaskStatus finished = status("hello-1", "agent-2", TaskState.TASK_FINISHED, "uuid-2");
            stream.send(Events.update(finished));

            assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.TEARDOWN);
            assertThat(hello.done().get(10, TimeUnit.SECONDS)).isEqualTo(finished);
            assertThat(stream.awaitPeerEnded()).isEqualTo("half-closed");
        }
        faults.assertNoFaults();
    }

    @Test
    void aLaunchLostWithItsMasterEndsTheWaitAfterTheResubscription() throws Exception {
        RecordingFaultHandler faults = new RecordingFaultHandler();
        HelloFramework hello = new HelloFramework();
        ManualClock clock = new ManualClock();
        try (ScriptedMaster master = ScriptedMaster.start(1);
                MezzoSchedulerClient client = MezzoSchedulerClient.builder(INFO, hello)
                        .master(master.address())
                        .clock(clock)
                        .faultHandler(faults)
                        .build()) {
            client.start();
            ScriptedMaster.SchedulerStream stream = master.nextSchedulerStream();
            assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.SUBSCRIBE);
            stream.send(Events.subscribed("framework-1", 15, master.info()));
            stream.send(Events.offers(offer("offer-1", "agent-1", "cpus:2;mem:4096")));
            assertThat(stream.nextCall().getType()).isEqualTo(Call.Type.ACCEPT);

            // The master dies before acting on the ACCEPT; the next one never heard of hello-1.
            stream.fail();
            // The first failure since SUBSCRIBED is retried at once.
            ScriptedMaster.SchedulerStream next = master.nextSchedulerStream();
            assertThat(next.nextCall().getType()).isEqualTo(Call.Type.SUBSCRIBE);
            next.send(Events.subscribed("framework-1", 15, master.info()));
            // The new master starts the framework unsuppressed: the client suppresses again.
            assertThat(next.nextCall().getType()).isEqualTo(Call.Type.SUPPRESS);
            Call reconcile = next.nextCall();
            assertThat(reconcile.getType()).isEqualTo(Call.Type.RECONCILE);
            assertThat(reconcile.getReconcile().getTasks(0).getTaskId().getValue()).isEqualTo("hello-1");
            TaskStatus lost = status("hello-1", "agent-1", TaskState.TASK_LOST, "");
            next.send(Events.update(lost));

            assertThat(hello.done().get(10, TimeUnit.SECONDS)).isEqualTo(lost);
            assertThat(next.nextCall().getType()).isEqualTo(Call.Type.TEARDOWN);
        }
        faults.assertNoFaults();
    }

    private static Offer offer(String id, String agent, String resources) {
        return Events.offer(id, agent).toBuilder()
                .addAllResources(ResourceText.parse(resources).toProto("*"))
                .build();
    }

    private static Call decline(String offer) {
        return Call.newBuilder()
                .setFrameworkId(Events.frameworkId("framework-1"))
                .setType(Call.Type.DECLINE)
                .setDecline(Call.Decline.newBuilder()
                        .addOfferIds(offerId(offer))
                        .setFilters(Filters.newBuilder().setRefuseSeconds(30)))
                .build();
    }
}
