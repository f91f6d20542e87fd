package io.mezzo.dist.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.mezzo.agent.Agent;
import io.mezzo.agent.AgentConfig;
import io.mezzo.master.Master;
import io.mezzo.master.MasterConfig;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.DrainAgentRequest;
import io.mezzo.proto.v1.DrainState;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.GetRolesRequest;
import io.mezzo.proto.v1.GetStateRequest;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OperatorGrpc;
import io.mezzo.proto.v1.QuotaConfig;
import io.mezzo.proto.v1.RoleView;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.proto.v1.UpdateQuotaRequest;
import io.mezzo.proto.v1.UpdateWeightsRequest;
import io.mezzo.proto.v1.Value;
import io.mezzo.proto.v1.WeightInfo;
import io.mezzo.scheduler.MezzoSchedulerClient;
import io.mezzo.scheduler.Scheduler;
import io.mezzo.scheduler.SchedulerDriver;
import io.mezzo.testkit.RecordingFaultHandler;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mezzo registry backup} of a real master's registry (an agent, a framework, a drain,
 * weights and quota), restored into a fresh ZooKeeper where a new master recovers that state
 * (issue 11). Also the refusals: a running master, a non-empty registry, another format version.
 */
@Timeout(180)
class RegistryBackupTest {

    @TempDir
    Path work;

    private final RecordingFaultHandler faults = new RecordingFaultHandler();

    @Test
    void aBackupRestoredIntoAFreshZooKeeperIsWhatTheNextMasterRecovers() throws Exception {
        Path file = work.resolve("registry.json");
        String agentId;
        FrameworkID frameworkId;
        long oldEpoch;
        try (TestingServer zkA = new TestingServer(true)) {
            String urlA = "zk://" + zkA.getConnectString() + "/mezzo";
            Master a = master(urlA, "a");
            try (a) {
                oldEpoch = a.elected().get(30, TimeUnit.SECONDS).getEpoch();
                Agent agent = new Agent(AgentConfig.builder().master(urlA).ip("127.0.0.1").port(0).httpPort(0)
                        .hostname("agent-1").workDir(work.resolve("agent-1")).resources("cpus:2;mem:1024;disk:1024")
                        .allowRootTasks(true).registrationBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                        .faultHandler(faults).build());
                try (agent) {
                    agent.start();
                    agentId = agent.registered().get(30, TimeUnit.SECONDS).value();
                    CompletableFuture<FrameworkID> subscribed = new CompletableFuture<>();
                    MezzoSchedulerClient fw = MezzoSchedulerClient.builder(
                            FrameworkInfo.newBuilder().setName("backed-up").setFailoverTimeout(3600).build(),
                            new Scheduler() {
                                @Override
                                public void subscribed(SchedulerDriver d, FrameworkID id, MasterInfo m) {
                                    subscribed.complete(id);
                                }

                                @Override
                                public void offers(SchedulerDriver d, List<Offer> offers) {}

                                @Override
                                public void update(SchedulerDriver d, TaskStatus status) {}
                            }).master(urlA).faultHandler(faults).build();
                    try (fw) {
                        fw.start();
                        frameworkId = subscribed.get(30, TimeUnit.SECONDS);
                        ManagedChannel c = channel(a);
                        try {
                            var op = OperatorGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
                            op.updateWeights(UpdateWeightsRequest.newBuilder()
                                    .addWeights(WeightInfo.newBuilder().setRole("qa").setWeight(2.5)).build());
                            op.updateQuota(UpdateQuotaRequest.newBuilder().addQuotas(QuotaConfig.newBuilder()
                                    .setRole("qa").putGuarantees("cpus", Value.Scalar.newBuilder().setMilli(1_000).build()))
                                    .build());
                            op.drainAgent(DrainAgentRequest.newBuilder()
                                    .setAgentId(io.mezzo.proto.v1.AgentID.newBuilder().setValue(agentId)).build());
                        } finally {
                            c.shutdownNow();
                        }
                        await().atMost(Duration.ofSeconds(30)).until(() -> agentView(state(a), agentId)
                                .getDrainInfo().getState() == DrainState.DRAIN_STATE_DRAINED);

                        assertThat(cli("registry", "backup", "--zk", urlA, file.toString()).code).isZero();
                        // A running master refuses a restore, even with --force.
                        Cli refused = cli("registry", "restore", "--zk", urlA, "--force", file.toString());
                        assertThat(refused.code).isEqualTo(1);
                        assertThat(refused.err).contains("stop every master first");
                    }
                }
            }
            // The masters are stopped, but the registry is not empty: refused without --force.
            Cli notEmpty = cli("registry", "restore", "--zk", urlA, file.toString());
            assertThat(notEmpty.code).isEqualTo(1);
            assertThat(notEmpty.err).contains("add --force");
        }
        String json = Files.readString(file);
        assertThat(json).contains("\"format\": \"mezzo-registry-backup\"").contains("\"version\": 1")
                .contains("\"epoch\": " + oldEpoch).contains("agents/" + agentId).contains("roles/qa")
                .contains("drains/" + agentId).contains("frameworks/" + frameworkId.getValue());
        Path future = work.resolve("future.json");
        Files.writeString(future, json.replace("\"version\": 1", "\"version\": 99"));

        try (TestingServer zkB = new TestingServer(true)) {
            String urlB = "zk://" + zkB.getConnectString() + "/mezzo";
            Cli wrongVersion = cli("registry", "restore", "--zk", urlB, future.toString());
            assertThat(wrongVersion.code).isEqualTo(1);
            assertThat(wrongVersion.err).contains("format version 99");

            Cli restored = cli("registry", "restore", "--zk", urlB, file.toString());
            assertThat(restored.code).as(restored.err).isZero();
            assertThat(restored.out).contains("epoch is now " + oldEpoch);

            Master b = master(urlB, "b");
            try (b) {
                assertThat(b.elected().get(30, TimeUnit.SECONDS).getEpoch()).isEqualTo(oldEpoch + 1);
                // The views show the recovered registry once the new leader has published its state.
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    GetStateResponse state = state(b);
                    assertThat(state.getAgentsList()).anyMatch(a -> a.getAgentInfo().getId().getValue().equals(agentId));
                    assertThat(agentView(state, agentId).getDrainInfo().getState())
                            .isEqualTo(DrainState.DRAIN_STATE_DRAINED);
                    assertThat(state.getFrameworksList())
                            .anyMatch(f -> f.getFrameworkInfo().getId().equals(frameworkId));
                });
                ManagedChannel c = channel(b);
                try {
                    RoleView qa = OperatorGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS)
                            .getRoles(GetRolesRequest.getDefaultInstance()).getRolesList().stream()
                            .filter(r -> r.getRole().equals("qa")).findFirst().orElseThrow();
                    assertThat(qa.getWeight()).isEqualTo(2.5);
                    assertThat(qa.getQuota().getGuaranteesMap().get("cpus").getMilli()).isEqualTo(1_000);
                } finally {
                    c.shutdownNow();
                }
            }
        }
        faults.assertNoFaults();
    }

    private Master master(String zk, String prefix) throws Exception {
        Master m = new Master(MasterConfig.builder().ip("127.0.0.1").port(0).httpPort(0).idPrefix(prefix).zk(zk)
                .zkSessionTimeout(Duration.ofSeconds(2)).faultHandler(faults).build());
        m.start();
        return m;
    }

    private static ManagedChannel channel(Master m) {
        return NettyChannelBuilder.forAddress("127.0.0.1", m.port()).usePlaintext().build();
    }

    private static GetStateResponse state(Master m) {
        ManagedChannel c = channel(m);
        try {
            return OperatorGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .getState(GetStateRequest.getDefaultInstance());
        } finally {
            c.shutdownNow();
        }
    }

    private static AgentView agentView(GetStateResponse state, String agentId) {
        return state.getAgentsList().stream().filter(a -> a.getAgentInfo().getId().getValue().equals(agentId))
                .findFirst().orElseThrow();
    }

    private record Cli(int code, String out, String err) {}

    private static Cli cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        picocli.CommandLine cmd = new picocli.CommandLine(new MezzoCommand());
        cmd.setOut(new java.io.PrintWriter(new PrintStream(out, true, StandardCharsets.UTF_8), true));
        cmd.setErr(new java.io.PrintWriter(new PrintStream(err, true, StandardCharsets.UTF_8), true));
        int code = cmd.execute(args);
        return new Cli(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
