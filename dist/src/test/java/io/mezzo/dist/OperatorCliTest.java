package io.mezzo.dist;

import static io.mezzo.testkit.Protos.shell;
import static io.mezzo.testkit.Protos.task;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.mezzo.agent.Agent;
import io.mezzo.agent.AgentConfig;
import io.mezzo.dist.Cluster.Framework;
import io.mezzo.dist.cli.MezzoCommand;
import io.mezzo.master.Master;
import io.mezzo.master.MasterConfig;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.DrainState;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.GetAgentsRequest;
import io.mezzo.proto.v1.GetRolesRequest;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OperatorGrpc;
import io.mezzo.proto.v1.RoleView;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.scheduler.MezzoSchedulerClient;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.Timeouts;
import io.mezzo.testkit.ZkEnsemble;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The operator CLI ({@code mezzo agents}, {@code mezzo quota set}, ...) against one real cluster
 * shared by the methods: three masters on a real 3-server ZooKeeper ensemble, real agents running
 * real processes, a framework written with the scheduler API. Each command runs in this JVM as
 * {@code bin/mezzo} runs it ({@link MezzoCommand#execute}), through {@code zk://} or a master's
 * host:port, and is checked by its exit code, its table or JSON, and the master's state read back
 * over gRPC. The last method kills the leader and checks that the commands follow the new one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(120)
class OperatorCliTest {

    private Path work;
    private ZkEnsemble zk;
    private String zkUrl;
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final List<Master> masters = new ArrayList<>();
    private final List<Agent> agents = new ArrayList<>();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private Framework fw;

    @BeforeAll
    void start() throws Exception {
        work = Files.createTempDirectory("operator-cli");
        zk = new ZkEnsemble(3);
        zkUrl = zk.url("/mezzo");
        for (int i = 0; i < 3; i++) {
            Master m = new Master(MasterConfig.builder().ip("127.0.0.1").port(0).httpPort(0).idPrefix("cli" + i)
                    .zk(zkUrl).zkSessionTimeout(Duration.ofSeconds(2)).faultHandler(faults)
                    .allocationInterval(Duration.ofMillis(200)).agentPingInterval(Duration.ofSeconds(2)).build());
            m.start();
            masters.add(m);
            if (i == 0) {
                m.elected().get(30, TimeUnit.SECONDS);
            }
        }
        for (int i = 1; i <= 3; i++) {
            agents.add(agent("agent-" + i));
        }
        fw = framework("ops", "eng");
    }

    private Agent agent(String hostname) throws Exception {
        Agent a = new Agent(AgentConfig.builder().master(zkUrl).ip("127.0.0.1").port(0).hostname(hostname)
                .workDir(work.resolve(hostname)).resources("cpus:2;mem:1024;disk:1024")
                .statusUpdateRetry(Duration.ofMillis(500), Duration.ofSeconds(2))
                .registrationBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                .allowRootTasks(true) // tests run tasks as whoever runs the build (root on CI machines)
                .faultHandler(faults).build());
        a.start();
        a.registered().get(30, TimeUnit.SECONDS);
        return a;
    }

    private Framework framework(String name, String role) {
        Framework f = new Framework();
        FrameworkInfo info = Cluster.frameworkInfo(name).setFailoverTimeout(300).addRoles(role).build();
        f.driver = MezzoSchedulerClient.builder(info, f).master(zkUrl).declineUnusedOffers(false)
                .reconnectBackoff(Duration.ofMillis(100), Duration.ofSeconds(1)).faultHandler(faults).build();
        toClose.add(f.driver);
        f.driver.start();
        f.frameworkId = f.next(Cluster.Subscribed.class).frameworkId();
        return f;
    }

    @AfterAll
    void stop() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        for (Agent a : agents) {
            a.close();
        }
        for (Master m : masters) {
            m.close();
        }
        zk.close();
        faults.assertNoFaults();
    }

    private Master leader() {
        return masters.stream().filter(Master::isLeading).findFirst().orElse(null);
    }

    private String agentId(int index) {
        return agents.get(index).agentId().orElseThrow().value();
    }

    private OperatorGrpc.OperatorBlockingStub operator() {
        ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", leader().port()).usePlaintext().build();
        toClose.add(c::shutdownNow);
        return OperatorGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private AgentView agentView(String id) {
        return operator().getAgents(GetAgentsRequest.getDefaultInstance()).getAgentsList().stream()
                .filter(a -> a.getAgentInfo().getId().getValue().equals(id)).findFirst().orElseThrow();
    }

    /** What one command did: its exit code and what it printed on stdout and stderr. */
    record Run(int code, String out, String err) {
        JsonObject json() {
            return JsonParser.parseString(out).getAsJsonObject();
        }
    }

    /** Runs {@code mezzo ARGS --master zk://...} in this JVM. */
    private Run mezzo(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        if (!all.contains("--master")) {
            int end = all.contains("--") ? all.indexOf("--") : all.size();
            all.addAll(end, List.of("--master", zkUrl));
        }
        return mezzoRaw(all.toArray(String[]::new));
    }

    private static synchronized Run mezzoRaw(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        try {
            int code = MezzoCommand.execute(args, Map.of());
            return new Run(code, withoutLogs(o), withoutLogs(e));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    /** The daemons of this JVM log to the same stdout: keep only what the command printed. */
    private static String withoutLogs(ByteArrayOutputStream captured) {
        return captured.toString(StandardCharsets.UTF_8)
                .replaceAll("(?m)^[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} [A-Z]+ +\\[.*\n", "");
    }

    /** Launches a shell task with {@code resources} on the agent at {@code index}; waits until it runs. */
    private void launch(Framework f, String id, int index, String resources, String command) {
        Offer offer = f.takeOffer(agentId(index));
        f.driver.launch(offer.getId(), List.of(task(id, offer, resources).setCommand(shell(command)).build()));
        await().atMost(Timeouts.PROCESS).until(() -> f.nextUpdate(id).getState() == TaskState.TASK_RUNNING);
    }

    private TaskStatus terminalUpdate(Framework f, String id) {
        List<TaskStatus> seen = f.updatesUntilTerminal(id);
        return seen.get(seen.size() - 1);
    }

    @Test
    @Order(1)
    void listsAgentsFrameworksAndTasksAsTablesAndJson() {
        launch(fw, "sleeper", 0, "cpus:0.5;mem:64", "sleep 300");

        Run agentsTable = mezzo("agents");
        assertThat(agentsTable.code()).as(agentsTable.err()).isZero();
        assertThat(agentsTable.out()).startsWith("ID ").contains("HOSTNAME", "STATE", "CPUS", "MEM", "REGISTERED");
        assertThat(agentsTable.out().lines()).hasSize(4)
                .anySatisfy(l -> assertThat(l).contains("agent-1", "REGISTERED", "0.5/2", "64MB/1GB", "0MB/1GB", "ago"))
                .anySatisfy(l -> assertThat(l).contains("agent-2", "REGISTERED", "0/2"));
        JsonObject agentsJson = mezzo("agents", "--json").json();
        assertThat(agentsJson.getAsJsonArray("agents")).hasSize(3);
        assertThat(agentsJson.toString()).contains("\"hostname\":\"agent-3\"", "\"milli\":\"2000\"");

        Run show = mezzo("agent", "show", "agent-1");
        assertThat(show.code()).as(show.err()).isZero();
        assertThat(show.out()).contains("ID:           " + agentId(0), "State:        REGISTERED")
                .containsPattern("cpus +2 +0.5 +")
                .contains("sleeper", "RUNNING");
        assertThat(mezzo("agent", "show", agentId(1).substring(0, agentId(1).length() - 1) + "x").code()).isEqualTo(1);

        Run frameworks = mezzo("frameworks");
        assertThat(frameworks.out().lines()).hasSize(2).last().asString()
                .contains("ops", "CONNECTED", "eng", "1", "0.5", "64MB");
        assertThat(mezzo("frameworks", "--json").json().getAsJsonArray("frameworks").get(0).getAsJsonObject()
                .getAsJsonObject("framework_info").get("name").getAsString()).isEqualTo("ops");

        Run tasks = mezzo("tasks");
        assertThat(tasks.code()).isZero();
        assertThat(tasks.out().lines()).hasSize(2).last().asString()
                .contains("sleeper", "agent-1", "RUNNING", "0.5", "64MB");
        assertThat(mezzo("tasks", "--state", "running", "--agent", "agent-1").out()).contains("sleeper");
        assertThat(mezzo("tasks", "--agent", "agent-2").out().lines()).hasSize(1);
        assertThat(mezzo("tasks", "--state", "finished").out()).doesNotContain("sleeper");
        Run badState = mezzo("tasks", "--state", "snoozing");
        assertThat(badState.code()).isEqualTo(2);
        assertThat(badState.err()).contains("'snoozing' is not a task state");
        JsonArray taskJson = mezzo("tasks", "--json", "--framework", fw.frameworkId.getValue()).json()
                .getAsJsonArray("tasks");
        assertThat(taskJson).hasSize(1);
        assertThat(taskJson.get(0).getAsJsonObject().getAsJsonObject("task_id").get("value").getAsString())
                .isEqualTo("sleeper");

        Run taskShow = mezzo("task", "show", "sleep");
        assertThat(taskShow.code()).as(taskShow.err()).isZero();
        assertThat(taskShow.out()).contains("ID:         sleeper", "State:      TASK_RUNNING", "agent-1",
                "Resources:  cpus=0.5 mem=64MB");
        Run unknown = mezzo("task", "show", "nobody");
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err()).isEqualTo("mezzo task show: the master knows no task nobody\n");

        Run leaderText = mezzo("leader");
        assertThat(leaderText.code()).isZero();
        assertThat(leaderText.out()).contains("Leader:   127.0.0.1:" + leader().port(), "Epoch:", "Elected:");
        JsonObject leaderJson = mezzo("leader", "--json").json();
        assertThat(leaderJson.get("leader").getAsBoolean()).isTrue();
        assertThat(leaderJson.getAsJsonObject("master_info").get("port").getAsInt()).isEqualTo(leader().port());
    }

    @Test
    @Order(2)
    void quotaAndWeightsRoundTripInHumanUnits() {
        Run set = mezzo("quota", "set", "eng", "cpus=1.5", "mem=0.5GB");
        assertThat(set.code()).as(set.err()).isZero();
        assertThat(set.out()).isEqualTo("quota of eng: guarantee cpus=1.5 mem=512MB, limit cpus=1.5 mem=512MB\n");
        RoleView eng = operator().getRoles(GetRolesRequest.getDefaultInstance()).getRolesList().stream()
                .filter(r -> r.getRole().equals("eng")).findFirst().orElseThrow();
        assertThat(eng.getQuota().getLimitsMap().get("mem").getMilli()).isEqualTo(512_000);
        assertThat(eng.getQuota().getGuaranteesMap().get("cpus").getMilli()).isEqualTo(1500);

        Run get = mezzo("quota", "get", "eng");
        assertThat(get.out().lines().toList().get(0)).matches("ROLE +GUARANTEE +LIMIT +CONSUMED");
        // The consumed column counts the framework's outstanding offers too (made before the quota).
        assertThat(get.out().lines().toList().get(1)).matches("eng +cpus=1.5 mem=512MB +cpus=1.5 mem=512MB +cpus=.*");
        assertThat(mezzo("quota", "get").out()).contains("eng");
        assertThat(mezzo("quota", "get", "--json").json().getAsJsonArray("roles").get(0).toString())
                .contains("\"limits\":{\"cpus\":{\"milli\":\"1500\"},\"mem\":{\"milli\":\"512000\"}}");

        Run tooFine = mezzo("quota", "set", "eng", "mem=1.0000001GB");
        assertThat(tooFine.code()).isEqualTo(2);
        assertThat(tooFine.err()).contains("mem '1.0000001GB' is finer than a thousandth of a megabyte");
        Run refused = mezzo("quota", "set", "eng", "--guarantee", "cpus=2", "--limit", "cpus=1");
        assertThat(refused.code()).as(refused.out()).isEqualTo(1);
        assertThat(refused.err()).startsWith("mezzo quota set: ").contains("cpus");

        Run weights = mezzo("weights", "set", "eng=2", "ops=0.5");
        assertThat(weights.code()).as(weights.err()).isZero();
        assertThat(mezzo("weights", "get").out()).containsPattern("(?m)^eng +2 ").containsPattern("(?m)^ops +0.5 ");
        assertThat(mezzo("weights", "set", "eng=-1").code()).isEqualTo(2);

        Run roles = mezzo("roles");
        assertThat(roles.out()).containsPattern("(?m)^eng +2 +1 +cpus=.* +cpus=1.5 mem=512MB +cpus=1.5 mem=512MB ");
        assertThat(mezzo("roles", "--json").json().getAsJsonArray("roles")).isNotEmpty();
    }

    @Test
    @Order(3)
    void aRunThatTheQuotaLimitKeepsOutSaysSo() {
        // Above the limit outright: said at once, not after --offer_timeout.
        long started = System.nanoTime();
        Run outright = mezzo("run", "--role", "eng", "--cpus", "2", "--offer_timeout", "60s", "--", "true");
        assertThat(outright.code()).isEqualTo(122);
        assertThat(outright.out()).contains("the task needs cpus 2 but the quota limit of role eng is cpus 1.5:"
                + " it can never run under this role");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(50));

        // Within the limit, but not beside what the role's "sleeper" uses.
        Run crowded = mezzo("run", "--role", "eng", "--cpus", "1.2", "--offer_timeout", "4s", "--", "true");
        assertThat(crowded.code()).isEqualTo(122);
        assertThat(crowded.out()).contains("the quota limit of role eng is cpus 1.5 and it uses 0.5: the task's"
                + " cpus 1.2 does not fit until the role's tasks free 0.2");
    }

    @Test
    @Order(4)
    void drainAndReactivateReachTheMaster() {
        // The "eng" framework is over its new quota limit: another one sees the agent come back.
        Framework spare = framework("spare", "*");
        Run drain = mezzo("agent", "drain", "agent-1", "--max-grace-period", "1s");
        assertThat(drain.code()).as(drain.err()).isZero();
        assertThat(drain.out()).isEqualTo("agent " + agentId(0) + " (agent-1) is draining\n");
        TaskStatus killed = terminalUpdate(fw, "sleeper");
        assertThat(killed.getState()).isEqualTo(TaskState.TASK_KILLED);
        assertThat(killed.getReason()).isEqualTo(StatusReason.REASON_AGENT_DRAINING);
        await().atMost(Timeouts.PROCESS).until(() -> agentView(agentId(0)).getDrainInfo().getState()
                == DrainState.DRAIN_STATE_DRAINED);
        assertThat(agentView(agentId(0)).getDrainInfo().getConfig().getMaxGracePeriod().getNanoseconds())
                .isEqualTo(1_000_000_000L);
        assertThat(mezzo("agent", "show", "agent-1").out()).contains("Drain:        DRAINED since ",
                "max grace period 1s");
        assertThat(mezzo("agents").out()).containsPattern("agent-1 +DRAINED");
        assertThat(mezzo("maintenance", "status").out()).containsPattern("agent-1 +DRAINED since");
        assertThat(mezzo("tasks", "--all", "--state", "killed").out()).contains("sleeper", "KILLED");

        Run reactivate = mezzo("agent", "reactivate", agentId(0));
        assertThat(reactivate.code()).as(reactivate.err()).isZero();
        assertThat(agentView(agentId(0)).hasDrainInfo()).isFalse();
        assertThat(agentView(agentId(0)).getState()).isEqualTo(AgentView.State.REGISTERED);
        Run again = mezzo("agent", "reactivate", agentId(0));
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("is not draining");
        // Offered again.
        spare.takeOffer(agentId(0));
    }

    @Test
    @Order(5)
    void maintenanceKillTeardownAndGone() {
        Run schedule = mezzo("maintenance", "schedule", "--agents", "agent-2", "--start", "+1h", "--mark-gone");
        assertThat(schedule.code()).as(schedule.err()).isZero();
        assertThat(schedule.out()).contains("agent-2", "in 59m");
        Run status = mezzo("maintenance", "status");
        assertThat(status.out()).containsPattern("(?m)^20[0-9-]+T.*in 59m +agent-2 +- +yes$");
        JsonObject windows = mezzo("maintenance", "status", "--json").json();
        assertThat(windows.getAsJsonArray("windows")).hasSize(1);
        assertThat(mezzo("maintenance", "clear").code()).isZero();
        assertThat(mezzo("maintenance", "status").out()).startsWith("No maintenance scheduled.");
        assertThat(mezzo("maintenance", "schedule", "--agents", "agent-2", "--start", "whenever").code()).isEqualTo(2);

        launch(fw, "victim", 1, "cpus:0.1;mem:32", "sleep 300");
        Run kill = mezzo("task", "kill", "victim");
        assertThat(kill.code()).as(kill.err()).isZero();
        TaskStatus killed = terminalUpdate(fw, "victim");
        assertThat(killed.getState()).isEqualTo(TaskState.TASK_KILLED);
        assertThat(killed.getReason()).isEqualTo(StatusReason.REASON_KILLED_BY_OPERATOR);
        await().atMost(Timeouts.PROCESS).until(() -> mezzo("task", "kill", "victim").code() == 1);

        Framework doomed = framework("doomed", "*");
        Run teardown = mezzo("framework", "teardown", doomed.frameworkId.getValue());
        assertThat(teardown.code()).as(teardown.err()).isZero();
        assertThat(mezzo("frameworks").out()).doesNotContain("doomed");
        assertThat(mezzo("framework", "teardown", doomed.frameworkId.getValue()).code()).isEqualTo(1);

        Run gone = mezzo("agent", "gone", "agent-3");
        assertThat(gone.code()).as(gone.err()).isZero();
        await().atMost(Timeouts.PROCESS).until(() -> agentView(agentId(2)).getState() == AgentView.State.GONE);
        assertThat(mezzo("agent", "drain", agentId(2)).code()).isEqualTo(1);
    }

    @Test
    @Order(6)
    void exitCodesForNoLeaderAndBadUsage() {
        Run none = mezzoRaw("agents", "--master", "127.0.0.1:1", "--timeout", "1s");
        assertThat(none.code()).isEqualTo(3);
        assertThat(none.err()).startsWith("mezzo agents: no leading master answered at 127.0.0.1:1");
        assertThat(mezzoRaw("agents", "--master", "not a master").code()).isEqualTo(2);
        assertThat(mezzoRaw("agents", "--bogus").code()).isEqualTo(2);
        assertThat(mezzo("quota", "set", "eng", "cpus=lots").code()).isEqualTo(2);
    }

    @Test
    @Order(7)
    void commandsFollowTheLeaderAfterItIsKilled() throws Exception {
        Master first = leader();
        Master standby = masters.stream().filter(m -> m != first).findFirst().orElseThrow();
        String before = mezzo("leader", "--json").json().getAsJsonObject("master_info").get("id").getAsString();
        assertThat(before).isEqualTo(first.info().getId());

        first.faults().expireZkSession();
        first.close();

        // Through a standby's host:port, and through ZooKeeper: both find the new leader.
        Run viaStandby = mezzoRaw("agents", "--master", "127.0.0.1:" + standby.port());
        assertThat(viaStandby.code()).as(viaStandby.err()).isZero();
        assertThat(viaStandby.out()).contains("agent-1", "agent-2");
        JsonObject after = mezzo("leader", "--json").json().getAsJsonObject("master_info");
        assertThat(after.get("id").getAsString()).isNotEqualTo(before);
        assertThat(after.get("epoch").getAsLong()).isGreaterThan(first.info().getEpoch());
        Run quota = mezzo("quota", "get", "eng");
        assertThat(quota.out()).as("the quota survived the failover").contains("cpus=1.5 mem=512MB");
    }
}
