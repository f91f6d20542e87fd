package io.mezzo.agent.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.HealthCheck;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each probe against real endpoints and processes on 127.0.0.1. */
class HealthProbesTest {

    @TempDir
    Path sandbox;

    private final ExecutorService workers = Executors.newCachedThreadPool();

    @AfterEach
    void stop() throws InterruptedException {
        workers.shutdownNow();
        assertThat(workers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void httpIsHealthyOnTheExpectedStatuses() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/ok", e -> {
            e.sendResponseHeaders(204, -1);
            e.close();
        });
        server.createContext("/sick", e -> {
            e.sendResponseHeaders(503, -1);
            e.close();
        });
        server.start();
        try {
            int port = server.getAddress().getPort();
            assertThat(run(http(port, "/ok")).healthy()).isTrue();
            HealthChecker.Result sick = run(http(port, "/sick"));
            assertThat(sick.healthy()).isFalse();
            assertThat(sick.detail()).isEqualTo("GET http://127.0.0.1:" + port + "/sick: HTTP 503");
            HealthCheck accepting503 = http(port, "/sick").toBuilder()
                    .setHttp(http(port, "/sick").getHttp().toBuilder().addStatuses(503))
                    .build();
            assertThat(run(accepting503).healthy()).isTrue();
        } finally {
            server.stop(0);
        }
    }

    @Test
    void tcpIsHealthyWhenSomethingListens() throws Exception {
        try (ServerSocket listening = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            assertThat(run(tcp(listening.getLocalPort())).healthy()).isTrue();
        }
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            closed = s.getLocalPort();
        }
        HealthChecker.Result refused = run(tcp(closed));
        assertThat(refused.healthy()).isFalse();
        assertThat(refused.detail()).startsWith("cannot connect to 127.0.0.1:" + closed);
    }

    @Test
    void commandIsHealthyOnExitStatusZeroAndRunsInTheSandbox() throws Exception {
        assertThat(run(command("test \"$(pwd)\" = \"$MEZZO_SANDBOX\" && test \"$EXTRA\" = yes")).healthy()).isTrue();
        HealthChecker.Result failed = run(command("exit 3"));
        assertThat(failed.healthy()).isFalse();
        assertThat(failed.detail()).isEqualTo("command exited with status 3");
    }

    private HealthChecker.Result run(HealthCheck spec) throws Exception {
        Map<String, String> env = Map.of("PATH", "/usr/bin:/bin", "MEZZO_SANDBOX", sandbox.toString());
        return HealthProbes.of(spec, sandbox, env, null, workers).run().get(30, TimeUnit.SECONDS);
    }

    private static HealthCheck http(int port, String path) {
        return HealthCheck.newBuilder()
                .setType(HealthCheck.Type.HTTP)
                .setTimeoutSeconds(5)
                .setHttp(HealthCheck.HTTPCheckInfo.newBuilder().setPort(port).setPath(path))
                .build();
    }

    private static HealthCheck tcp(int port) {
        return HealthCheck.newBuilder()
                .setType(HealthCheck.Type.TCP)
                .setTimeoutSeconds(5)
                .setTcp(HealthCheck.TCPCheckInfo.newBuilder().setPort(port))
                .build();
    }

    private static HealthCheck command(String shell) {
        return HealthCheck.newBuilder()
                .setType(HealthCheck.Type.COMMAND)
                .setCommand(CommandInfo.newBuilder()
                        .setShell(shell)
                        .setEnvironment(io.mezzo.proto.v1.Environment.newBuilder()
                                .addVariables(io.mezzo.proto.v1.Environment.Variable.newBuilder()
                                        .setName("EXTRA").setValue("yes"))))
                .build();
    }
}
