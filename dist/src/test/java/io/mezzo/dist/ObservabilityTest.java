package io.mezzo.dist;

import static io.mezzo.testkit.Protos.shellTask;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.agent.Agent;
import io.mezzo.dist.Cluster.Framework;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.testkit.PrometheusText;
import io.mezzo.testkit.Timeouts;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an SRE reads from a running cluster: both daemons' {@code /metrics} accepted by a strict
 * Prometheus text parser with the metrics the operations guide lists, the master's {@code /tasks}
 * filters and pages, and a task's output read through the agent's files API, confined to the
 * sandboxes. One real cluster in this JVM (real gRPC on 127.0.0.1, a real task process).
 */
class ObservabilityTest {

    @TempDir
    Path work;

    private final HttpClient http = HttpClient.newHttpClient();
    private Cluster cluster;
    private Agent agent;

    @BeforeEach
    void start() throws Exception {
        cluster = new Cluster(work);
        agent = cluster.agent("cpus:2;mem:1024;disk:1024");
    }

    @AfterEach
    void stop() throws Exception {
        cluster.close();
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String master(String path) {
        return "http://127.0.0.1:" + cluster.master.httpPort() + path;
    }

    private String agentUrl(String path) {
        return "http://127.0.0.1:" + agent.httpPort() + path;
    }

    private static String q(String v) {
        return URLEncoder.encode(v, StandardCharsets.UTF_8);
    }

    @Test
    void bothDaemonsExposeParseableMetricsAndTheAgentServesATasksOutput() throws Exception {
        Framework fw = cluster.framework(Cluster.frameworkInfo("obs").build());
        Offer offer = fw.takeOffer(agent.agentId().orElseThrow().value());
        fw.driver.launch(offer.getId(), List.of(shellTask("talker", offer, "echo hello-from-the-task; sleep 300")));
        await().atMost(Timeouts.PROCESS).until(() -> fw.nextUpdate("talker").getState() == TaskState.TASK_RUNNING);
        cluster.settle();

        // The master: every family has HELP, the parser accepts the text, and the counts are right.
        HttpResponse<String> scrape = get(master("/metrics"));
        assertThat(scrape.statusCode()).isEqualTo(200);
        assertThat(scrape.headers().firstValue("content-type").orElse("")).startsWith("text/plain; version=0.0.4");
        Map<String, PrometheusText.Family> m = PrometheusText.parse(scrape.body());
        assertThat(m.keySet()).contains("mezzo_master_resources", "mezzo_master_role_resources", "mezzo_master_agents",
                "mezzo_master_frameworks", "mezzo_master_tasks", "mezzo_master_task_transitions_total",
                "mezzo_master_offers_total", "mezzo_master_allocation_cycle_seconds", "mezzo_master_offers_per_cycle",
                "mezzo_master_event_queue_depth", "mezzo_master_event_queue_seconds", "mezzo_master_event_run_seconds",
                "mezzo_master_registry_write_seconds", "mezzo_master_registry_write_failures_total", "mezzo_master_leader",
                "mezzo_master_epoch", "mezzo_master_elections_total", "mezzo_master_grpc_calls_started_total",
                "mezzo_master_failover_first_offer_seconds", "mezzo_master_failover_agents_reregistered_seconds");
        assertThat(m.values()).allSatisfy(f -> assertThat(f.help()).as(f.name()).isNotBlank());
        assertThat(m.get("mezzo_master_agents").value("mezzo_master_agents", Map.of("state", "registered")))
                .contains(1.0);
        assertThat(m.get("mezzo_master_tasks").value("mezzo_master_tasks", Map.of("state", "TASK_RUNNING")))
                .contains(1.0);
        assertThat(m.get("mezzo_master_resources").value("mezzo_master_resources",
                Map.of("kind", "total", "resource", "cpus"))).contains(2.0);
        assertThat(m.get("mezzo_master_offers_total").value("mezzo_master_offers_total", Map.of("outcome", "accepted")))
                .contains(1.0);
        assertThat(m.get("mezzo_master_task_transitions_total").value("mezzo_master_task_transitions_total",
                Map.of("state", "TASK_RUNNING", "reason", "REASON_UNSPECIFIED"))).contains(1.0);
        assertThat(m.get("mezzo_master_leader").value("mezzo_master_leader", Map.of())).contains(1.0);
        assertThat(m.get("mezzo_master_grpc_calls_started_total").samples())
                .anySatisfy(s -> assertThat(s.labels()).containsEntry("service", "mezzo.v1.Scheduler"));

        // The agent: its own families, a launch counted, the running task's usage labelled by id.
        HttpResponse<String> agentScrape = get(agentUrl("/metrics"));
        assertThat(agentScrape.statusCode()).isEqualTo(200);
        Map<String, PrometheusText.Family> a = PrometheusText.parse(agentScrape.body());
        assertThat(a.keySet()).contains("mezzo_agent_task_transitions_total", "mezzo_agent_task_kills_total",
                "mezzo_agent_status_updates_pending", "mezzo_agent_status_update_retries_total",
                "mezzo_agent_checkpoint_write_seconds", "mezzo_agent_fetcher_cache_hits_total",
                "mezzo_agent_fetcher_cache_misses_total", "mezzo_agent_fetcher_bytes_total", "mezzo_agent_sandbox_gc_removed_total");
        assertThat(a.values()).allSatisfy(f -> assertThat(f.help()).as(f.name()).isNotBlank());
        assertThat(a.get("mezzo_agent_task_transitions_total").value("mezzo_agent_task_transitions_total",
                Map.of("state", "TASK_STARTING", "reason", "REASON_UNSPECIFIED"))).contains(1.0);
        // Per-task usage appears with the first usage sample (every second here).
        await().atMost(Timeouts.PROCESS).untilAsserted(() -> {
            Map<String, PrometheusText.Family> usage = PrometheusText.parse(get(agentUrl("/metrics")).body());
            for (String name : List.of("mezzo_agent_task_cpu_seconds", "mezzo_agent_task_memory_bytes",
                    "mezzo_agent_task_disk_bytes")) {
                assertThat(usage).containsKey(name);
                assertThat(usage.get(name).samples()).anySatisfy(s -> assertThat(s.labels())
                        .containsEntry("task", "talker").containsEntry("framework", fw.frameworkId.getValue()));
            }
        });

        // /tasks filters and pages; a state filter that matches nothing returns nothing.
        assertThat(get(master("/tasks?state=running&agent=" + q(agent.agentId().orElseThrow().value()))).body())
                .contains("\"talker\"");
        assertThat(get(master("/tasks?state=finished")).body()).doesNotContain("\"talker\"");
        assertThat(get(master("/tasks?offset=1")).body()).doesNotContain("\"talker\"");
        assertThat(get(master("/tasks?state=bogus")).statusCode()).isEqualTo(400);

        // The task's output through the agent: find the sandbox, read stdout, and nothing outside.
        String agentsJson = get(master("/agents")).body();
        assertThat(agentsJson).contains("\"http_address\": \"127.0.0.1:" + agent.httpPort() + "\"");
        HttpResponse<String> sandbox = get(agentUrl("/files/sandbox?task=talker"));
        assertThat(sandbox.statusCode()).isEqualTo(200);
        String path = sandbox.body().replaceAll("(?s).*\"path\":\"([^\"]+)\".*", "$1");
        await().atMost(Timeouts.PROCESS).untilAsserted(() -> assertThat(
                get(agentUrl("/files/read?path=" + q(path + "/stdout"))).body()).contains("hello-from-the-task"));
        HttpResponse<String> tail = get(agentUrl("/files/read?offset=-6&path=" + q(path + "/stdout")));
        assertThat(tail.body()).isEqualTo("-task\n");
        assertThat(tail.headers().firstValue("X-Mezzo-File-Size")).contains(Long.toString(
                Files.size(agent.config().workDir().resolve("agents").resolve(path).resolve("stdout"))));
        assertThat(get(agentUrl("/files/browse?path=" + q(path))).body()).contains("\"name\":\"stdout\"");
        assertThat(get(agentUrl("/files/download?path=" + q(path + "/stdout"))).body())
                .contains("hello-from-the-task");
        assertThat(get(agentUrl("/files/read?path=" + q("../meta"))).statusCode()).isEqualTo(400);
        assertThat(get(agentUrl("/files/read?path=" + q("/etc/passwd"))).statusCode()).isEqualTo(400);

        assertTheShippedDashboardOnlyQueriesExportedMetrics();
    }

    /** Every mezzo_* name the Grafana dashboard in the distribution queries is exported by a daemon. */
    private void assertTheShippedDashboardOnlyQueriesExportedMetrics() throws Exception {
        java.util.Set<String> exported = new java.util.HashSet<>();
        for (String body : List.of(get(master("/metrics")).body(), get(agentUrl("/metrics")).body())) {
            PrometheusText.parse(body).values().forEach(f -> {
                exported.add(f.name());
                f.samples().forEach(s -> exported.add(s.name()));
            });
        }
        // Labelled counters appear once observed: no gRPC call has completed and no kill happened yet.
        exported.addAll(List.of("mezzo_master_grpc_calls_total"));
        String dashboard = Files.readString(Path.of("src/main/dist/conf/monitoring/grafana-mezzo.json"));
        java.util.regex.Matcher names = java.util.regex.Pattern.compile("mezzo_[a-z_]+").matcher(dashboard);
        java.util.Set<String> queried = new java.util.TreeSet<>();
        while (names.find()) {
            queried.add(names.group());
        }
        assertThat(queried).hasSizeGreaterThan(20);
        assertThat(exported).containsAll(queried);
    }

    /** Runs the mezzo command line in this JVM; returns the exit code and what it printed. */
    private static String mezzo(String... args) {
        java.io.PrintStream out = System.out;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            int code = io.mezzo.dist.cli.MezzoCommand.execute(args, Map.of());
            // The daemons of this JVM log to the same stdout: keep only what the command printed.
            return code + ":" + captured.toString(StandardCharsets.UTF_8)
                    .replaceAll("(?m)^[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} [A-Z]+ +\\[.*\n", "");
        } finally {
            System.setOut(out);
        }
    }

    @Test
    void taskLogFollowsATaskToItsEndAndEventsShowIt() throws Exception {
        Framework fw = cluster.framework(Cluster.frameworkInfo("logs").build());
        Offer offer = fw.takeOffer(agent.agentId().orElseThrow().value());
        // The task outlives the first read: -f must keep reading until it has ended.
        Path gate = work.resolve("gate");
        fw.driver.launch(offer.getId(), List.of(shellTask("chatty", offer,
                "echo one; echo two >&2; while [ ! -e " + gate + " ]; do sleep 0.1; done; echo three")));
        await().atMost(Timeouts.PROCESS).until(() -> fw.nextUpdate("chatty").getState() == TaskState.TASK_RUNNING);
        cluster.settle();
        String master = cluster.masterAddress();

        java.util.concurrent.CompletableFuture<String> followed = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> mezzo("task", "log", "-f", "--master", master, "chatty"));
        await().atMost(Timeouts.PROCESS).until(() -> Files.readString(
                agent.config().workDir().resolve("agents").resolve(
                        get(agentUrl("/files/sandbox?task=chatty")).body().replaceAll("(?s).*\"path\":\"([^\"]+)\".*", "$1"))
                        .resolve("stdout")).contains("one"));
        Files.writeString(gate, "go");
        assertThat(followed.get(Timeouts.PROCESS.toSeconds(), java.util.concurrent.TimeUnit.SECONDS))
                .isEqualTo("0:one\nthree\n");

        assertThat(mezzo("task", "log", "--stderr", "--master", master, "chatty")).isEqualTo("0:two\n");
        assertThat(mezzo("task", "log", "--tail", "1", "--master", master, "chatty")).isEqualTo("0:three\n");
        assertThat(mezzo("task", "log", "--master", master, "nobody")).startsWith("1:");

        cluster.settle();
        String events = mezzo("events", "--master", master);
        assertThat(events).startsWith("0:").contains(" SUBSCRIBED ").contains(" AGENT agent=")
                .contains(" FRAMEWORK framework=" + fw.frameworkId.getValue() + " name=logs state=CONNECTED");
        String json = mezzo("events", "--json", "--master", master);
        assertThat(json).startsWith("0:{\"type\":\"SUBSCRIBED\"");
    }

    @Test
    void healthEndpointsAnswerOnBothDaemons() throws Exception {
        assertThat(get(master("/health/live")).statusCode()).isEqualTo(200);
        HttpResponse<String> ready = get(master("/health/ready"));
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).isEqualTo("ready: leading\n");
        assertThat(get(master("/health")).body()).contains("\"healthy\": true", "\"live\": true", "\"ready\": true");
        assertThat(get(agentUrl("/health/live")).statusCode()).isEqualTo(200);
        // The leader's own /leader says when it was elected, in seconds and ISO-8601.
        assertThat(get(master("/leader")).body()).contains("\"elected_time_iso\": \"").doesNotContain("E9");
    }
}
