package io.mezzo.master;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import io.mezzo.common.security.TlsContext;
import io.mezzo.master.auth.Acls;
import io.mezzo.master.auth.Authenticator;
import io.mezzo.master.auth.ViewFilter;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.GetAgentsResponse;
import io.mezzo.proto.v1.GetFrameworksResponse;
import io.mezzo.proto.v1.GetTasksRequest;
import io.mezzo.proto.v1.GetTasksResponse;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.TaskState;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's HTTP endpoints, for curl, dashboards and Prometheus. On every master: {@code
 * /health} (JSON), {@code /health/live}, {@code /health/ready} (200 or 503 with a one-line reason),
 * {@code /leader} and {@code /metrics} (Prometheus text format). On the leader: {@code /state},
 * {@code /agents}, {@code /frameworks} and {@code /tasks} (JSON, the operator API's messages with
 * proto field names and readable times; {@code /tasks} takes {@code framework}, {@code agent},
 * {@code state}, {@code offset} and {@code limit}). A master that does not lead answers those with
 * a 307 redirect to the leader's HTTP address, or 503 when no leader is known. The web UI, {@code
 * /roles} and {@code /api/v1/*} (events, actions, a task's output) are {@link OperatorHttpApi}'s,
 * behind the same authentication.
 *
 * <p>This is plain HTTP/1.1 on Netty, not a gRPC service (hence not a {@code *Service}). Owner:
 * {@link Master}. Runs on its own small Netty event loop. Nothing here runs on the master's event
 * loop: the views read the {@link StateSnapshot} the loop last published, the metrics read their
 * own counters and that snapshot, and the liveness probe only waits for the loop to run a no-op.
 */
final class HttpEndpoints implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoints.class);

    /** The state as the loop last published it. */
    private final Supplier<StateSnapshot> snapshot;
    private final Leadership leadership;
    private final MasterHealth health;
    private final MasterMetrics metrics;
    private final TlsContext tls;
    private final Authenticator authenticator;
    private final boolean authenticate;
    private final Acls acls;
    /** The web UI, its event stream and actions; null when not served (tests of the views alone). */
    private final OperatorHttpApi ui;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private Channel channel;
    /** /state as last printed, with the snapshot it was printed from: pollers of one snapshot share it. */
    private volatile RenderedState rendered;

    private record RenderedState(StateSnapshot snapshot, byte[] json) {}

    HttpEndpoints(Supplier<StateSnapshot> snapshot, Leadership leadership, MasterHealth health, MasterMetrics metrics) {
        this(snapshot, leadership, health, metrics, null, new Authenticator(null), false, Acls.PERMISSIVE, null);
    }

    /**
     * @param tls HTTPS with this material (and client certificates as {@code --tls_client_auth}
     *     says); null for plain HTTP
     * @param authenticate whether anonymous requests are refused 401 (/health aside)
     * @param acls what each principal may see
     * @param ui the web UI and its API ({@link OperatorHttpApi}), closed with this; null for none
     */
    HttpEndpoints(Supplier<StateSnapshot> snapshot, Leadership leadership, MasterHealth health, MasterMetrics metrics,
            TlsContext tls, Authenticator authenticator, boolean authenticate, Acls acls, OperatorHttpApi ui) {
        this.snapshot = snapshot;
        this.leadership = leadership;
        this.health = health;
        this.metrics = metrics;
        this.tls = tls;
        this.authenticator = authenticator;
        this.authenticate = authenticate;
        this.acls = acls;
        this.ui = ui;
    }

    /** Binds; returns the bound port. */
    int start(String ip, int port) throws InterruptedException, javax.net.ssl.SSLException {
        SslContext ssl = tls == null ? null : serverContext(tls);
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024), new Handler());
                    }
                });
        channel = b.bind(new InetSocketAddress(ip, port)).sync().channel();
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /**
     * The Netty server TLS context, made from the same reloading key and trust managers as the
     * gRPC port, so both serve the same certificate and ask for client certificates alike.
     */
    private static SslContext serverContext(TlsContext tls) throws javax.net.ssl.SSLException {
        SslContextBuilder b = SslContextBuilder.forServer(tls.keyManager());
        if (tls.trustManager() != null) {
            b.trustManager(tls.trustManager());
        }
        b.clientAuth(switch (tls.settings().clientAuth()) {
            case NONE -> io.netty.handler.ssl.ClientAuth.NONE;
            case OPTIONAL -> io.netty.handler.ssl.ClientAuth.OPTIONAL;
            case REQUIRE -> io.netty.handler.ssl.ClientAuth.REQUIRE;
        });
        return b.build();
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        if (ui != null) {
            ui.close();
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            QueryStringDecoder query = new QueryStringDecoder(request.uri());
            String path = query.path();
            boolean forUi = ui != null && OperatorHttpApi.serves(path);
            if (!request.method().equals(HttpMethod.GET) && !forUi) {
                send(ctx, request, text(HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET is served\n"));
                return;
            }
            SslHandler sslHandler = ctx.pipeline().get(SslHandler.class);
            Authenticator.Result auth = authenticator.authenticate(request.headers().get(HttpHeaderNames.AUTHORIZATION),
                    sslHandler == null ? null : sslHandler.engine().getSession());
            String error = auth.error();
            if (error == null && auth.principal() == null && authenticate && !path.equals("/health")) {
                error = "authentication is required (--authenticate_http): present a client certificate or credentials";
            }
            if (error != null) {
                LOG.warn("Refused HTTP {} from {}: unauthenticated: {}", path, ctx.channel().remoteAddress(), error);
                FullHttpResponse denied = text(HttpResponseStatus.UNAUTHORIZED, error + "\n");
                denied.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Basic realm=\"mezzo\"");
                send(ctx, request, denied);
                return;
            }
            if (forUi) {
                ui.handle(ctx, request, query, auth.principal());
                return;
            }
            ViewFilter filter = new ViewFilter(acls, auth.principal());
            switch (path) {
                case "/health" -> later(ctx, request, health.check(), h -> json(ctx, request, h));
                case "/health/live" -> later(ctx, request, health.check(), h -> send(ctx, request, h.getLive()
                        ? text(HttpResponseStatus.OK, "live\n")
                        : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not live: " + h.getReason() + "\n")));
                case "/health/ready" -> later(ctx, request, health.check(), h -> send(ctx, request, h.getReady()
                        ? text(HttpResponseStatus.OK, h.getLeader() ? "ready: leading\n" : "ready: standby\n")
                        : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready: " + h.getReason() + "\n")));
                case "/leader" -> {
                    MasterInfo leader = leadership.leader();
                    if (leader == null) {
                        send(ctx, request, text(HttpResponseStatus.SERVICE_UNAVAILABLE, "no leader is known\n"));
                    } else if (!leadership.leading() && !health.zkConnected()) {
                        // A standby cut off from ZooKeeper cannot know whether that master still leads.
                        send(ctx, request, text(HttpResponseStatus.SERVICE_UNAVAILABLE, "ZooKeeper is not connected;"
                                + " the last leader seen was " + leader.getIp() + ":" + leader.getPort() + "\n"));
                    } else {
                        json(ctx, request, leader);
                    }
                }
                case "/metrics" -> {
                    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                            Unpooled.copiedBuffer(metrics.scrape(), StandardCharsets.UTF_8));
                    response.headers().set(HttpHeaderNames.CONTENT_TYPE, MasterMetrics.contentType());
                    send(ctx, request, response);
                }
                case "/state" -> stateFromLeader(ctx, request, filter);
                case "/agents" -> fromLeader(ctx, request, () -> GetAgentsResponse.newBuilder()
                        .addAllAgents(filter.agents(snapshot.get().state().getAgentsList())).build());
                case "/frameworks" -> fromLeader(ctx, request, () -> GetFrameworksResponse.newBuilder()
                        .addAllFrameworks(filter.frameworks(snapshot.get().state().getFrameworksList())).build());
                case "/tasks" -> {
                    GetTasksRequest tasks;
                    try {
                        tasks = tasksRequest(query);
                    } catch (IllegalArgumentException e) {
                        send(ctx, request, text(HttpResponseStatus.BAD_REQUEST, e.getMessage() + "\n"));
                        return;
                    }
                    fromLeader(ctx, request, () -> {
                        StateSnapshot current = snapshot.get();
                        return filteredTasks(filter, current.tasks(tasks), current.state().getFrameworksList());
                    });
                }
                default -> send(ctx, request, text(HttpResponseStatus.NOT_FOUND, "not found; try /health, /health/live,"
                        + " /health/ready, /leader, /metrics, /state, /agents, /frameworks, /tasks, /roles, / (the web UI)\n"));
            }
        }

        /** Answers once {@code result} completes (off this handler): keeps the request alive until then. */
        private <T> void later(ChannelHandlerContext ctx, FullHttpRequest request, CompletableFuture<T> result,
                java.util.function.Consumer<T> answer) {
            request.retain();
            result.whenComplete((value, error) -> {
                try {
                    if (error != null) {
                        send(ctx, request, text(HttpResponseStatus.SERVICE_UNAVAILABLE, "master did not answer\n"));
                    } else {
                        answer.accept(value);
                    }
                } finally {
                    request.release();
                }
            });
        }

        /**
         * /state, printed once per published snapshot: a hundred polls a second of a large cluster
         * cost one rendering per snapshot, not one per poll.
         */
        private void stateFromLeader(ChannelHandlerContext ctx, FullHttpRequest request, ViewFilter filter) {
            if (redirected(ctx, request)) {
                return;
            }
            StateSnapshot current = snapshot.get();
            if (!filter.passesAll()) {
                // What this principal may see: printed for it alone.
                json(ctx, request, filter.state(current.state()));
                return;
            }
            RenderedState r = rendered;
            if (r == null || r.snapshot() != current) {
                try {
                    r = new RenderedState(current, (OperatorJson.print(current.state()) + "\n")
                            .getBytes(StandardCharsets.UTF_8));
                } catch (InvalidProtocolBufferException e) {
                    send(ctx, request, text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "cannot print JSON\n"));
                    return;
                }
                rendered = r;
            }
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.wrappedBuffer(r.json()));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
            send(ctx, request, response);
        }

        private void fromLeader(ChannelHandlerContext ctx, FullHttpRequest request, Supplier<? extends MessageOrBuilder> read) {
            if (!redirected(ctx, request)) {
                json(ctx, request, read.get());
            }
        }

        /** Answers for a master that does not lead (redirect or 503); false when this one leads. */
        private boolean redirected(ChannelHandlerContext ctx, FullHttpRequest request) {
            if (!leadership.leading()) {
                MasterInfo leader = leadership.leader();
                if (leader == null || leader.getHttpPort() <= 0) {
                    send(ctx, request, text(HttpResponseStatus.SERVICE_UNAVAILABLE,
                            "this master is not the leader and no leader is known\n"));
                    return true;
                }
                FullHttpResponse redirect = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        HttpResponseStatus.TEMPORARY_REDIRECT, Unpooled.EMPTY_BUFFER);
                redirect.headers().set(HttpHeaderNames.LOCATION,
                        (tls == null ? "http://" : "https://") + leader.getIp() + ":" + leader.getHttpPort() + request.uri());
                send(ctx, request, redirect);
                return true;
            }
            return false;
        }

        /** A page of tasks with those of frameworks the principal may not see left out. */
        private static GetTasksResponse filteredTasks(ViewFilter filter, GetTasksResponse page,
                java.util.List<io.mezzo.proto.v1.FrameworkView> frameworks) {
            if (filter.passesAll()) {
                return page;
            }
            return page.toBuilder()
                    .clearTasks().addAllTasks(filter.tasks(page.getTasksList(), frameworks))
                    .clearCompletedTasks().addAllCompletedTasks(filter.tasks(page.getCompletedTasksList(), frameworks))
                    .build();
        }

        private static GetTasksRequest tasksRequest(QueryStringDecoder query) {
            GetTasksRequest.Builder b = GetTasksRequest.newBuilder();
            String framework = param(query, "framework");
            if (framework != null) {
                b.setFrameworkId(FrameworkID.newBuilder().setValue(framework));
            }
            String agent = param(query, "agent");
            if (agent != null) {
                b.setAgentId(AgentID.newBuilder().setValue(agent));
            }
            String state = param(query, "state");
            if (state != null) {
                String name = state.toUpperCase(java.util.Locale.ROOT);
                try {
                    b.setState(TaskState.valueOf(name.startsWith("TASK_") ? name : "TASK_" + name));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("unknown task state '" + state + "'", e);
                }
            }
            b.setOffset(number(query, "offset"));
            b.setLimit(number(query, "limit"));
            return b.build();
        }

        private static String param(QueryStringDecoder query, String name) {
            var values = query.parameters().get(name);
            return values == null || values.isEmpty() || values.get(0).isEmpty() ? null : values.get(0);
        }

        private static int number(QueryStringDecoder query, String name) {
            String v = param(query, name);
            if (v == null) {
                return 0;
            }
            try {
                int n = Integer.parseInt(v);
                if (n < 0) {
                    throw new IllegalArgumentException(name + " must not be negative, got " + v);
                }
                return n;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " must be a number, got '" + v + "'");
            }
        }

        private void json(ChannelHandlerContext ctx, FullHttpRequest request, MessageOrBuilder message) {
            String body;
            try {
                body = OperatorJson.print(message) + "\n";
            } catch (InvalidProtocolBufferException e) {
                send(ctx, request, text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "cannot print JSON\n"));
                return;
            }
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
            send(ctx, request, response);
        }

        private FullHttpResponse text(HttpResponseStatus status, String body) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
            return response;
        }

        private void send(ChannelHandlerContext ctx, FullHttpRequest request, FullHttpResponse response) {
            HttpUtil.setContentLength(response, response.content().readableBytes());
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (keepAlive) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                ctx.writeAndFlush(response);
            } else {
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("HTTP connection failed: {}", cause.toString());
            ctx.close();
        }
    }
}
