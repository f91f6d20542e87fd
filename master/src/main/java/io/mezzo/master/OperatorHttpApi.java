package io.mezzo.master;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.mezzo.common.validation.Ids;
import io.mezzo.master.auth.Acls;
import io.mezzo.master.auth.AuthContext;
import io.mezzo.master.auth.ViewFilter;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.DrainAgentRequest;
import io.mezzo.proto.v1.DurationInfo;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.GetAgentContainersRequest;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.KillTaskRequest;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.ReactivateAgentRequest;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TeardownFrameworkRequest;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web UI's side of the master's HTTP port: the single-page UI itself, the live event stream,
 * the operator actions and a task's output, next to the JSON views {@link HttpEndpoints} serves.
 *
 * <pre>
 *  GET  /, /ui/app.js, /ui/app.css                  the UI (classpath io/mezzo/master/ui/)
 *  GET  /roles                                      GetRoles, from the snapshot
 *  GET  /api/v1/overview                            leader, uptime, resource totals, counts by state
 *  GET  /api/v1/events                              text/event-stream of OperatorEvents
 *  GET  /api/v1/offers[?framework=F]                outstanding offers, as {"offers": [...]}
 *  GET  /api/v1/tasks/F/T                           one task
 *  GET  /api/v1/tasks/F/T/output?file=stdout|stderr&amp;offset=N&amp;length=M
 *                                                   the agent's /files/read of the task's sandbox, proxied
 *  GET  /api/v1/agents/A/containers                 GetAgentContainers (asked of the agent)
 *  POST /api/v1/agents/A/drain   {"max_grace_period_seconds": S, "mark_gone": false}
 *  POST /api/v1/agents/A/reactivate
 *  POST /api/v1/frameworks/F/teardown
 *  POST /api/v1/tasks/F/T/kill
 * </pre>
 *
 * <p>Invariants:
 *
 * <ol>
 *   <li>An action runs the {@link OperatorService} method of the same name, in a gRPC context
 *       holding the HTTP caller's principal and address: the same validation, ACL check, audit
 *       line and event on the master's loop as over gRPC. With {@code --authenticate_operators}
 *       an anonymous HTTP caller may not act, even if {@code --authenticate_http} is off.
 *   <li>An action is a POST with a JSON content type (and, when the browser says where the page
 *       came from, an {@code Origin} equal to this host): another site's page cannot make a
 *       browser holding the operator's credentials act.
 *   <li>Every input is checked here (ids, numbers, sizes) and refused with a 4xx JSON {@code
 *       {"error": reason, "code": ...}}; nothing runs on the master's loop except through the
 *       operator service; reads come from the published {@link StateSnapshot}.
 *   <li>Agent reads are bounded: at most {@link #MAX_OUTPUT_LENGTH} bytes per request, a 5 s
 *       connect and 10 s request timeout, two proxy threads.
 * </ol>
 *
 * <p>Owner: {@link HttpEndpoints}, which authenticates the caller and hands a request over. Runs
 * on the HTTP server's Netty thread; agent reads and action answers complete on other threads and
 * write to the channel (Netty queues the write).
 */
final class OperatorHttpApi implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(OperatorHttpApi.class);
    static final int MAX_OUTPUT_LENGTH = 64 * 1024;
    /** Longest drain grace period the UI may ask for: a day. */
    static final long MAX_GRACE_SECONDS = 86_400;
    private static final Duration ACTION_TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern TASK_PATH = Pattern.compile("/api/v1/tasks/([^/]+)/([^/]+)(/output|/kill)?");
    private static final Pattern AGENT_PATH = Pattern.compile("/api/v1/agents/([^/]+)/(containers|drain|reactivate)");
    private static final Pattern FRAMEWORK_PATH = Pattern.compile("/api/v1/frameworks/([^/]+)/teardown");
    private static final Map<String, String> STATIC = Map.of(
            "/", "index.html", "/index.html", "index.html", "/ui/app.js", "app.js", "/ui/app.css", "app.css");

    private final Supplier<StateSnapshot> snapshot;
    private final Leadership leadership;
    private final OperatorService operator;
    private final OperatorEvents events;
    private final Acls acls;
    private final boolean tls;
    private final boolean authenticateOperators;
    private final int eventQueueCapacity;
    private final ExecutorService proxyThreads;
    private final HttpClient agents;

    /**
     * @param tls whether this port serves HTTPS (redirects say so)
     * @param authenticateOperators whether actions need an authenticated principal (invariant 1)
     * @param eventQueueCapacity events an SSE client may leave unread before it is dropped
     */
    OperatorHttpApi(Supplier<StateSnapshot> snapshot, Leadership leadership, OperatorService operator,
            OperatorEvents events, Acls acls, boolean tls, boolean authenticateOperators, int eventQueueCapacity) {
        this.snapshot = snapshot;
        this.leadership = leadership;
        this.operator = operator;
        this.events = events;
        this.acls = acls;
        this.tls = tls;
        this.authenticateOperators = authenticateOperators;
        this.eventQueueCapacity = eventQueueCapacity;
        AtomicInteger n = new AtomicInteger();
        this.proxyThreads = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "master-http-proxy-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.agents = HttpClient.newBuilder().executor(proxyThreads).connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** Whether {@code path} is served here, for any method. */
    static boolean serves(String path) {
        return STATIC.containsKey(path) || path.equals("/roles") || path.startsWith("/api/v1/");
    }

    @Override
    public void close() {
        proxyThreads.shutdownNow();
    }

    /**
     * Answers a request for a path {@link #serves} (the caller authenticated it).
     *
     * @param principal the authenticated caller; null for anonymous
     */
    void handle(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder query, String principal) {
        String path = query.path();
        try {
            if (request.method().equals(HttpMethod.POST)) {
                post(ctx, request, path, principal);
            } else if (request.method().equals(HttpMethod.GET)) {
                get(ctx, request, query, path, principal);
            } else {
                error(ctx, request, HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET and POST are served");
            }
        } catch (BadRequest e) {
            LOG.info("Refused HTTP {} {} from {}: {}", request.method(), path, ctx.channel().remoteAddress(), e.getMessage());
            error(ctx, request, HttpResponseStatus.BAD_REQUEST, e.getMessage());
        }
    }

    private void get(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder query, String path,
            String principal) {
        if (redirected(ctx, request)) {
            return;
        }
        ViewFilter filter = new ViewFilter(acls, principal);
        String file = STATIC.get(path);
        if (file != null) {
            staticFile(ctx, request, file);
            return;
        }
        if (path.equals("/roles")) {
            json(ctx, request, snapshot.get().roles());
            return;
        }
        if (path.equals("/api/v1/overview")) {
            raw(ctx, request, HttpResponseStatus.OK, overview(snapshot.get(), filter).toString());
            return;
        }
        if (path.equals("/api/v1/events")) {
            events(ctx, request, filter);
            return;
        }
        if (path.equals("/api/v1/offers")) {
            String framework = param(query, "framework");
            if (framework != null) {
                id("framework", framework);
            }
            List<Offer> offers = filter.state(snapshot.get().state()).getOffersList().stream()
                    .filter(o -> framework == null || o.getFrameworkId().getValue().equals(framework)).toList();
            // The offers alone, in the shape of /state's "offers" field.
            json(ctx, request, GetStateResponse.newBuilder().addAllOffers(offers).build());
            return;
        }
        Matcher agent = AGENT_PATH.matcher(path);
        if (agent.matches() && agent.group(2).equals("containers")) {
            String id = id("agent", agent.group(1));
            this.<io.mezzo.proto.v1.GetContainersResponse>call(ctx, request, principal, (o, out) -> o.getAgentContainers(GetAgentContainersRequest.newBuilder()
                    .setAgentId(AgentID.newBuilder().setValue(id)).build(), out));
            return;
        }
        Matcher task = TASK_PATH.matcher(path);
        if (task.matches() && !"/kill".equals(task.group(3))) {
            String framework = id("framework", task.group(1));
            String taskId = id("task", task.group(2));
            OutputRead read = task.group(3) == null ? null : OutputRead.of(query);
            Optional<Task> found = findTask(filter, framework, taskId);
            if (found.isEmpty()) {
                error(ctx, request, HttpResponseStatus.NOT_FOUND, "no task " + taskId + " of framework " + framework
                        + " is known");
            } else if (task.group(3) == null) {
                json(ctx, request, found.get());
            } else {
                output(ctx, request, read, found.get());
            }
            return;
        }
        error(ctx, request, HttpResponseStatus.NOT_FOUND, "not found: " + path);
    }

    private void post(ChannelHandlerContext ctx, FullHttpRequest request, String path, String principal) {
        String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
        if (!type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            throw new BadRequest("an action is a POST with Content-Type: application/json");
        }
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        String host = request.headers().get(HttpHeaderNames.HOST);
        if (origin != null && (host == null || !origin.replaceFirst("^https?://", "").equalsIgnoreCase(host))) {
            LOG.warn("Refused HTTP POST {} from {}: origin {} is not this master ({})", path,
                    ctx.channel().remoteAddress(), origin, host);
            error(ctx, request, HttpResponseStatus.FORBIDDEN, "cross-origin actions are refused");
            return;
        }
        if (authenticateOperators && principal == null) {
            LOG.warn("Refused HTTP POST {} from {}: unauthenticated: --authenticate_operators is on", path,
                    ctx.channel().remoteAddress());
            FullHttpResponse denied = response(HttpResponseStatus.UNAUTHORIZED, errorJson(HttpResponseStatus.UNAUTHORIZED,
                    "authentication of operators is required (--authenticate_operators): present credentials"));
            denied.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Basic realm=\"mezzo\"");
            send(ctx, request, denied);
            return;
        }
        JsonObject body = body(request);
        Matcher agent = AGENT_PATH.matcher(path);
        if (agent.matches() && agent.group(2).equals("drain")) {
            String id = id("agent", agent.group(1));
            DrainAgentRequest.Builder drain = DrainAgentRequest.newBuilder().setAgentId(AgentID.newBuilder().setValue(id))
                    .setMarkGone(bool(body, "mark_gone"));
            if (body.has("max_grace_period_seconds") && !body.get("max_grace_period_seconds").isJsonNull()) {
                drain.setMaxGracePeriod(DurationInfo.newBuilder().setNanoseconds(
                        TimeUnit.MILLISECONDS.toNanos(graceMillis(body.get("max_grace_period_seconds")))));
            }
            this.<io.mezzo.proto.v1.DrainAgentResponse>call(ctx, request, principal, (o, out) -> o.drainAgent(drain.build(), out));
        } else if (agent.matches() && agent.group(2).equals("reactivate")) {
            String id = id("agent", agent.group(1));
            this.<io.mezzo.proto.v1.ReactivateAgentResponse>call(ctx, request, principal, (o, out) -> o.reactivateAgent(ReactivateAgentRequest.newBuilder()
                    .setAgentId(AgentID.newBuilder().setValue(id)).build(), out));
        } else if (FRAMEWORK_PATH.matcher(path).matches()) {
            Matcher m = FRAMEWORK_PATH.matcher(path);
            m.matches();
            String id = id("framework", m.group(1));
            this.<io.mezzo.proto.v1.TeardownFrameworkResponse>call(ctx, request, principal, (o, out) -> o.teardownFramework(TeardownFrameworkRequest.newBuilder()
                    .setFrameworkId(FrameworkID.newBuilder().setValue(id)).build(), out));
        } else if (TASK_PATH.matcher(path).matches()) {
            Matcher m = TASK_PATH.matcher(path);
            m.matches();
            if (!"/kill".equals(m.group(3))) {
                error(ctx, request, HttpResponseStatus.METHOD_NOT_ALLOWED, "POST " + path + " is not an action");
                return;
            }
            String framework = id("framework", m.group(1));
            String task = id("task", m.group(2));
            this.<io.mezzo.proto.v1.KillTaskResponse>call(ctx, request, principal, (o, out) -> o.killTask(KillTaskRequest.newBuilder()
                    .setFrameworkId(FrameworkID.newBuilder().setValue(framework))
                    .setTaskId(TaskID.newBuilder().setValue(task)).build(), out));
        } else {
            error(ctx, request, HttpResponseStatus.NOT_FOUND, "no action at " + path);
        }
    }

    /** The JSON body of an action: an object, or empty. */
    private static JsonObject body(FullHttpRequest request) {
        String text = request.content().toString(StandardCharsets.UTF_8).trim();
        if (text.isEmpty()) {
            return new JsonObject();
        }
        try {
            JsonElement e = JsonParser.parseString(text);
            if (!e.isJsonObject()) {
                throw new BadRequest("the body must be a JSON object");
            }
            return e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new BadRequest("the body is not JSON: " + e.getMessage());
        }
    }

    private static boolean bool(JsonObject body, String name) {
        JsonElement e = body.get(name);
        if (e == null || e.isJsonNull()) {
            return false;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
            throw new BadRequest(name + " must be true or false");
        }
        return e.getAsBoolean();
    }

    static long graceMillis(JsonElement e) {
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new BadRequest("max_grace_period_seconds must be a number");
        }
        double seconds = e.getAsDouble();
        if (!Double.isFinite(seconds) || seconds < 0 || seconds > MAX_GRACE_SECONDS) {
            throw new BadRequest("max_grace_period_seconds must be within 0-" + MAX_GRACE_SECONDS + ", got " + seconds);
        }
        return Math.round(seconds * 1000);
    }

    /** {@code value} if it is a valid id, else a 400. */
    static String id(String what, String value) {
        String decoded = QueryStringDecoder.decodeComponent(value);
        String error = Ids.validate(what + "_id", decoded);
        if (error != null) {
            throw new BadRequest(error);
        }
        return decoded;
    }

    /**
     * Runs an operator service method as the HTTP caller (invariant 1) and answers with its
     * outcome: the reply as JSON ({@code {"ok": true}} for an empty one), or the gRPC status as a
     * 4xx/5xx JSON error.
     */
    private <T extends Message> void call(ChannelHandlerContext ctx, FullHttpRequest request, String principal,
            BiConsumer<OperatorService, StreamObserver<T>> method) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Context context = Context.ROOT.withValue(AuthContext.PRINCIPAL, principal)
                .withValue(PeerInterceptor.PEER, peer(ctx));
        StreamObserver<T> observer = new StreamObserver<>() {
            private T value;

            @Override
            public void onNext(T v) {
                value = v;
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                result.complete(value);
            }
        };
        request.retain();
        result.orTimeout(ACTION_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).whenComplete((value, error) -> {
            try {
                if (error == null) {
                    if (value == null || value.equals(value.getDefaultInstanceForType())) {
                        raw(ctx, request, HttpResponseStatus.OK, "{\"ok\": true}");
                    } else {
                        json(ctx, request, value);
                    }
                } else {
                    Status s = Status.fromThrowable(error);
                    if (error instanceof java.util.concurrent.TimeoutException) {
                        s = Status.DEADLINE_EXCEEDED.withDescription("the master did not answer within "
                                + ACTION_TIMEOUT.toSeconds() + " s");
                    }
                    HttpResponseStatus http = httpStatus(s.getCode());
                    error(ctx, request, http, s.getDescription() == null ? s.getCode().name() : s.getDescription(),
                            s.getCode().name());
                }
            } finally {
                request.release();
            }
        });
        try {
            context.run(() -> method.accept(operator, observer));
        } catch (RuntimeException e) {
            result.completeExceptionally(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
        }
    }

    /** The HTTP status a gRPC code stands for. */
    static HttpResponseStatus httpStatus(Status.Code code) {
        return switch (code) {
            case INVALID_ARGUMENT, OUT_OF_RANGE -> HttpResponseStatus.BAD_REQUEST;
            case NOT_FOUND -> HttpResponseStatus.NOT_FOUND;
            case FAILED_PRECONDITION, ALREADY_EXISTS, ABORTED -> HttpResponseStatus.CONFLICT;
            case PERMISSION_DENIED -> HttpResponseStatus.FORBIDDEN;
            case UNAUTHENTICATED -> HttpResponseStatus.UNAUTHORIZED;
            case RESOURCE_EXHAUSTED -> HttpResponseStatus.TOO_MANY_REQUESTS;
            case UNAVAILABLE -> HttpResponseStatus.SERVICE_UNAVAILABLE;
            case DEADLINE_EXCEEDED -> HttpResponseStatus.GATEWAY_TIMEOUT;
            default -> HttpResponseStatus.INTERNAL_SERVER_ERROR;
        };
    }

    private static String peer(ChannelHandlerContext ctx) {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress inet
                ? inet.getAddress().getHostAddress() + ":" + inet.getPort()
                : String.valueOf(ctx.channel().remoteAddress());
    }

    /** The SSE stream: as Subscribe, refused while ACLs restrict views (the stream is not filtered). */
    private void events(ChannelHandlerContext ctx, FullHttpRequest request, ViewFilter filter) {
        if (!filter.passesAll()) {
            LOG.warn("Refused HTTP /api/v1/events from {}: permission denied: the stream shows the whole cluster",
                    ctx.channel().remoteAddress());
            error(ctx, request, HttpResponseStatus.FORBIDDEN,
                    "the event stream shows the whole cluster and is refused while --acls restrict views");
            return;
        }
        ctx.writeAndFlush(EventStreamSubscriber.head());
        EventStreamSubscriber subscriber = new EventStreamSubscriber(ctx.channel(), eventQueueCapacity, events::unsubscribe);
        events.subscribe(subscriber);
    }

    /** Leader, uptime, the cluster's resources and counts by state (what the overview page shows). */
    static JsonObject overview(StateSnapshot current, ViewFilter filter) {
        GetStateResponse state = filter.state(current.state());
        MasterInfo master = state.getMasterInfo();
        JsonObject o;
        try {
            o = JsonParser.parseString(OperatorJson.print(GetStateResponse.newBuilder()
                    .setMasterInfo(master)
                    .addAllTotalResources(state.getTotalResourcesList())
                    .addAllUsedResources(state.getUsedResourcesList())
                    .addAllOfferedResources(state.getOfferedResourcesList())
                    .build())).getAsJsonObject();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("cannot print the overview: " + e.getMessage(), e);
        }
        o.addProperty("leading", current.leading());
        double now = current.nowMillis().getAsLong() / 1000.0;
        o.addProperty("uptime_seconds", master.getStartTime() > 0 ? Math.max(0, now - master.getStartTime()) : 0);
        JsonObject agents = new JsonObject();
        JsonObject frameworks = new JsonObject();
        JsonObject tasks = new JsonObject();
        if (filter.passesAll()) {
            // Counted once when the snapshot was taken: 10,000 tasks are not walked per request.
            current.agentsByState().forEach((k, v) -> agents.addProperty(k.name(), v));
            current.frameworksByState().forEach((k, v) -> frameworks.addProperty(k.name(), v));
            current.tasksByState().forEach((k, v) -> tasks.addProperty(k.name(), v));
        } else {
            state.getAgentsList().forEach(a -> add(agents, a.getState().name()));
            state.getFrameworksList().forEach(f -> add(frameworks, f.getState().name()));
            state.getTasksList().forEach(t -> add(tasks, t.getState().name()));
        }
        o.add("agents_by_state", agents);
        o.add("frameworks_by_state", frameworks);
        o.add("tasks_by_state", tasks);
        o.addProperty("agents", state.getAgentsCount());
        o.addProperty("frameworks", state.getFrameworksCount());
        o.addProperty("tasks", state.getTasksCount());
        o.addProperty("completed_tasks", state.getCompletedTasksCount());
        o.addProperty("offers", state.getOffersCount());
        return o;
    }

    private static void add(JsonObject counts, String key) {
        counts.addProperty(key, counts.has(key) ? counts.get(key).getAsInt() + 1 : 1);
    }

    private Optional<Task> findTask(ViewFilter filter, String framework, String task) {
        GetStateResponse state = snapshot.get().state();
        for (List<Task> list : List.of(state.getTasksList(), state.getCompletedTasksList())) {
            for (Task t : list) {
                if (t.getTaskId().getValue().equals(task) && t.getFrameworkId().getValue().equals(framework)) {
                    return filter.tasks(List.of(t), state.getFrameworksList()).stream().findFirst();
                }
            }
        }
        return Optional.empty();
    }

    /** Proxies the agent's files API: the sandbox of the task, then a bounded read of stdout or stderr. */
    private void output(ChannelHandlerContext ctx, FullHttpRequest request, OutputRead what, Task task) {
        String file = what.file();
        long offset = what.offset();
        long length = what.length();
        String agentId = task.getAgentId().getValue();
        Optional<AgentView> agent = snapshot.get().state().getAgentsList().stream()
                .filter(a -> a.getAgentInfo().getId().getValue().equals(agentId)).findFirst();
        if (agent.isEmpty() || agent.get().getState() == AgentView.State.GONE) {
            error(ctx, request, HttpResponseStatus.NOT_FOUND, "agent " + agentId + " of task "
                    + task.getTaskId().getValue() + " is gone; its output went with it");
            return;
        }
        if (!agent.get().getConnected() || agent.get().getHttpAddress().isEmpty()) {
            error(ctx, request, HttpResponseStatus.NOT_FOUND, "agent " + agentId + " of task "
                    + task.getTaskId().getValue() + " is not connected, or serves no HTTP");
            return;
        }
        String base = "http://" + agent.get().getHttpAddress();
        request.retain();
        agents.sendAsync(agentRequest(base + "/files/sandbox?task=" + q(task.getTaskId().getValue()) + "&framework="
                        + q(task.getFrameworkId().getValue())), HttpResponse.BodyHandlers.ofString())
                .thenCompose(sandbox -> {
                    if (sandbox.statusCode() != 200) {
                        throw new AgentRefused(sandbox.statusCode(), sandbox.body().trim());
                    }
                    JsonElement path = JsonParser.parseString(sandbox.body()).getAsJsonObject().get("path");
                    return agents.sendAsync(agentRequest(base + "/files/read?path=" + q(path.getAsString() + "/" + file)
                            + "&offset=" + offset + "&length=" + length), HttpResponse.BodyHandlers.ofByteArray());
                })
                .whenComplete((read, error) -> {
                    try {
                        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                                ? error.getCause() : error;
                        if (cause instanceof AgentRefused refused) {
                            error(ctx, request, refused.status == 404 ? HttpResponseStatus.NOT_FOUND
                                    : HttpResponseStatus.BAD_GATEWAY, "agent at " + base + ": " + refused.getMessage());
                        } else if (cause != null) {
                            LOG.info("Could not read the output of task {} from agent {} at {}: {}",
                                    task.getTaskId().getValue(), agentId, base, cause.toString());
                            error(ctx, request, HttpResponseStatus.BAD_GATEWAY, "agent at " + base + " did not answer: "
                                    + cause.getMessage());
                        } else if (read.statusCode() != 200) {
                            error(ctx, request, read.statusCode() == 404 ? HttpResponseStatus.NOT_FOUND
                                    : HttpResponseStatus.BAD_GATEWAY, "agent at " + base + ": "
                                    + new String(read.body(), StandardCharsets.UTF_8).trim());
                        } else {
                            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                    HttpResponseStatus.OK, Unpooled.wrappedBuffer(read.body()));
                            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
                            response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
                            for (String h : List.of("X-Mezzo-Offset", "X-Mezzo-File-Size")) {
                                read.headers().firstValue(h).ifPresent(v -> response.headers().set(h, v));
                            }
                            send(ctx, request, response);
                        }
                    } finally {
                        request.release();
                    }
                });
    }

    private static HttpRequest agentRequest(String url) {
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build();
    }

    private static String q(String v) {
        return URLEncoder.encode(v, StandardCharsets.UTF_8);
    }

    /**
     * What a task output read asks for, checked: {@code file} stdout or stderr, {@code offset} from
     * the start (or, negative, from the end, at most {@link #MAX_OUTPUT_LENGTH} back), {@code length}
     * up to {@link #MAX_OUTPUT_LENGTH}.
     */
    record OutputRead(String file, long offset, long length) {
        static OutputRead of(QueryStringDecoder query) {
            String file = Optional.ofNullable(param(query, "file")).orElse("stdout");
            if (!file.equals("stdout") && !file.equals("stderr")) {
                throw new BadRequest("file must be stdout or stderr, got '" + file + "'");
            }
            return new OutputRead(file, number(query, "offset", 0, -MAX_OUTPUT_LENGTH, Long.MAX_VALUE),
                    number(query, "length", MAX_OUTPUT_LENGTH, 0, MAX_OUTPUT_LENGTH));
        }
    }

    /** An agent answered the files API with an error. */
    private static final class AgentRefused extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;

        AgentRefused(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    /** A request refused 400 with this message. */
    static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message);
        }
    }

    private static String param(QueryStringDecoder query, String name) {
        var values = query.parameters().get(name);
        return values == null || values.isEmpty() || values.get(0).isEmpty() ? null : values.get(0);
    }

    private static long number(QueryStringDecoder query, String name, long otherwise, long min, long max) {
        String v = param(query, name);
        if (v == null) {
            return otherwise;
        }
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new BadRequest(name + " must be a number, got '" + v + "'");
        }
        if (n < min || n > max) {
            throw new BadRequest(name + " must be within " + min + "-" + max + ", got " + n);
        }
        return n;
    }

    /** Answers for a master that does not lead: 307 to the leader's HTTP address, or 503. */
    private boolean redirected(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (leadership.leading()) {
            return false;
        }
        MasterInfo leader = leadership.leader();
        if (leader == null || leader.getHttpPort() <= 0) {
            error(ctx, request, HttpResponseStatus.SERVICE_UNAVAILABLE, "this master is not the leader and no leader is known");
            return true;
        }
        FullHttpResponse redirect = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.TEMPORARY_REDIRECT,
                Unpooled.EMPTY_BUFFER);
        redirect.headers().set(HttpHeaderNames.LOCATION,
                (tls ? "https://" : "http://") + leader.getIp() + ":" + leader.getHttpPort() + request.uri());
        send(ctx, request, redirect);
        return true;
    }

    private void staticFile(ChannelHandlerContext ctx, FullHttpRequest request, String name) {
        byte[] body = Resources.get(name);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.wrappedBuffer(body));
        String type = name.endsWith(".html") ? "text/html; charset=utf-8"
                : name.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
        response.headers().set("X-Content-Type-Options", "nosniff");
        response.headers().set("X-Frame-Options", "DENY");
        response.headers().set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
        send(ctx, request, response);
    }

    /** The UI's files, read once from the classpath. */
    private static final class Resources {
        private static final Map<String, byte[]> FILES = Map.of(
                "index.html", load("index.html"), "app.js", load("app.js"), "app.css", load("app.css"));

        static byte[] get(String name) {
            return FILES.get(name);
        }

        private static byte[] load(String name) {
            try (InputStream in = OperatorHttpApi.class.getResourceAsStream("ui/" + name)) {
                if (in == null) {
                    throw new IllegalStateException("the UI file ui/" + name + " is missing from the master's jar");
                }
                return in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private void json(ChannelHandlerContext ctx, FullHttpRequest request, com.google.protobuf.MessageOrBuilder message) {
        try {
            raw(ctx, request, HttpResponseStatus.OK, OperatorJson.print(message));
        } catch (InvalidProtocolBufferException e) {
            error(ctx, request, HttpResponseStatus.INTERNAL_SERVER_ERROR, "cannot print JSON");
        }
    }

    private void raw(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status, String json) {
        send(ctx, request, response(status, json));
    }

    private void error(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status, String reason) {
        error(ctx, request, status, reason, null);
    }

    private void error(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status, String reason,
            String code) {
        JsonObject o = new JsonObject();
        o.addProperty("error", reason);
        if (code != null) {
            o.addProperty("code", code);
        }
        o.addProperty("status", status.code());
        send(ctx, request, response(status, o.toString()));
    }

    private static String errorJson(HttpResponseStatus status, String reason) {
        JsonObject o = new JsonObject();
        o.addProperty("error", reason);
        o.addProperty("status", status.code());
        return o.toString();
    }

    private static FullHttpResponse response(HttpResponseStatus status, String json) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(json + "\n", StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        return response;
    }

    private static void send(ChannelHandlerContext ctx, FullHttpRequest request, FullHttpResponse response) {
        HttpUtil.setContentLength(response, response.content().readableBytes());
        if (HttpUtil.isKeepAlive(request)) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
