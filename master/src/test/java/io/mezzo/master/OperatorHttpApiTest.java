package io.mezzo.master;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mezzo.common.security.Credential;
import io.mezzo.common.security.CredentialsFile;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.GetAgentsRequest;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OperatorEvent;
import io.mezzo.testkit.FakeAgent;
import io.mezzo.testkit.FakeScheduler;
import io.mezzo.testkit.Protos;
import io.mezzo.testkit.Timeouts;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The web UI's HTTP side on a real master over loopback: the page and its files, the overview,
 * the server-sent-events stream (framing, live events, a slow client dropped), the actions (the
 * operator service's checks and answers as 4xx JSON, a drain that takes effect) and the task
 * output proxy's validation.
 */
@Timeout(60)
class OperatorHttpApiTest {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(5)).build();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private MasterHarness h;

    @AfterEach
    void stop() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        if (h != null) {
            h.close();
        }
    }

    private String url(String path) {
        return "http://127.0.0.1:" + h.master.httpPort() + path;
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url(path))).timeout(Timeouts.WAIT).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return post(path, body, null);
    }

    private HttpResponse<String> post(String path, String body, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).timeout(Timeouts.WAIT)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonObject json(HttpResponse<String> r) {
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    private AgentView.State agentState(String id) {
        return h.operator().getAgents(GetAgentsRequest.getDefaultInstance()).getAgentsList().stream()
                .filter(a -> a.getAgentInfo().getId().getValue().equals(id)).findFirst().orElseThrow().getState();
    }

    @Test
    void servesTheUiAndAnOverviewThatMatchesTheState() throws Exception {
        h = new MasterHarness();
        h.agent("h1", "cpus:2;mem:1536;disk:1024");
        h.settle();

        HttpResponse<String> page = get("/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type").orElse("")).startsWith("text/html");
        assertThat(page.headers().firstValue("content-security-policy").orElse("")).contains("default-src 'self'");
        assertThat(page.body()).contains("ui/app.js").contains("ui/app.css");
        assertThat(get("/ui/app.js").body()).contains("EventSource('api/v1/events')");
        assertThat(get("/ui/app.css").headers().firstValue("content-type").orElse("")).startsWith("text/css");

        JsonObject overview = json(get("/api/v1/overview"));
        GetStateResponse state = h.operator().getState(io.mezzo.proto.v1.GetStateRequest.getDefaultInstance());
        assertThat(overview.get("agents").getAsInt()).isEqualTo(state.getAgentsCount()).isEqualTo(1);
        assertThat(overview.getAsJsonObject("agents_by_state").get("REGISTERED").getAsInt()).isEqualTo(1);
        assertThat(overview.get("leading").getAsBoolean()).isTrue();
        assertThat(overview.getAsJsonObject("master_info").get("id").getAsString())
                .isEqualTo(state.getMasterInfo().getId());
        assertThat(overview.getAsJsonArray("total_resources")).anySatisfy(r -> {
            assertThat(r.getAsJsonObject().get("name").getAsString()).isEqualTo("mem");
            assertThat(r.getAsJsonObject().getAsJsonObject("scalar").get("milli").getAsString()).isEqualTo("1536000");
        });
        assertThat(json(get("/roles")).has("roles")).isTrue();

        HttpResponse<String> missing = get("/api/v1/nothing");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(json(missing).get("error").getAsString()).contains("/api/v1/nothing");
        assertThat(get("/ui/other.js").statusCode()).isEqualTo(404);
    }

    @Test
    void theEventStreamFramesSubscribedThenLiveChanges() throws Exception {
        h = new MasterHarness();
        h.settle();
        HttpResponse<InputStream> stream = http.send(HttpRequest.newBuilder(URI.create(url("/api/v1/events"))).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        closeables.add(stream.body());
        assertThat(stream.statusCode()).isEqualTo(200);
        assertThat(stream.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    lines.add(line);
                }
            } catch (java.io.IOException e) {
                // The test closed the stream.
            }
        }, "sse-reader");
        reader.setDaemon(true);
        reader.start();

        assertThat(lines.poll(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("event: SUBSCRIBED");
        String subscribed = lines.poll(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(subscribed).startsWith("data: {").contains("\"master_info\"").doesNotContain("\n");
        assertThat(lines.poll(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS)).isEmpty();

        h.agent("live-host", "cpus:1;mem:256");
        h.settle();
        String event = null;
        long deadline = System.nanoTime() + Timeouts.WAIT.toNanos();
        while (event == null && System.nanoTime() < deadline) {
            String line = lines.poll(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
            if ("event: AGENT_ADDED".equals(line)) {
                event = lines.poll(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
        assertThat(event).startsWith("data: ").contains("\"hostname\":\"live-host\"").contains("\"type\":\"AGENT_ADDED\"");
    }

    @Test
    void framesAreOneDataLineAndHeartbeatsAreComments() {
        OperatorEvent beat = OperatorEvent.newBuilder().setType(OperatorEvent.Type.HEARTBEAT).setTime(12.5).build();
        assertThat(EventStreamSubscriber.frame(beat)).isEqualTo(": heartbeat 12.5\n\n");
        OperatorEvent subscribed = OperatorEvent.newBuilder().setType(OperatorEvent.Type.SUBSCRIBED)
                .setSubscribed(OperatorEvent.Subscribed.newBuilder().setState(GetStateResponse.newBuilder()
                        .setMasterInfo(MasterInfo.newBuilder().setId("m-1"))
                        .addAgents(AgentView.newBuilder().setAgentInfo(AgentInfo.newBuilder().setHostname("not-pushed")))))
                .build();
        String frame = EventStreamSubscriber.frame(subscribed);
        assertThat(frame).startsWith("event: SUBSCRIBED\ndata: {").endsWith("}\n\n").contains("\"m-1\"")
                .doesNotContain("not-pushed");
        assertThat(frame.split("\n")).hasSize(2);
    }

    @Test
    void aClientThatDoesNotReadIsDroppedOnceItsQueueIsFull() {
        // A socket that never drains: writes stay pending, as for a browser that stopped reading.
        List<ChannelPromise> stuck = new ArrayList<>();
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                ReferenceCountUtil.release(msg);
                stuck.add(promise);
            }
        });
        AtomicInteger gone = new AtomicInteger();
        EventStreamSubscriber s = new EventStreamSubscriber(channel, 3, x -> gone.incrementAndGet());
        OperatorEvent e = OperatorEvent.newBuilder().setType(OperatorEvent.Type.HEARTBEAT).build();
        assertThat(s.send(e)).isTrue();
        assertThat(s.send(e)).isTrue();
        assertThat(s.send(e)).isTrue();
        assertThat(s.queued()).isEqualTo(3);
        assertThat(s.send(e)).as("the fourth event overflows").isFalse();
        assertThat(s.isClosed()).isTrue();
        assertThat(channel.isOpen()).isFalse();
        assertThat(gone).hasValue(1);
        assertThat(s.send(e)).isFalse();
        assertThat(gone).hasValue(1);
    }

    @Test
    void actionsRunTheOperatorServiceAndAnswerJsonErrors() throws Exception {
        h = new MasterHarness();
        FakeAgent agent = h.agent("h1", "cpus:2;mem:1024");
        String agentId = agent.agentId.getValue();
        h.settle();

        // Edge validation: content type, ids, numbers, JSON.
        HttpResponse<String> form = http.send(HttpRequest.newBuilder(URI.create(url("/api/v1/agents/" + agentId + "/drain")))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(""))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(form.statusCode()).isEqualTo(400);
        assertThat(json(form).get("error").getAsString()).contains("application/json");
        assertThat(post("/api/v1/agents/bad%20id/drain", "{}").statusCode()).isEqualTo(400);
        HttpResponse<String> negative = post("/api/v1/agents/" + agentId + "/drain", "{\"max_grace_period_seconds\": -1}");
        assertThat(negative.statusCode()).isEqualTo(400);
        assertThat(json(negative).get("error").getAsString()).contains("max_grace_period_seconds");
        assertThat(post("/api/v1/agents/" + agentId + "/drain", "[1]").statusCode()).isEqualTo(400);
        assertThat(post("/api/v1/agents/" + agentId + "/drain", "{\"mark_gone\": \"yes\"}").statusCode()).isEqualTo(400);
        HttpResponse<String> crossSite = http.send(HttpRequest.newBuilder(URI.create(url("/api/v1/agents/" + agentId
                        + "/drain"))).header("Content-Type", "application/json").header("Origin", "http://evil.example")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(crossSite.statusCode()).isEqualTo(403);
        assertThat(agentState(agentId)).as("nothing applied by refused calls").isEqualTo(AgentView.State.REGISTERED);

        // The service's own answers: unknown objects are 404 with the gRPC code.
        HttpResponse<String> unknown = post("/api/v1/agents/no-such-agent/drain", "{}");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(json(unknown).get("code").getAsString()).isEqualTo("NOT_FOUND");
        assertThat(post("/api/v1/frameworks/no-such-framework/teardown", "{}").statusCode()).isEqualTo(404);
        assertThat(post("/api/v1/tasks/no-such-framework/t1/kill", "{}").statusCode()).isEqualTo(404);
        assertThat(post("/api/v1/agents/" + agentId + "/nothing", "{}").statusCode()).isEqualTo(404);

        // A drain that works, then a reactivation.
        HttpResponse<String> drained = post("/api/v1/agents/" + agentId + "/drain", "{\"max_grace_period_seconds\": 5}");
        assertThat(drained.statusCode()).as(drained.body()).isEqualTo(200);
        assertThat(json(drained).get("ok").getAsBoolean()).isTrue();
        assertThat(agentState(agentId)).isIn(AgentView.State.DRAINING, AgentView.State.DRAINED);
        HttpResponse<String> reactivated = post("/api/v1/agents/" + agentId + "/reactivate", "");
        assertThat(reactivated.statusCode()).as(reactivated.body()).isEqualTo(200);
        assertThat(agentState(agentId)).isEqualTo(AgentView.State.REGISTERED);
    }

    @Test
    void theOutputProxyValidatesAndKillAndTeardownTakeEffect() throws Exception {
        h = new MasterHarness();
        FakeAgent agent = h.agent("h1", "cpus:2;mem:1024");
        FakeScheduler fw = h.scheduler(Protos.framework("ui").build());
        Offer offer = fw.next(Event.Type.OFFERS).getOffers().getOffers(0);
        fw.call(Protos.launch(offer, Protos.task("t1", offer, "cpus:0.1;mem:32").setCommand(Protos.shell("true")).build()));
        agent.next(io.mezzo.proto.v1.MasterMessage.Type.RUN_TASK);
        h.settle();
        String base = "/api/v1/tasks/" + fw.frameworkId.getValue() + "/t1";

        assertThat(json(get(base)).getAsJsonObject("task_id").get("value").getAsString()).isEqualTo("t1");
        assertThat(get(base + "/output?file=/etc/passwd").statusCode()).isEqualTo(400);
        assertThat(get(base + "/output?length=999999999").statusCode()).isEqualTo(400);
        assertThat(get(base + "/output?offset=-99999999").statusCode()).isEqualTo(400);
        assertThat(get(base + "/output?offset=x").statusCode()).isEqualTo(400);
        assertThat(get("/api/v1/tasks/" + fw.frameworkId.getValue() + "/bad%20id/output").statusCode()).isEqualTo(400);
        assertThat(get("/api/v1/tasks/" + fw.frameworkId.getValue() + "/..%2Fmeta/output").statusCode()).isEqualTo(404);
        assertThat(get("/api/v1/tasks/" + fw.frameworkId.getValue() + "/no-such-task/output").statusCode()).isEqualTo(404);
        // The fake agent serves no HTTP: the master says so instead of trying.
        HttpResponse<String> noFiles = get(base + "/output");
        assertThat(noFiles.statusCode()).isEqualTo(404);
        assertThat(json(noFiles).get("error").getAsString()).contains("serves no HTTP");

        // Kill and teardown reach the agent and the registry as the gRPC calls do.
        HttpResponse<String> kill = post(base + "/kill", "{}");
        assertThat(kill.statusCode()).as(kill.body()).isEqualTo(200);
        assertThat(agent.next(io.mezzo.proto.v1.MasterMessage.Type.KILL_TASK).getKillTask().getTaskId().getValue())
                .isEqualTo("t1");
        HttpResponse<String> teardown = post("/api/v1/frameworks/" + fw.frameworkId.getValue() + "/teardown", "{}");
        assertThat(teardown.statusCode()).as(teardown.body()).isEqualTo(200);
        assertThat(h.operator().getFrameworks(io.mezzo.proto.v1.GetFrameworksRequest.getDefaultInstance())
                .getFrameworksList()).isEmpty();
    }

    @Test
    void actionsNeedCredentialsWhenOperatorsMustAuthenticate() throws Exception {
        Credential ops = new Credential("ops", "ops-secret");
        h = new MasterHarness(b -> b.credentials(CredentialsFile.of(List.of(ops))).authenticateOperators(true));
        h.settle();
        // The views stay open (--authenticate_http is off), the actions do not.
        assertThat(get("/api/v1/overview").statusCode()).isEqualTo(200);
        HttpResponse<String> anonymous = post("/api/v1/agents/a1/drain", "{}");
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("www-authenticate").orElse("")).startsWith("Basic");
        String wrong = "Basic " + Base64.getEncoder().encodeToString("ops:nope".getBytes(StandardCharsets.UTF_8));
        assertThat(post("/api/v1/agents/a1/drain", "{}", wrong).statusCode()).isEqualTo(401);
        String right = "Basic " + Base64.getEncoder().encodeToString("ops:ops-secret".getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> authenticated = post("/api/v1/agents/a1/drain", "{}", right);
        assertThat(authenticated.statusCode()).as("past authentication, the service answers").isEqualTo(404);
    }
}
