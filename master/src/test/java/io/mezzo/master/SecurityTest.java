package io.mezzo.master;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ChannelCredentials;
import io.grpc.CompositeChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mezzo.common.security.BasicAuth;
import io.mezzo.common.security.ClientAuth;
import io.mezzo.common.security.Credential;
import io.mezzo.common.security.CredentialsFile;
import io.mezzo.common.security.TlsContext;
import io.mezzo.common.security.TlsSettings;
import io.mezzo.master.auth.Acls;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.DrainAgentRequest;
import io.mezzo.proto.v1.DurationInfo;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.GetFrameworksRequest;
import io.mezzo.proto.v1.GetHealthRequest;
import io.mezzo.proto.v1.KillTaskRequest;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OperatorGrpc;
import io.mezzo.proto.v1.ReactivateAgentRequest;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TeardownFrameworkRequest;
import io.mezzo.proto.v1.UpdateWeightsRequest;
import io.mezzo.proto.v1.WeightInfo;
import io.mezzo.testkit.FakeAgent;
import io.mezzo.testkit.FakeScheduler;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.TestPki;
import io.mezzo.testkit.Timeouts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS, authentication, id ownership and ACLs on a real master over loopback TLS: every rule of
 * docs/security.md that the master enforces, each with the refusal a caller sees.
 */
class SecurityTest {

    private static final Credential ALICE = new Credential("alice", "alice-secret");
    private static final Credential BOB = new Credential("bob", "bob-secret");
    private static final Credential OPS = new Credential("ops", "ops-secret");
    private static final CredentialsFile CREDENTIALS = CredentialsFile.of(List.of(ALICE, BOB, OPS));

    @TempDir
    Path dir;

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private Master master(TestPki pki, ClientAuth clientAuth, Acls acls, boolean authenticate) throws Exception {
        Master m = new Master(MasterConfig.builder().ip("127.0.0.1").port(0).httpPort(0).idPrefix("m1")
                .tls(pki.server("master", clientAuth))
                .credentials(CREDENTIALS)
                .authenticateFrameworks(authenticate).authenticateAgents(authenticate).authenticateOperators(authenticate)
                .authenticateHttp(authenticate)
                .acls(acls)
                .build());
        m.start();
        closeables.add(m);
        m.elected().get(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        return m;
    }

    /** A TLS channel trusting {@code pki}, presenting {@code certName}'s certificate and {@code credential} (each optional). */
    private ManagedChannel channel(Master m, TestPki pki, String certName, Credential credential) {
        TlsContext tls = TlsContext.of(pki.client(certName));
        closeables.add(tls);
        ChannelCredentials creds = tls.channelCredentials();
        if (credential != null) {
            creds = CompositeChannelCredentials.create(creds, BasicAuth.callCredentials(credential));
        }
        ManagedChannel c = Grpc.newChannelBuilderForAddress("127.0.0.1", m.port(), creds).build();
        closeables.add(c::shutdownNow);
        return c;
    }

    private FakeScheduler rawScheduler(ManagedChannel c) {
        FakeScheduler s = new FakeScheduler(c);
        closeables.add(s);
        return s;
    }

    private static Call subscribe(FrameworkInfo info) {
        return Call.newBuilder().setType(Call.Type.SUBSCRIBE)
                .setSubscribe(Call.Subscribe.newBuilder().setFrameworkInfo(info)).build();
    }

    private static Status.Code awaitFailure(FakeScheduler s) {
        Awaitility.await("stream refused").atMost(Timeouts.WAIT).until(() -> s.closed);
        return Status.fromThrowable(s.error).getCode();
    }

    @Test
    void anAnonymousFrameworkIsRefusedUnauthenticatedAndACredentialedOneSubscribesAsItsPrincipal() throws Exception {
        TestPki pki = TestPki.create(dir);
        Master m = master(pki, ClientAuth.NONE, Acls.PERMISSIVE, true);

        FakeScheduler anonymous = rawScheduler(channel(m, pki, null, null));
        anonymous.send(subscribe(Protos.framework("anon").build()));
        assertThat(awaitFailure(anonymous)).isEqualTo(Status.Code.UNAUTHENTICATED);

        FakeScheduler wrong = rawScheduler(channel(m, pki, null, new Credential("alice", "guess")));
        wrong.send(subscribe(Protos.framework("guess").build()));
        assertThat(awaitFailure(wrong)).isEqualTo(Status.Code.UNAUTHENTICATED);

        FakeScheduler alice = FakeScheduler.subscribe(channel(m, pki, null, ALICE), Protos.framework("a").build());
        closeables.add(alice);
        var frameworks = OperatorGrpc.newBlockingStub(channel(m, pki, null, OPS))
                .getFrameworks(GetFrameworksRequest.getDefaultInstance()).getFrameworksList();
        assertThat(frameworks).singleElement().satisfies(f -> assertThat(f.getFrameworkInfo().getPrincipal())
                .isEqualTo("alice"));
    }

    @Test
    void anotherPrincipalCannotTakeAFrameworkIdOver() throws Exception {
        TestPki pki = TestPki.create(dir);
        Master m = master(pki, ClientAuth.NONE, Acls.PERMISSIVE, true);
        FakeScheduler alice = FakeScheduler.subscribe(channel(m, pki, null, ALICE),
                Protos.framework("a").setFailoverTimeout(60).build());
        closeables.add(alice);

        FakeScheduler bob = rawScheduler(channel(m, pki, null, BOB));
        bob.send(subscribe(Protos.framework("a").setId(alice.frameworkId).build()));
        assertThat(awaitFailure(bob)).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(bob.events).anySatisfy(e -> assertThat(e.getError().getMessage())
                .contains("principal 'bob' may not subscribe as framework " + alice.frameworkId.getValue())
                .contains("belongs to principal 'alice'"));
        // Alice keeps her stream: no failover happened.
        alice.assertNone(Event.Type.ERROR);
        assertThat(alice.closed).isFalse();

        // Declaring another principal than the one authenticated is refused too.
        FakeScheduler liar = rawScheduler(channel(m, pki, null, BOB));
        liar.send(subscribe(Protos.framework("b").setPrincipal("alice").build()));
        assertThat(awaitFailure(liar)).isEqualTo(Status.Code.PERMISSION_DENIED);
    }

    @Test
    void mutualTlsMakesTheCertificateThePrincipalAndRefusesClientsWithoutAValidOne() throws Exception {
        TestPki pki = TestPki.create(dir.resolve("cluster"));
        TestPki foreign = TestPki.create(dir.resolve("foreign"));
        Master m = master(pki, ClientAuth.REQUIRE, Acls.PERMISSIVE, true);

        FakeAgent agent = FakeAgent.register(channel(m, pki, "agent1", null), "h1", "cpus:1;mem:128");
        closeables.add(agent);

        // No client certificate, or one of another CA: the handshake fails; nothing registers.
        for (ManagedChannel c : List.of(channel(m, pki, null, null), foreignChannel(m, pki, foreign))) {
            FakeAgent fake = new FakeAgent(c);
            closeables.add(fake);
            fake.send(AgentMessage.newBuilder().setType(AgentMessage.Type.REGISTER)
                    .setRegister(AgentMessage.Register.newBuilder().setAgentInfo(agent.info.toBuilder().clearId()))
                    .build());
            Awaitility.await().atMost(Timeouts.WAIT).until(() -> fake.closed);
            assertThat(fake.messages).noneMatch(msg -> msg.getType() == MasterMessage.Type.REGISTERED);
        }

        // Another principal with a valid certificate cannot re-register the agent's id.
        FakeAgent impostor = new FakeAgent(channel(m, pki, "impostor", null));
        closeables.add(impostor);
        impostor.send(AgentMessage.newBuilder().setType(AgentMessage.Type.REREGISTER)
                .setReregister(AgentMessage.Reregister.newBuilder().setAgentInfo(agent.info)).build());
        Awaitility.await().atMost(Timeouts.WAIT).until(() -> impostor.closed);
        assertThat(Status.fromThrowable(impostor.error).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(agent.closed).isFalse();
    }

    private ManagedChannel foreignChannel(Master m, TestPki pki, TestPki foreign) {
        // Trusts the cluster CA (so the server is verified) but presents a foreign certificate.
        var issued = foreign.issue("agent1");
        TlsContext tls = TlsContext.of(new TlsSettings(issued.cert(), issued.key(), pki.ca(), ClientAuth.NONE));
        closeables.add(tls);
        ManagedChannel c = Grpc.newChannelBuilderForAddress("127.0.0.1", m.port(), tls.channelCredentials()).build();
        closeables.add(c::shutdownNow);
        return c;
    }

    @Test
    void aclsRefuseRolesRootTasksAndOperatorChangesAndFilterViews() throws Exception {
        TestPki pki = TestPki.create(dir);
        Acls acls = Acls.parse("""
                {
                  "permissive": false,
                  "register_frameworks": [
                    {"principals": {"values": ["alice"]}, "roles": {"values": ["web", "web/*"]}},
                    {"principals": {"values": ["bob"]}, "roles": {"values": ["batch"]}}
                  ],
                  "run_tasks": [{"principals": {"type": "ANY"}, "users": {"values": ["nobody"]}}],
                  "register_agents": [{"principals": {"type": "ANY"}, "agents": {"type": "ANY"}}],
                  "update_weights": [{"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}}],
                  "view_frameworks": [
                    {"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}},
                    {"principals": {"type": "ANY"}, "framework_principals": {"values": ["alice"]}}
                  ]
                }
                """, "test");
        Master m = master(pki, ClientAuth.NONE, acls, true);

        FakeScheduler wrongRole = rawScheduler(channel(m, pki, null, ALICE));
        wrongRole.send(subscribe(Protos.framework("a").clearRoles().addRoles("batch").build()));
        assertThat(awaitFailure(wrongRole)).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(wrongRole.events).anySatisfy(e -> assertThat(e.getError().getMessage())
                .isEqualTo("principal 'alice' may not register_frameworks (roles 'batch') per the ACLs"));

        FakeAgent agent = FakeAgent.register(channel(m, pki, null, BOB), "h1", "cpus:2;mem:256");
        closeables.add(agent);
        FakeScheduler alice = FakeScheduler.subscribe(channel(m, pki, null, ALICE),
                Protos.framework("a").setUser("nobody").clearRoles().addRoles("web/api").build());
        closeables.add(alice);
        Offer offer = alice.next(Event.Type.OFFERS).getOffers().getOffers(0);
        alice.call(Protos.launch(offer, Protos.task("t1", offer, "cpus:0.1;mem:32")
                .setCommand(Protos.shell("id").toBuilder().setUser("root")).build()));
        Event update = alice.next(Event.Type.UPDATE);
        assertThat(update.getUpdate().getStatus().getState()).isEqualTo(TaskState.TASK_ERROR);
        assertThat(update.getUpdate().getStatus().getMessage()).contains("'root'").contains("principal 'alice'")
                .contains("run_tasks");
        agent.assertNone(MasterMessage.Type.RUN_TASK, alice);

        OperatorGrpc.OperatorBlockingStub anonymous = OperatorGrpc.newBlockingStub(channel(m, pki, null, null));
        assertThat(anonymous.getHealth(GetHealthRequest.getDefaultInstance()).getLeader()).isTrue();
        UpdateWeightsRequest weights = UpdateWeightsRequest.newBuilder()
                .addWeights(WeightInfo.newBuilder().setRole("web").setWeight(2)).build();
        assertThatThrownBy(() -> anonymous.updateWeights(weights)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        OperatorGrpc.OperatorBlockingStub asBob = OperatorGrpc.newBlockingStub(channel(m, pki, null, BOB));
        assertThatThrownBy(() -> asBob.updateWeights(weights)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        OperatorGrpc.OperatorBlockingStub asOps = OperatorGrpc.newBlockingStub(channel(m, pki, null, OPS));
        asOps.updateWeights(weights);

        // Views are filtered: bob sees alice's framework (view_frameworks grants it to everyone);
        // a framework of bob's would be visible to ops only.
        FakeScheduler bob = FakeScheduler.subscribe(channel(m, pki, null, BOB),
                Protos.framework("b").clearRoles().addRoles("batch").build());
        closeables.add(bob);
        // Views read the state the loop last published (within 100 ms of a change).
        await().atMost(Timeouts.WAIT).untilAsserted(() -> assertThat(
                asOps.getFrameworks(GetFrameworksRequest.getDefaultInstance()).getFrameworksList())
                .extracting(f -> f.getFrameworkInfo().getPrincipal()).containsExactlyInAnyOrder("alice", "bob"));
        assertThat(asBob.getFrameworks(GetFrameworksRequest.getDefaultInstance()).getFrameworksList())
                .extracting(f -> f.getFrameworkInfo().getPrincipal()).containsExactly("alice");
    }

    @Test
    void httpsEndpointsAskForCredentialsExceptHealth() throws Exception {
        TestPki pki = TestPki.create(dir);
        Master m = master(pki, ClientAuth.NONE, Acls.PERMISSIVE, true);
        TlsContext tls = TlsContext.of(pki.client(null));
        closeables.add(tls);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, new TrustManager[] {tls.trustManager()}, null);
        HttpClient http = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Timeouts.WAIT).build();
        String base = "https://127.0.0.1:" + m.httpPort();
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(URI.create(base + "/state")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        HttpResponse<String> ops = http.send(HttpRequest.newBuilder(URI.create(base + "/state"))
                .header("Authorization", BasicAuth.header(OPS)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(ops.statusCode()).isEqualTo(200);
        assertThat(ops.body()).contains("master_info");
    }

    @Test
    void operatorDrainKillAndTeardownNeedTheirActionsAndEveryAttemptIsAudited() throws Exception {
        TestPki pki = TestPki.create(dir);
        Acls acls = Acls.parse("""
                {
                  "permissive": false,
                  "register_frameworks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}],
                  "run_tasks": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}],
                  "register_agents": [{"principals": {"type": "ANY"}, "agents": {"type": "ANY"}}],
                  "drain_agents": [{"principals": {"values": ["ops"]}, "agents": {"type": "ANY"}}],
                  "kill_tasks": [{"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}}],
                  "teardown_frameworks": [{"principals": {"values": ["ops"]}, "framework_principals": {"values": ["alice"]}}]
                }
                """, "test");
        Master m = master(pki, ClientAuth.NONE, acls, true);
        FakeAgent agent = FakeAgent.register(channel(m, pki, null, BOB), "h1", "cpus:2;mem:256");
        closeables.add(agent);
        FakeScheduler alice = FakeScheduler.subscribe(channel(m, pki, null, ALICE), Protos.framework("a").build());
        closeables.add(alice);
        Offer offer = alice.next(Event.Type.OFFERS).getOffers().getOffers(0);
        alice.call(Protos.launch(offer, Protos.task("t1", offer, "cpus:0.1;mem:32").build()));
        agent.next(MasterMessage.Type.RUN_TASK);
        String fid = alice.frameworkId.getValue();
        String aid = agent.agentId.getValue();
        OperatorGrpc.OperatorBlockingStub asBob = OperatorGrpc.newBlockingStub(channel(m, pki, null, BOB));
        OperatorGrpc.OperatorBlockingStub asOps = OperatorGrpc.newBlockingStub(channel(m, pki, null, OPS));
        KillTaskRequest kill = KillTaskRequest.newBuilder().setFrameworkId(alice.frameworkId)
                .setTaskId(TaskID.newBuilder().setValue("t1")).build();
        DrainAgentRequest drain = DrainAgentRequest.newBuilder().setAgentId(agent.agentId)
                .setMaxGracePeriod(DurationInfo.newBuilder().setNanoseconds(1_000_000_000L)).build();
        TeardownFrameworkRequest teardown = TeardownFrameworkRequest.newBuilder().setFrameworkId(alice.frameworkId).build();

        try (LogLines audit = new LogLines("io.mezzo.audit")) {
            assertDenied(() -> asBob.killTask(kill), "principal 'bob' may not kill_tasks (framework_principals 'alice')");
            assertDenied(() -> asBob.drainAgent(drain), "principal 'bob' may not drain_agents (agents '" + aid + "')");
            assertDenied(() -> asBob.reactivateAgent(ReactivateAgentRequest.newBuilder().setAgentId(agent.agentId)
                    .build()), "principal 'bob' may not drain_agents (agents '" + aid + "')");
            assertDenied(() -> asBob.teardownFramework(teardown),
                    "principal 'bob' may not teardown_frameworks (framework_principals 'alice')");
            // The audit names what the call acted on; the refusal names the ACL's object.
            assertThat(audit.containing("principal=bob")).extracting(SecurityTest::withoutPeer).containsExactly(
                    "principal=bob action=KillTask object=" + fid + "/t1 outcome=denied: principal 'bob' may not"
                            + " kill_tasks (framework_principals 'alice') per the ACLs",
                    "principal=bob action=DrainAgent object=" + aid + " outcome=denied: principal 'bob' may not"
                            + " drain_agents (agents '" + aid + "') per the ACLs",
                    "principal=bob action=ReactivateAgent object=" + aid + " outcome=denied: principal 'bob' may not"
                            + " drain_agents (agents '" + aid + "') per the ACLs",
                    "principal=bob action=TeardownFramework object=" + fid + " outcome=denied: principal 'bob' may not"
                            + " teardown_frameworks (framework_principals 'alice') per the ACLs");
            agent.assertNone(MasterMessage.Type.KILL_TASK, alice);

            asOps.killTask(kill);
            assertThat(agent.next(MasterMessage.Type.KILL_TASK).getKillTask().getReason())
                    .isEqualTo(StatusReason.REASON_KILLED_BY_OPERATOR);
            asOps.drainAgent(drain);
            assertThat(agent.next(MasterMessage.Type.KILL_TASK).getKillTask().getReason())
                    .isEqualTo(StatusReason.REASON_AGENT_DRAINING);
            asOps.reactivateAgent(ReactivateAgentRequest.newBuilder().setAgentId(agent.agentId).build());
            asOps.teardownFramework(teardown);
            assertThat(alice.next(Event.Type.ERROR).getError().getCode()).isEqualTo(Event.Error.Code.FRAMEWORK_REMOVED);
            assertThat(audit.containing("principal=ops")).extracting(SecurityTest::withoutPeer).containsExactly(
                    "principal=ops action=KillTask object=" + fid + "/t1 outcome=ok",
                    "principal=ops action=DrainAgent object=" + aid + " outcome=ok",
                    "principal=ops action=ReactivateAgent object=" + aid + " outcome=ok",
                    "principal=ops action=TeardownFramework object=" + fid + " outcome=ok");
        }
    }

    /** An audit line without its caller's address (an ephemeral port). */
    private static String withoutPeer(String line) {
        return line.replaceFirst(" peer=127\\.0\\.0\\.1:\\d+", "");
    }

    private static void assertDenied(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String message) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }
}
