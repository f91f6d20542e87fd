package io.mezzo.dist.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mezzo.agent.Agent;
import io.mezzo.agent.AgentConfig;
import io.mezzo.master.Master;
import io.mezzo.master.MasterConfig;
import io.mezzo.services.ServicesConfig;
import io.mezzo.services.ServicesDaemon;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.ZkEnsemble;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service scheduler end to end: two masters and two agents on a ZooKeeper, real task processes
 * (a JDK-only HTTP server from the test class path), health checks run by the agents, and the
 * services daemon driven through its HTTP API. One cluster, one story: deploy, crash and replace,
 * scale, canary and promote, a failing version rolled back with the healthy count never below
 * minHealthy, a deploy that survives a restart of the services daemon, and one that survives the
 * loss of the leading master.
 */
class ServicesEndToEndTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MIN_HEALTHY = 2;

    @TempDir
    Path work;

    private ZkEnsemble zk;
    private String zkUrl;
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final List<Master> masters = new ArrayList<>();
    private final List<Agent> agents = new ArrayList<>();
    private ServicesDaemon services;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        zk = new ZkEnsemble(1);
        zkUrl = zk.url("/mezzo");
        for (int i = 0; i < 2; i++) {
            Master m = new Master(MasterConfig.builder().ip("127.0.0.1").port(0).httpPort(0).idPrefix("m" + i)
                    .zk(zkUrl).zkSessionTimeout(Duration.ofSeconds(2)).faultHandler(faults)
                    .agentPingInterval(Duration.ofSeconds(2)).build());
            m.start();
            masters.add(m);
            if (i == 0) {
                m.elected().get(30, TimeUnit.SECONDS);
            }
        }
        // Task ports below the kernel's ephemeral range, at a base of this run's own, so that two
        // builds on one machine do not hand the same port to two servers.
        int portBase = 20000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(50) * 200;
        for (int i = 1; i <= 2; i++) {
            int first = portBase + (i - 1) * 100;
            Agent a = new Agent(AgentConfig.builder().master(zkUrl).ip("127.0.0.1").port(0).httpPort(0).hostname("127.0.0.1")
                    .workDir(work.resolve("agent-" + i))
                    .resources("cpus:4;mem:4096;disk:1024;ports:[" + first + "-" + (first + 99) + "]")
                    .statusUpdateRetry(Duration.ofMillis(500), Duration.ofSeconds(2))
                    .registrationBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                    // Tests run tasks as whoever runs the build (root on CI machines).
                    .allowRootTasks(true)
                    .faultHandler(faults).build());
            agents.add(a);
            a.start();
            a.registered().get(30, TimeUnit.SECONDS);
        }
        services = daemon();
    }

    private ServicesDaemon daemon() throws Exception {
        ServicesDaemon d = new ServicesDaemon(ServicesConfig.builder().master(zkUrl).zk(zkUrl).httpPort(0)
                .failoverTimeout(Duration.ofMinutes(5)).faultHandler(faults).build());
        d.start();
        d.elected().get(30, TimeUnit.SECONDS);
        return d;
    }

    @AfterEach
    void stop() throws Exception {
        try {
            if (services != null && services.isLeading()) {
                api("DELETE", "/v1/services/web", null);
                await("instances killed").atMost(Duration.ofSeconds(60))
                        .until(() -> status("GET", "/v1/services/web") == 404);
            }
        } finally {
            if (services != null) {
                services.close();
            }
            for (Agent a : agents) {
                a.close();
            }
            for (Master m : masters) {
                m.close();
            }
            zk.close();
            // Nothing the tasks started may outlive the test.
            ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly);
        }
        faults.assertNoFaults();
    }

    /** The definition of version {@code label} of the test service. */
    private static String web(String label, int instances, String healthPath, int canaries) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classes = Path.of(TinyHttpServer.class.getProtectionDomain().getCodeSource().getLocation().getPath()).toString();
        ObjectNode d = JSON.createObjectNode();
        d.put("id", "web");
        d.put("cmd", "exec " + java + " -Xmx24m -Xss256k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp " + classes
                + " " + TinyHttpServer.class.getName());
        d.put("instances", instances).put("cpus", 0.1).put("mem", "128MB").put("ports", 1);
        d.putObject("env").put("VERSION", label);
        d.putObject("healthCheck").put("type", "HTTP").put("path", healthPath).put("delay", "300ms").put("interval", "300ms")
                .put("timeout", "2s").put("gracePeriod", "3s").put("maxConsecutiveFailures", 2);
        d.put("killGracePeriod", "1s");
        d.putObject("upgradeStrategy").put("maxParallel", 1).put("minHealthy", MIN_HEALTHY).put("maxSurge", 1)
                .put("canaries", canaries).put("autoRevert", true).put("progressDeadline", "90s");
        d.putObject("backoff").put("initial", "500ms").put("max", "5s").put("crashLoopLimit", 10);
        return d.toString();
    }

    private JsonNode api(String method, String path, String body) throws Exception {
        HttpResponse<String> r = send(method, path, body);
        assertThat(r.statusCode()).as("%s %s: %s", method, path, r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private int status(String method, String path) throws Exception {
        return send(method, path, null).statusCode();
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(services.url() + path)).timeout(Duration.ofSeconds(40))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private List<JsonNode> instances() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        api("GET", "/v1/services/web", null).get("instanceList").forEach(out::add);
        return out;
    }

    private List<String> endpoints() throws Exception {
        List<String> out = new ArrayList<>();
        api("GET", "/v1/services/web/endpoints", null).get("endpoints").forEach(e -> out.add(e.get("address").asText()));
        return out;
    }

    /** What each healthy instance answers on / (its VERSION). */
    private List<String> served() throws Exception {
        List<String> out = new ArrayList<>();
        for (String address : endpoints()) {
            out.add(http.send(HttpRequest.newBuilder(URI.create("http://" + address + "/")).timeout(Duration.ofSeconds(5))
                    .build(), HttpResponse.BodyHandlers.ofString()).body());
        }
        return out;
    }

    /** Waits until exactly {@code n} instances exist, all healthy, serving {@code label}, with no deployment running. */
    private void awaitSettled(int n, String label) {
        await("web settled at " + n + " x " + label).atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    JsonNode s = api("GET", "/v1/services/web", null);
                    return !s.has("deployment") && s.get("instanceList").size() == n && s.get("healthy").asInt() == n
                            && served().stream().allMatch(label::equals);
                });
    }

    private void awaitInstance(Predicate<JsonNode> p, String what) {
        await(what).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> instances().stream().anyMatch(p));
    }

    /** Counts healthy endpoints every 50 ms while running; remembers the lowest count. */
    private final class HealthyPoller implements AutoCloseable {
        final AtomicInteger lowest = new AtomicInteger(Integer.MAX_VALUE);
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread thread = new Thread(() -> {
            while (running.get()) {
                try {
                    lowest.accumulateAndGet(endpoints().size(), Math::min);
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    // A request cut by the test's own timeout counts as nothing seen.
                }
            }
        }, "healthy-poller");

        HealthyPoller() {
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(10_000);
        }
    }

    @Test
    @Timeout(300)
    void servicesDeployScaleCanaryRollBackAndSurviveFailovers() throws Exception {
        // Deploy 3 instances; each gets a port from its offer, passed as PORT0, and checked by its agent.
        JsonNode created = api("POST", "/v1/services", web("v1", 3, "/health", 0));
        assertThat(created.get("action").asText()).isEqualTo("create");
        awaitSettled(3, "v1");
        assertThat(instances()).allMatch(i -> i.get("ports").size() == 1);

        // An instance crashes: it is replaced.
        String victim = endpoints().get(0);
        List<String> before = instances().stream().map(i -> i.get("id").asText()).toList();
        try {
            http.send(HttpRequest.newBuilder(URI.create("http://" + victim + "/crash")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException expected) {
            // The process exits before it answers.
        }
        awaitInstance(i -> !before.contains(i.get("id").asText()), "a replacement instance");
        awaitSettled(3, "v1");

        // Scale to 5 and back to 2.
        api("POST", "/v1/services/web/scale", "{\"instances\":5}");
        awaitSettled(5, "v1");
        api("POST", "/v1/services/web/scale", "{\"instances\":2}");
        awaitSettled(2, "v1");

        try (HealthyPoller poller = new HealthyPoller()) {
            // v2 as a canary of 1 beside the old instances, then promoted: every instance is v2.
            JsonNode update = api("POST", "/v1/services", web("v2", 3, "/health", 1));
            assertThat(update.get("version").asInt()).isEqualTo(2);
            await("canary waiting for promotion").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .until(() -> api("GET", "/v1/services/web", null).path("deployment").path("state").asText()
                            .equals("WAITING_PROMOTION"));
            assertThat(served()).containsOnly("v1", "v2").contains("v2");
            api("POST", "/v1/services/web/promote", "");
            awaitSettled(3, "v2");

            // v3 fails its health check: rolled back to v2 by itself, never below minHealthy meanwhile.
            String plan = api("POST", "/v1/services?plan=true", web("v3", 3, "/broken", 0)).get("plan").asText();
            assertThat(plan).contains("from version 2 to 3").contains("keeping at least 2 healthy");
            api("POST", "/v1/services", web("v3", 3, "/broken", 0));
            awaitInstance(i -> i.get("version").asInt() == 3, "a v3 instance");
            await("v3 rolled back").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .until(() -> api("GET", "/v1/deployments", null).toString().contains("ROLLED_BACK"));
            awaitSettled(3, "v2");
            assertThat(api("GET", "/v1/services/web", null).get("version").asInt()).isEqualTo(2);
            assertThat(poller.lowest.get()).as("healthy instances seen at the worst moment").isGreaterThanOrEqualTo(MIN_HEALTHY);
        }

        // The services daemon dies mid-deploy: a new one takes over the framework and finishes it.
        api("POST", "/v1/services", web("v4", 3, "/health", 0));
        awaitInstance(i -> i.get("version").asInt() == 4, "a v4 instance");
        services.close();
        services = daemon();
        awaitSettled(3, "v4");

        // The leading master dies mid-deploy: the deploy goes on with the next leader.
        api("POST", "/v1/services", web("v5", 3, "/health", 0));
        awaitInstance(i -> i.get("version").asInt() == 5, "a v5 instance");
        Master leader = masters.stream().filter(Master::isLeading).findFirst().orElseThrow();
        leader.faults().expireZkSession();
        leader.close();
        await("another master leads").atMost(Duration.ofSeconds(60))
                .until(() -> masters.stream().anyMatch(m -> m != leader && m.isLeading()));
        awaitSettled(3, "v5");
    }
}
