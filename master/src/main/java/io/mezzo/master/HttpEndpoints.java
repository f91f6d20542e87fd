package io.mezzo.master;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.security.TlsContext;
import io.mezzo.master.auth.Acls;
import io.mezzo.master.auth.Authenticator;
import io.mezzo.master.auth.ViewFilter;
import io.mezzo.proto.v1.GetAgentsResponse;
import io.mezzo.proto.v1.GetFrameworksResponse;
import io.mezzo.proto.v1.GetHealthResponse;
import io.mezzo.proto.v1.GetTasksResponse;
import io.mezzo.proto.v1.MasterInfo;
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
 * The master's HTTP endpoints, for curl and dashboards: {@code /health} and {@code /leader} on
 * every master; {@code /state}, {@code /agents}, {@code /frameworks} and {@code /tasks} (JSON, the
 * operator API's messages with proto field names) on the leader. A master that does not lead
 * answers those with a 307 redirect to the leader's HTTP address, or 503 when no leader is known.
 *
 * <p>This is plain HTTP/1.1 on Netty, not a gRPC service (hence not a {@code *Service}). Owner:
 * {@link Master}. Runs on its own small Netty event loop; state reads go through the master's event
 * loop (they are computed there by {@link StateViews} and printed here).
 */
final class HttpEndpoints implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoints.class);
    private static final JsonFormat.Printer JSON = JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence();

    private final EventLoop loop;
    /** The core's read-only views; called on the loop only (through {@code loop.call}). */
    private final StateViews views;
    private final Leadership leadership;
    private final TlsContext tls;
    private final Authenticator authenticator;
    private final boolean authenticate;
    private final Acls acls;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private Channel channel;

    HttpEndpoints(EventLoop loop, StateViews views, Leadership leadership) {
        this(loop, views, leadership, null, new Authenticator(null), false, Acls.PERMISSIVE);
    }

    /**
     * @param tls HTTPS with this material (and client certificates as {@code --tls_client_auth}
     *     says); null for plain HTTP
     * @param authenticate whether anonymous requests are refused 401 (/health aside)
     * @param acls what each principal may see
     */
    HttpEndpoints(EventLoop loop, StateViews views, Leadership leadership, TlsContext tls, Authenticator authenticator,
            boolean authenticate, Acls acls) {
        this.loop = loop;
        this.views = views;
        this.leadership = leadership;
        this.tls = tls;
        this.authenticator = authenticator;
        this.authenticate = authenticate;
        this.acls = acls;
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
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String path = new QueryStringDecoder(request.uri()).path();
            if (!request.method().equals(HttpMethod.GET)) {
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
            ViewFilter filter = new ViewFilter(acls, auth.principal());
            switch (path) {
                case "/health" -> json(ctx, request, health());
                case "/leader" -> {
                    MasterInfo leader = leadership.leader();
                    if (leader == null) {
                        send(ctx, request, text(HttpResponseStatus.SERVICE_UNAVAILABLE, "no leader is known\n"));
                    } else {
                        json(ctx, request, leader);
                    }
                }
                case "/state" -> fromLeader(ctx, request, () -> filter.state(views.state()));
                case "/agents" -> fromLeader(ctx, request,
                        () -> GetAgentsResponse.newBuilder().addAllAgents(filter.agents(views.agentViews())).build());
                case "/frameworks" -> fromLeader(ctx, request, () -> GetFrameworksResponse.newBuilder()
                        .addAllFrameworks(filter.frameworks(views.frameworkViews())).build());
                case "/tasks" -> fromLeader(ctx, request, () -> {
                    var frameworks = views.frameworkViews();
                    return GetTasksResponse.newBuilder()
                            .addAllTasks(filter.tasks(views.tasks(null), frameworks))
                            .addAllCompletedTasks(filter.tasks(views.completedTasks(null), frameworks)).build();
                });
                default -> send(ctx, request, text(HttpResponseStatus.NOT_FOUND,
                        "not found; try /health, /leader, /state, /agents, /frameworks, /tasks\n"));
            }
        }

        private GetHealthResponse health() {
            GetHealthResponse.Builder h = GetHealthResponse.newBuilder().setHealthy(true).setLeader(leadership.leading());
            MasterInfo leader = leadership.leader();
            if (leader != null) {
                h.setLeaderInfo(leader);
            }
            return h.build();
        }

        private void fromLeader(ChannelHandlerContext ctx, FullHttpRequest request, Supplier<? extends MessageOrBuilder> read) {
            if (!leadership.leading()) {
                MasterInfo leader = leadership.leader();
                if (leader == null || leader.getHttpPort() <= 0) {
                    send(ctx, request, text(HttpResponseStatus.SERVICE_UNAVAILABLE,
                            "this master is not the leader and no leader is known\n"));
                    return;
                }
                FullHttpResponse redirect = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        HttpResponseStatus.TEMPORARY_REDIRECT, Unpooled.EMPTY_BUFFER);
                redirect.headers().set(HttpHeaderNames.LOCATION,
                        (tls == null ? "http://" : "https://") + leader.getIp() + ":" + leader.getHttpPort() + request.uri());
                send(ctx, request, redirect);
                return;
            }
            CompletableFuture<? extends MessageOrBuilder> result = loop.call(read).orTimeout(10, TimeUnit.SECONDS);
            // The request is answered later, off this handler: keep it alive until then.
            request.retain();
            result.whenComplete((value, error) -> {
                try {
                    if (error != null) {
                        send(ctx, request, text(HttpResponseStatus.SERVICE_UNAVAILABLE, "master did not answer\n"));
                    } else {
                        json(ctx, request, value);
                    }
                } finally {
                    request.release();
                }
            });
        }

        private void json(ChannelHandlerContext ctx, FullHttpRequest request, MessageOrBuilder message) {
            String body;
            try {
                body = JSON.print(message) + "\n";
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
