package io.mezzo.services;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.mezzo.testkit.RecordingFaultHandler;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two services daemons on a real ZooKeeper: one leads, the other redirects to it; the state survives
 * the leader, and the HTTP API answers errors as JSON. No master: the daemons keep trying to reach
 * one, which the API does not need.
 */
@Timeout(60)
class ServicesDaemonTest {

    private TestingServer zk;
    private final List<ServicesDaemon> daemons = new ArrayList<>();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeEach
    void start() throws Exception {
        zk = new TestingServer(true);
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = daemons.size() - 1; i >= 0; i--) {
            daemons.get(i).close();
        }
        zk.close();
        faults.assertNoFaults();
    }

    private ServicesDaemon daemon() throws Exception {
        ServicesDaemon d = new ServicesDaemon(ServicesConfig.builder().master("127.0.0.1:1")
                .zk("zk://" + zk.getConnectString() + "/mezzo").httpPort(0).faultHandler(faults).build());
        daemons.add(d);
        d.start();
        return d;
    }

    private HttpResponse<String> send(ServicesDaemon d, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(d.url() + path)).timeout(Duration.ofSeconds(30));
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return DefinitionJson.MAPPER.readTree(r.body());
    }

    @Test
    void aStandbyRedirectsAndTakesOverWithTheState() throws Exception {
        ServicesDaemon first = daemon();
        first.elected().get(30, TimeUnit.SECONDS);
        ServicesDaemon second = daemon();
        assertThat(second.isLeading()).isFalse();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> second.leaderUrl().equals(java.util.Optional.of(first.url())));

        HttpResponse<String> deployed = send(second, "POST", "/v1/services",
                "{\"id\":\"web\",\"cmd\":\"sleep 1000\",\"instances\":2,\"mem\":32}");
        assertThat(deployed.statusCode()).as(deployed.body()).isEqualTo(200);
        assertThat(json(deployed).get("action").asText()).isEqualTo("create");
        assertThat(deployed.uri().getPort()).as("followed the redirect to the leader").isEqualTo(first.httpPort());

        HttpResponse<String> plan = send(first, "POST", "/v1/services?plan=true",
                "{\"id\":\"web\",\"cmd\":\"sleep 2000\",\"instances\":2,\"mem\":32}");
        assertThat(json(plan).get("plan").asText()).contains("update web from version 1 to 2");

        first.close();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(second::isLeading);
        HttpResponse<String> shown = send(second, "GET", "/v1/services/web", null);
        assertThat(shown.statusCode()).isEqualTo(200);
        assertThat(json(shown).get("instances").asInt()).isEqualTo(2);
        assertThat(json(shown).get("version").asInt()).as("the plan changed nothing").isEqualTo(1);
        assertThat(json(shown).get("definition").get("cmd").asText()).isEqualTo("sleep 1000");
    }

    @Test
    void errorsAreJsonWithAReason() throws Exception {
        ServicesDaemon d = daemon();
        d.elected().get(30, TimeUnit.SECONDS);
        HttpResponse<String> unknown = send(d, "POST", "/v1/services", "{\"id\":\"web\",\"cmd\":\"x\",\"replicas\":2}");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(json(unknown).get("error").asText()).isEqualTo("invalid_definition");
        assertThat(json(unknown).get("message").asText()).contains("unknown field 'replicas'");
        HttpResponse<String> missing = send(d, "GET", "/v1/services/nope", null);
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(json(missing).get("message").asText()).isEqualTo("no service 'nope'");
        HttpResponse<String> badScale = send(d, "POST", "/v1/services/nope/scale", "{\"instances\":\"many\"}");
        assertThat(badScale.statusCode()).isEqualTo(400);
        send(d, "POST", "/v1/services", "{\"id\":\"web\",\"cmd\":\"x\",\"mem\":32}");
        HttpResponse<String> promote = send(d, "POST", "/v1/services/web/promote", "");
        assertThat(promote.statusCode()).isEqualTo(409);
        HttpResponse<String> scaled = send(d, "POST", "/v1/services/web/scale", "{\"instances\":4}");
        assertThat(scaled.statusCode()).isEqualTo(200);
        assertThat(json(send(d, "GET", "/v1/services", null)).get(0).get("instances").asInt()).isEqualTo(4);
        assertThat(send(d, "PUT", "/v1/services", "").statusCode()).isEqualTo(405);
        assertThat(send(d, "DELETE", "/v1/services/web", null).statusCode()).isEqualTo(200);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> send(d, "GET", "/v1/services/web", null).statusCode() == 404);
    }
}
