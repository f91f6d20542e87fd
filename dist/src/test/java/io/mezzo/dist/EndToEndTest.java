package io.mezzo.dist;

import static io.mezzo.testkit.Protos.shellTask;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.agent.Agent;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.dist.Cluster.Framework;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.DurationInfo;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.KillPolicy;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.testkit.Timeouts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One offer cycle end to end over real gRPC on loopback: a master, two agents running real
 * processes, and schedulers written with the scheduler API.
 */
class EndToEndTest {

    @TempDir
    Path work;

    private Cluster cluster;
    private Agent agent1;
    private Agent agent2;

    @BeforeEach
    void start() throws Exception {
        cluster = new Cluster(work);
        agent1 = cluster.agent("cpus:2;mem:1024;disk:1024;ports:[31000-31099]");
        agent2 = cluster.agent("cpus:2;mem:1024;disk:1024;ports:[32000-32099]");
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }


    /** Takes an outstanding offer on {@code agent}, waiting for one. */
    private static Offer offerOn(Framework fw, Agent agent) {
        return fw.takeOffer(agent.agentId().orElseThrow().value());
    }

    private Path sandboxOf(Agent agent, String taskId) throws IOException {
        Path tasks = agent.config().workDir();
        try (Stream<Path> files = Files.walk(tasks)) {
            return files.filter(p -> p.getFileName().toString().equals("stdout"))
                    .filter(p -> p.toString().contains("/tasks/" + taskId + "/"))
                    .map(Path::getParent)
                    .findFirst()
                    .orElseThrow();
        }
    }

    @Test
    void aTaskRunsAndFinishes() throws Exception {
        Framework fw = cluster.framework(Cluster.frameworkInfo("e2e").build());
        Offer offer = offerOn(fw, agent1);
        fw.driver.launch(offer.getId(), List.of(shellTask("ok", offer, "echo finished-ok")));
        List<TaskStatus> updates = fw.updatesUntilTerminal("ok");
        assertThat(updates).extracting(TaskStatus::getState)
                .containsSubsequence(TaskState.TASK_RUNNING, TaskState.TASK_FINISHED)
                .last().isEqualTo(TaskState.TASK_FINISHED);
        TaskStatus finished = updates.get(updates.size() - 1);
        assertThat(finished.getExitCode()).isZero();
        assertThat(finished.getAgentId().getValue()).isEqualTo(agent1.agentId().orElseThrow().value());
        assertThat(Files.readString(sandboxOf(agent1, "ok").resolve("stdout"))).contains("finished-ok");
    }

    @Test
    void aFailingTaskReportsItsExitCode() throws Exception {
        Framework fw = cluster.framework(Cluster.frameworkInfo("e2e").build());
        Offer offer = offerOn(fw, agent2);
        fw.driver.launch(offer.getId(), List.of(shellTask("bad", offer, "echo oops >&2; exit 3")));
        List<TaskStatus> updates = fw.updatesUntilTerminal("bad");
        TaskStatus failed = updates.get(updates.size() - 1);
        assertThat(failed.getState()).isEqualTo(TaskState.TASK_FAILED);
        assertThat(failed.getExitCode()).isEqualTo(3);
        assertThat(failed.getReason()).isEqualTo(StatusReason.REASON_COMMAND_FAILED);
        assertThat(failed.getMessage()).contains("3");
        assertThat(Files.readString(sandboxOf(agent2, "bad").resolve("stderr"))).contains("oops");
    }

    @Test
    void aKilledTaskAndItsChildrenAreGone() throws Exception {
        Framework fw = cluster.framework(Cluster.frameworkInfo("e2e").build());
        Offer offer = offerOn(fw, agent1);
        TaskInfo sleeper = shellTask("sleeper", offer,
                "trap '' TERM; sleep 301 & echo $! > children; sleep 302 & echo $! >> children; wait")
                .toBuilder()
                .setKillPolicy(KillPolicy.newBuilder().setGracePeriod(DurationInfo.newBuilder()
                        .setNanoseconds(Duration.ofSeconds(1).toNanos())))
                .build();
        fw.driver.launch(offer.getId(), List.of(sleeper));
        await().atMost(Timeouts.PROCESS).until(() -> fw.nextUpdate("sleeper").getState() == TaskState.TASK_RUNNING);
        Path children = sandboxOf(agent1, "sleeper").resolve("children");
        await().atMost(Timeouts.PROCESS).until(() -> Files.exists(children) && Files.readAllLines(children).size() == 2);
        List<Long> pids = Files.readAllLines(children).stream().map(String::trim).map(Long::parseLong).toList();
        assertThat(pids).allSatisfy(pid -> assertThat(ProcessHandle.of(pid)).isPresent());

        fw.driver.kill(sleeper.getTaskId(), offer.getAgentId(), null);
        List<TaskStatus> after = fw.updatesUntilTerminal("sleeper");
        assertThat(after.get(after.size() - 1).getState()).as("updates %s", after).isEqualTo(TaskState.TASK_KILLED);
        // The shell and its children ignore SIGTERM (an ignored signal is inherited): only the SIGKILL
        // that follows the 1 s grace period ends them.
        assertThat(after.get(after.size() - 1).getMessage()).isEqualTo("Killed by SIGKILL after grace period");
        await().atMost(Timeouts.PROCESS).untilAsserted(() -> assertThat(pids)
                .allSatisfy(pid -> assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse()));
    }

    @Test
    void aDeclinedAgentIsNotOfferedAgainToThatFrameworkUntilTheFilterExpires() throws Exception {
        Framework fw = cluster.framework(Cluster.frameworkInfo("e2e").build());
        Offer first = offerOn(fw, agent1);
        fw.driver.decline(List.of(first.getId()), Filters.newBuilder().setRefuseSeconds(30).build());
        // Keep agent 2 out of the way for the whole test.
        Offer second = offerOn(fw, agent2);
        fw.driver.decline(List.of(second.getId()), Filters.newBuilder().setRefuseSeconds(3600).build());
        fw.driver.reconcile(List.of(Call.Reconcile.Task.newBuilder()
                .setTaskId(TaskID.newBuilder().setValue("barrier")).build()));
        fw.nextUpdate("barrier");

        cluster.advance(Duration.ofSeconds(29));
        fw.driver.reconcile(List.of(Call.Reconcile.Task.newBuilder()
                .setTaskId(TaskID.newBuilder().setValue("barrier")).build()));
        fw.nextUpdate("barrier");
        assertThat(fw.hasOffer(first.getAgentId().getValue())).isFalse();

        cluster.advance(Duration.ofSeconds(2));
        Offer again = offerOn(fw, agent1);
        assertThat(again.getAgentId()).isEqualTo(first.getAgentId());
    }

    @Test
    void invalidLaunchesGetSpecificErrorsAndLaunchNothing() throws Exception {
        Framework fw = cluster.framework(Cluster.frameworkInfo("e2e").build());
        Offer offer = offerOn(fw, agent1);
        TaskInfo noMem = shellTask("no-mem", offer, "true").toBuilder().clearResources()
                .addAllResources(ResourceText.parse("cpus:0.1").toProto()).build();
        fw.driver.launch(offer.getId(), List.of(noMem));
        TaskStatus error = fw.nextUpdate("no-mem");
        assertThat(error.getState()).isEqualTo(TaskState.TASK_ERROR);
        assertThat(error.getReason()).isEqualTo(StatusReason.REASON_TASK_INVALID);
        assertThat(error.getMessage()).contains("has no mem");

        // The same offer was given back: using it again is an invalid-offer error.
        fw.driver.launch(offer.getId(), List.of(shellTask("late", offer, "true")));
        TaskStatus late = fw.nextUpdate("late");
        assertThat(late.getReason()).isEqualTo(StatusReason.REASON_INVALID_OFFERS);

        Offer fresh = offerOn(fw, agent1);
        TaskInfo tooBig = shellTask("too-big", fresh, "true").toBuilder().clearResources()
                .addAllResources(ResourceText.parse("cpus:64;mem:32").toProto()).build();
        fw.driver.launch(fresh.getId(), List.of(tooBig));
        assertThat(fw.nextUpdate("too-big").getMessage()).contains("asks for cpus:64;mem:32");

        assertThat(agent1.state().get().getTasksList()).isEmpty();
    }

    @Test
    void reconciliationReturnsTheLatestState() throws Exception {
        Framework fw = cluster.framework(Cluster.frameworkInfo("e2e").build());
        Offer offer = offerOn(fw, agent1);
        fw.driver.launch(offer.getId(), List.of(shellTask("long", offer, "sleep 300")));
        await().atMost(Timeouts.PROCESS).until(() -> fw.nextUpdate("long").getState() == TaskState.TASK_RUNNING);
        fw.driver.reconcile(List.of(Call.Reconcile.Task.newBuilder()
                .setTaskId(TaskID.newBuilder().setValue("long")).build()));
        TaskStatus reconciled = fw.nextUpdate("long");
        assertThat(reconciled.getState()).isEqualTo(TaskState.TASK_RUNNING);
        assertThat(reconciled.getReason()).isEqualTo(StatusReason.REASON_RECONCILIATION);
        fw.driver.reconcile(List.of());
        assertThat(fw.nextUpdate("long").getState()).isEqualTo(TaskState.TASK_RUNNING);
    }

    @Test
    void anAgentThatStopsAnsweringPingsMakesItsTasksUnreachable() throws Exception {
        Framework fw = cluster.framework(Cluster.frameworkInfo("aware").addCapabilities(FrameworkInfo.Capability
                .newBuilder().setType(FrameworkInfo.Capability.Type.PARTITION_AWARE)).build());
        Offer offer = offerOn(fw, agent2);
        fw.driver.launch(offer.getId(), List.of(shellTask("far", offer, "sleep 300")));
        await().atMost(Timeouts.PROCESS).until(() -> fw.nextUpdate("far").getState() == TaskState.TASK_RUNNING);
        agent2.close();
        // Five pings (15 s apart by default) go unanswered.
        for (int i = 0; i < 6; i++) {
            cluster.advance(Duration.ofSeconds(15));
        }
        TaskStatus unreachable = fw.nextUpdate("far");
        assertThat(unreachable.getState()).isEqualTo(TaskState.TASK_UNREACHABLE);
        assertThat(unreachable.getReason()).isEqualTo(StatusReason.REASON_AGENT_DISCONNECTED);
    }

    @Test
    void anUnacknowledgedUpdateIsResentUntilAcknowledged() throws Exception {
        Framework fw = cluster.framework(Cluster.frameworkInfo("manual-ack").build(), false);
        Offer offer = offerOn(fw, agent1);
        fw.driver.launch(offer.getId(), List.of(shellTask("acked", offer, "sleep 300")));
        TaskStatus first = fw.nextUpdate("acked");
        TaskStatus resent = fw.nextUpdate("acked");
        assertThat(resent.getUuid()).isEqualTo(first.getUuid());
        assertThat(resent.getState()).isEqualTo(first.getState());
        fw.driver.acknowledge(first);
        // The next update of the stream follows only after the acknowledgement.
        TaskStatus next;
        do {
            next = fw.nextUpdate("acked");
        } while (next.getUuid().equals(first.getUuid()));
        assertThat(next.getState()).isNotEqualTo(first.getState());
        AgentID agent = offer.getAgentId();
        assertThat(next.getAgentId()).isEqualTo(agent);
    }
}
