package io.mezzo.master;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.proto.v1.GetHealthRequest;
import io.mezzo.proto.v1.GetHealthResponse;
import io.mezzo.proto.v1.GetStateRequest;
import io.mezzo.testkit.Timeouts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Health that means something: a wedged event loop shows as not live on {@code /health/live}, in
 * {@code /health} and in GetHealth, while the read-only views, served from the published snapshot,
 * keep answering; the master is live again once the loop moves.
 */
class MasterHealthTest {

    private final HttpClient http = HttpClient.newHttpClient();
    private MasterHarness h;

    @BeforeEach
    void start() throws Exception {
        h = new MasterHarness();
        h.settle();
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + h.master.httpPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aWedgedLoopIsNotLiveAndTheViewsStillAnswer() throws Exception {
        assertThat(get("/health/live").statusCode()).isEqualTo(200);
        assertThat(get("/health/ready").body()).isEqualTo("ready: leading\n");

        try (AutoCloseable wedge = h.master.faults().wedgeLoop()) {
            HttpResponse<String> live = get("/health/live");
            assertThat(live.statusCode()).isEqualTo(503);
            assertThat(live.body()).startsWith("not live: the event loop did not answer within");
            GetHealthResponse health = h.operatorAsIs().getHealth(GetHealthRequest.getDefaultInstance());
            assertThat(health.getLive()).isFalse();
            assertThat(health.getHealthy()).isFalse();
            assertThat(health.getReady()).as("readiness is about leadership and ZooKeeper").isTrue();
            // The views never touch the loop: they answer from the last published snapshot.
            assertThat(h.operatorAsIs().getState(GetStateRequest.getDefaultInstance()).getMasterInfo().getEpoch())
                    .isEqualTo(h.master.info().getEpoch());
            assertThat(get("/state").statusCode()).isEqualTo(200);
        }
        await().atMost(Timeouts.WAIT).until(() -> get("/health/live").statusCode() == 200);
        assertThat(h.operator().getHealth(GetHealthRequest.getDefaultInstance()).getHealthy()).isTrue();
    }
}
