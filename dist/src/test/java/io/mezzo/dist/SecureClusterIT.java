package io.mezzo.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.CompositeChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mezzo.common.security.BasicAuth;
import io.mezzo.common.security.ClientAuth;
import io.mezzo.common.security.Credential;
import io.mezzo.common.security.TlsContext;
import io.mezzo.common.security.TlsSettings;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.GetStateRequest;
import io.mezzo.proto.v1.OperatorGrpc;
import io.mezzo.testkit.FakeScheduler;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.Timeouts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A secure cluster as docs/security.md sets it up, with real processes and real TLS: {@code mezzo
 * tls ca}, {@code mezzo tls cert}, a master with authentication and ACLs, an agent with its
 * certificate, then the attacks of issue 9, each refused with a clear error.
 */
class SecureClusterIT {

    @TempDir
    Path work;

    private final List<Process> started = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void stopEverything() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        for (Process p : started) {
            List<ProcessHandle> tree = p.descendants().toList();
            p.destroyForcibly();
            tree.forEach(ProcessHandle::destroyForcibly);
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static Path mezzo() {
        Path script = Path.of(System.getProperty("mezzo.home", "target/mezzo")).resolve("bin/mezzo");
        assertThat(script).as("the unpacked distribution (mvn package)").isExecutable();
        return script;
    }

    private Process start(Path log, List<String> args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(mezzo().toString());
        command.addAll(args);
        ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        b.environment().put("JAVA_HOME", System.getProperty("java.home"));
        b.environment().put("MEZZO_JAVA_OPTS", "-Xmx256m");
        Process p = b.start();
        started.add(p);
        return p;
    }

    /** Runs a command to its end; returns its exit code. */
    private int run(Path log, String... args) throws Exception {
        Process p = start(log, List.of(args));
        assertThat(p.waitFor(Timeouts.CLUSTER.toSeconds(), TimeUnit.SECONDS)).as("%s ends", List.of(args)).isTrue();
        return p.exitValue();
    }

    private static String read(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Test
    void aSecureClusterRefusesEveryUnauthenticatedOrUnauthorizedCaller() throws Exception {
        Path tls = work.resolve("tls");
        Path foreign = work.resolve("foreign");
        assertThat(run(work.resolve("ca.log"), "tls", "ca", "--dir", tls.toString())).isZero();
        for (String name : List.of("master", "agent1", "ops")) {
            assertThat(run(work.resolve(name + ".log"), "tls", "cert", "--name", name, "--ca_dir", tls.toString(),
                    "--dir", tls.toString())).as(read(work.resolve(name + ".log"))).isZero();
        }
        assertThat(run(work.resolve("foreign-ca.log"), "tls", "ca", "--dir", foreign.toString())).isZero();
        assertThat(run(work.resolve("foreign-cert.log"), "tls", "cert", "--name", "agent1", "--ca_dir", foreign.toString(),
                "--dir", foreign.toString())).isZero();
        Files.writeString(tls.resolve("credentials"), "web-fw web-secret\nother-fw other-secret\n");
        Files.writeString(tls.resolve("web.credential"), "web-fw web-secret\n");
        Files.writeString(tls.resolve("acls.json"), """
                {
                  "permissive": false,
                  "register_frameworks": [{"principals": {"type": "ANY"}, "roles": {"values": ["web"]}}],
                  "run_tasks": [{"principals": {"values": ["web-fw"]}, "users": {"values": ["nobody"]}}],
                  "register_agents": [{"principals": {"values": ["agent1"]}, "agents": {"type": "ANY"}}],
                  "view_frameworks": [{"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}}],
                  "view_agents": [{"principals": {"values": ["ops"]}, "agents": {"type": "ANY"}}]
                }
                """);
        String ca = tls.resolve("ca.pem").toString();

        Path masterLog = work.resolve("master.log");
        start(masterLog, List.of("master", "--port", "0", "--http_port", "0",
                "--tls_cert", tls.resolve("master.pem").toString(), "--tls_key", tls.resolve("master-key.pem").toString(),
                "--tls_ca", ca, "--tls_client_auth", "optional", "--credentials", tls.resolve("credentials").toString(),
                "--authenticate_frameworks", "--authenticate_agents", "--authenticate_operators",
                "--acls", tls.resolve("acls.json").toString()));
        Pattern listening = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");
        await("master up").atMost(Timeouts.CLUSTER).until(() -> listening.matcher(read(masterLog)).find());
        Matcher m = listening.matcher(read(masterLog));
        assertThat(m.find()).isTrue();
        int port = Integer.parseInt(m.group(1));
        String master = "127.0.0.1:" + port;

        // An agent with the cluster's certificate registers; one with a foreign CA's certificate, or
        // with none, does not.
        Path agentLog = work.resolve("agent.log");
        start(agentLog, List.of("agent", "--master", master, "--port", "0", "--work_dir", work.resolve("a1").toString(),
                "--resources", "cpus:1;mem:256", "--tls_ca", ca, "--tls_cert", tls.resolve("agent1.pem").toString(),
                "--tls_key", tls.resolve("agent1-key.pem").toString()));
        await("agent registered").atMost(Timeouts.CLUSTER).until(() -> read(masterLog).contains("Registered agent"));
        Path anonymousAgentLog = work.resolve("anonymous-agent.log");
        start(anonymousAgentLog, List.of("agent", "--master", master, "--port", "0", "--work_dir",
                work.resolve("a2").toString(), "--resources", "cpus:1;mem:256", "--tls_ca", ca));
        Path foreignAgentLog = work.resolve("foreign-agent.log");
        start(foreignAgentLog, List.of("agent", "--master", master, "--port", "0", "--work_dir",
                work.resolve("a3").toString(), "--resources", "cpus:1;mem:256", "--tls_ca", ca,
                "--tls_cert", foreign.resolve("agent1.pem").toString(), "--tls_key", foreign.resolve("agent1-key.pem").toString()));
        await("anonymous agent refused").atMost(Timeouts.CLUSTER)
                .until(() -> read(anonymousAgentLog).contains("UNAUTHENTICATED"));
        await("foreign certificate refused").atMost(Timeouts.CLUSTER)
                .until(() -> read(foreignAgentLog).contains("; reconnecting"));
        assertThat(read(foreignAgentLog)).doesNotContain("Registered with master");
        assertThat(read(masterLog).split("Registered agent", -1)).as("one agent registered").hasSize(2);

        // An unauthenticated framework is refused.
        Path anonymousRun = work.resolve("anonymous-run.log");
        assertThat(run(anonymousRun, "run", "--master", master, "--tls_ca", ca, "--role", "web", "--", "true")).isNotZero();
        assertThat(read(anonymousRun)).contains("UNAUTHENTICATED");

        // The ACLs refuse a role and a root task (only 'nobody' is granted).
        String credential = tls.resolve("web.credential").toString();
        Path badRole = work.resolve("bad-role.log");
        assertThat(run(badRole, "run", "--master", master, "--tls_ca", ca, "--credential", credential, "--role", "batch",
                "--", "true")).isNotZero();
        assertThat(read(badRole)).contains("principal 'web-fw' may not register_frameworks (roles 'batch')");
        Path root = work.resolve("root.log");
        assertThat(run(root, "run", "--master", master, "--tls_ca", ca, "--credential", credential, "--role", "web",
                "--user", "root", "--attempts", "1", "--", "true")).isNotZero();
        assertThat(read(root)).contains("TASK_ERROR").contains("'root'").contains("run_tasks");

        // An operator call without credentials is refused; with the ops certificate it is answered.
        TlsContext anonymousTls = TlsContext.of(new TlsSettings(null, null, Path.of(ca), ClientAuth.NONE));
        closeables.add(anonymousTls);
        ManagedChannel anonymous = Grpc.newChannelBuilderForAddress("127.0.0.1", port, anonymousTls.channelCredentials())
                .build();
        closeables.add(anonymous::shutdownNow);
        assertThatThrownBy(() -> OperatorGrpc.newBlockingStub(anonymous).getState(GetStateRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        TlsContext opsTls = TlsContext.of(new TlsSettings(tls.resolve("ops.pem"), tls.resolve("ops-key.pem"), Path.of(ca),
                ClientAuth.NONE));
        closeables.add(opsTls);
        ManagedChannel ops = Grpc.newChannelBuilderForAddress("127.0.0.1", port, opsTls.channelCredentials()).build();
        closeables.add(ops::shutdownNow);
        assertThat(OperatorGrpc.newBlockingStub(ops).getState(GetStateRequest.getDefaultInstance()).getAgentsCount())
                .isEqualTo(1);
        // The CLI: refused without a certificate (at once, exit 1), answered with the ops one.
        Path cliAnonymous = work.resolve("cli-anonymous.log");
        assertThat(run(cliAnonymous, "agents", "--master", master, "--tls_ca", ca)).as(read(cliAnonymous)).isEqualTo(1);
        assertThat(read(cliAnonymous)).contains("mezzo agents: UNAUTHENTICATED");
        Path cliOps = work.resolve("cli-ops.log");
        assertThat(run(cliOps, "agents", "--master", master, "--tls_ca", ca, "--tls_cert",
                tls.resolve("ops.pem").toString(), "--tls_key", tls.resolve("ops-key.pem").toString()))
                .as(read(cliOps)).isZero();
        assertThat(read(cliOps)).startsWith("ID ").contains("REGISTERED");

        // Another principal cannot take a framework id over.
        ManagedChannel web = Grpc.newChannelBuilderForAddress("127.0.0.1", port, CompositeChannelCredentials.create(
                anonymousTls.channelCredentials(), BasicAuth.callCredentials(new Credential("web-fw", "web-secret")))).build();
        closeables.add(web::shutdownNow);
        ManagedChannel other = Grpc.newChannelBuilderForAddress("127.0.0.1", port, CompositeChannelCredentials.create(
                anonymousTls.channelCredentials(), BasicAuth.callCredentials(new Credential("other-fw", "other-secret"))))
                .build();
        closeables.add(other::shutdownNow);
        FakeScheduler owner = FakeScheduler.subscribe(web, Protos.framework("owned").clearRoles().addRoles("web")
                .setFailoverTimeout(60).build());
        closeables.add(owner);
        FakeScheduler thief = new FakeScheduler(other);
        closeables.add(thief);
        thief.send(Call.newBuilder().setType(Call.Type.SUBSCRIBE).setSubscribe(Call.Subscribe.newBuilder()
                .setFrameworkInfo(Protos.framework("owned").clearRoles().addRoles("web").setId(owner.frameworkId)))
                .build());
        await("takeover refused").atMost(Timeouts.WAIT).until(() -> thief.closed);
        assertThat(Status.fromThrowable(thief.error).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(owner.closed).isFalse();
        assertThat(read(masterLog)).contains("Refused SUBSCRIBE").contains("may not subscribe as framework");
    }
}
