package io.mezzo.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.testkit.Timeouts;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole HA path with real processes on loopback: three ZooKeeper servers (from the ZooKeeper
 * jar in the distribution), three masters and two agents started with bin/mezzo. The leader is
 * killed with SIGKILL; a new one takes over and a `mezzo run` task completes.
 */
class MultiProcessHaIT {


    @TempDir
    Path work;

    private final List<Process> started = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @AfterEach
    void stopEverything() throws Exception {
        for (Process p : started) {
            List<ProcessHandle> tree = p.descendants().toList();
            p.destroyForcibly();
            tree.forEach(ProcessHandle::destroyForcibly);
        }
        for (Process p : started) {
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static Path home() {
        return Path.of(System.getProperty("mezzo.home", "target/mezzo"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private Process start(Path log, List<String> command, String javaOpts) throws IOException {
        ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        b.environment().put("JAVA_HOME", System.getProperty("java.home"));
        b.environment().put("MEZZO_JAVA_OPTS", javaOpts);
        Process p = b.start();
        started.add(p);
        return p;
    }

    private Process mezzo(Path log, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(home().resolve("bin/mezzo").toString());
        command.addAll(List.of(args));
        return start(log, command, "-Xmx128m -XX:TieredStopAtLevel=1");
    }

    /** True when the master with this HTTP port says it leads. */
    private boolean leads(int httpPort) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().contains("\"leader\": true");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Test
    void killingTheLeaderLeavesAWorkingCluster() throws Exception {
        int[] client = {freePort(), freePort(), freePort()};
        int[] peer = {freePort(), freePort(), freePort()};
        int[] election = {freePort(), freePort(), freePort()};
        StringBuilder servers = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            servers.append("server.").append(i + 1).append("=127.0.0.1:").append(peer[i]).append(':')
                    .append(election[i]).append('\n');
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (int i = 0; i < 3; i++) {
            Path dir = Files.createDirectories(work.resolve("zk" + (i + 1)));
            Files.writeString(dir.resolve("myid"), Integer.toString(i + 1));
            Path cfg = dir.resolve("zoo.cfg");
            Files.writeString(cfg, "tickTime=500\ninitLimit=20\nsyncLimit=10\ndataDir=" + dir + "\nclientPort=" + client[i]
                    + "\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n" + servers);
            start(dir.resolve("zk.log"), List.of(java, "-Xmx64m", "-XX:TieredStopAtLevel=1",
                    "-cp", home().resolve("lib") + "/*", "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                    cfg.toString()), "");
        }
        String zk = "zk://127.0.0.1:" + client[0] + ",127.0.0.1:" + client[1] + ",127.0.0.1:" + client[2] + "/mezzo";

        int[] httpPorts = {freePort(), freePort(), freePort()};
        Process[] masters = new Process[3];
        for (int i = 0; i < 3; i++) {
            masters[i] = mezzo(work.resolve("master" + i + ".log"), "master", "--zk", zk, "--port", "0",
                    "--http_port", Integer.toString(httpPorts[i]), "--zk_session_timeout", "3secs");
        }
        for (int i = 0; i < 2; i++) {
            mezzo(work.resolve("agent" + i + ".log"), "agent", "--master", zk, "--port", "0",
                    "--work_dir", work.resolve("agent" + i).toString(), "--resources", "cpus:1;mem:256;disk:256",
                    "--allow_root_tasks");
        }
        await("a leader").atMost(Timeouts.CLUSTER).pollInterval(Duration.ofMillis(250))
                .until(() -> leads(httpPorts[0]) || leads(httpPorts[1]) || leads(httpPorts[2]));
        int leader = leads(httpPorts[0]) ? 0 : leads(httpPorts[1]) ? 1 : 2;

        Path before = work.resolve("run-before.log");
        Process first = mezzo(before, "run", "--master", zk, "--", "echo", "before");
        assertThat(first.waitFor(Timeouts.CLUSTER.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(first.exitValue()).as(Files.readString(before)).isZero();

        masters[leader].destroyForcibly();
        assertThat(masters[leader].waitFor(30, TimeUnit.SECONDS)).isTrue();
        int dead = leader;
        await("a new leader").atMost(Timeouts.CLUSTER).pollInterval(Duration.ofMillis(250)).until(() -> {
            for (int i = 0; i < 3; i++) {
                if (i != dead && leads(httpPorts[i])) {
                    return true;
                }
            }
            return false;
        });

        Path after = work.resolve("run-after.log");
        Process second = mezzo(after, "run", "--master", zk, "--", "echo", "after");
        assertThat(second.waitFor(Timeouts.CLUSTER.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(second.exitValue()).as(Files.readString(after)).isZero();
        assertThat(Files.readString(after)).contains("TASK_FINISHED");
    }
}
