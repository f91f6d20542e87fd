package io.mezzo.services;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.mezzo.proto.v1.MasterInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The services HTTP JSON API (the JDK's HTTP server):
 *
 * <pre>
 *   POST   /v1/services[?plan=true]       deploy (create or update) a definition; plan: say what it would do
 *   GET    /v1/services                   every service in brief
 *   GET    /v1/services/ID                one service: definition, instances, deployment
 *   GET    /v1/services/ID/endpoints      host:port of each healthy instance
 *   POST   /v1/services/ID/scale          {"instances": N}
 *   POST   /v1/services/ID/restart | /promote | /abort | /rollback
 *   DELETE /v1/services/ID
 *   GET    /v1/deployments                running and recent deployments
 *   GET    /health                        200 (leader or standby)
 * </pre>
 *
 * <p>Errors are {@code {"error": code, "message": why}} with a 4xx status (503 when no daemon leads).
 * A standby answers 307 with the leader's URL. Requests are read and validated here, then run on the
 * manager's loop; the answer is sent once the change is stored.
 *
 * <p>Thread: a small executor of request threads; they only parse, enqueue and wait (bounded). Owner:
 * {@link ServicesDaemon}.
 */
final class ServicesHttpApi implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ServicesHttpApi.class);
    private static final Pattern SERVICE = Pattern.compile("/v1/services/([^/]+)(?:/([a-z]+))?/?");
    private static final int MAX_BODY = 256 * 1024;

    private final ServicesDaemon daemon;
    private final HttpServer server;
    private final ExecutorService executor;
    private final io.mezzo.common.security.TlsContext tls;

    /**
     * @param tls HTTPS with {@code tls.cert()}, asking clients for certificates signed by {@code
     *     tls.ca()} as {@code tls.clientAuth()} says; without a certificate, plain HTTP
     */
    ServicesHttpApi(ServicesDaemon daemon, String host, int port, io.mezzo.common.security.TlsSettings tls)
            throws IOException {
        this.daemon = daemon;
        this.tls = tls.cert() == null ? null : io.mezzo.common.security.TlsContext.of(tls);
        this.server = this.tls == null ? HttpServer.create(new InetSocketAddress(host, port), 64) : https(host, port, this.tls);
        this.executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "services-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    private static HttpServer https(String host, int port, io.mezzo.common.security.TlsContext tls) throws IOException {
        javax.net.ssl.SSLContext ssl;
        try {
            ssl = javax.net.ssl.SSLContext.getInstance("TLS");
            ssl.init(new javax.net.ssl.KeyManager[] {tls.keyManager()},
                    tls.trustManager() == null ? null : new javax.net.ssl.TrustManager[] {tls.trustManager()}, null);
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("cannot set up TLS for the services API: " + e.getMessage(), e);
        }
        com.sun.net.httpserver.HttpsServer s = com.sun.net.httpserver.HttpsServer.create(new InetSocketAddress(host, port), 64);
        io.mezzo.common.security.ClientAuth mode = tls.settings().clientAuth();
        s.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(ssl) {
            @Override
            public void configure(com.sun.net.httpserver.HttpsParameters p) {
                javax.net.ssl.SSLParameters params = ssl.getDefaultSSLParameters();
                if (mode == io.mezzo.common.security.ClientAuth.REQUIRE) {
                    params.setNeedClientAuth(true);
                } else if (mode == io.mezzo.common.security.ClientAuth.OPTIONAL) {
                    params.setWantClientAuth(true);
                }
                p.setSSLParameters(params);
            }
        });
        return s;
    }

    /** {@code https} when the API serves TLS, else {@code http}. */
    String scheme() {
        return tls == null ? "http" : "https";
    }

    void start() {
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            if (path.equals("/health")) {
                send(ex, 200, DefinitionJson.MAPPER.createObjectNode().put("leading", daemon.isLeading()).toString());
                return;
            }
            ServiceManager m = daemon.manager();
            if (m == null) {
                Optional<MasterInfo> leader = daemon.leader();
                if (leader.isPresent() && !leader.get().getId().equals(daemon.id())) {
                    MasterInfo l = leader.get();
                    String query = ex.getRequestURI().getRawQuery();
                    ex.getResponseHeaders().set("Location", scheme() + "://" + l.getHostname() + ":" + l.getHttpPort() + path
                            + (query == null ? "" : "?" + query));
                    send(ex, 307, error("not_leader", "this services daemon is a standby; the leader is "
                            + l.getHostname() + ":" + l.getHttpPort()));
                } else {
                    send(ex, 503, error("no_leader", "no services daemon leads yet; try again shortly"));
                }
                return;
            }
            try {
                JsonNode body = route(m, method, path, ex);
                send(ex, 200, body.toString());
            } catch (ApiException e) {
                LOG.info("Refused {} {}: {}", method, path, e.getMessage());
                send(ex, e.status(), error(e.error(), e.getMessage()));
            }
        } catch (RuntimeException e) {
            LOG.warn("HTTP request {} failed: {}", ex.getRequestURI(), e.toString());
        }
    }

    private JsonNode route(ServiceManager m, String method, String path, HttpExchange ex) throws IOException {
        if (path.equals("/v1/services") || path.equals("/v1/services/")) {
            switch (method) {
                case "GET" -> {
                    return await(m.call(() -> CompletableFuture.completedFuture(m.listView())));
                }
                case "POST" -> {
                    ServiceDefinition def;
                    try {
                        def = DefinitionJson.parse(body(ex));
                    } catch (InvalidDefinitionException e) {
                        throw new ApiException(400, "invalid_definition", e.getMessage());
                    }
                    boolean plan = "plan=true".equals(ex.getRequestURI().getQuery());
                    return await(m.call(() -> m.deploy(def, plan)));
                }
                default -> throw methodNotAllowed(method, path);
            }
        }
        if (path.equals("/v1/deployments")) {
            if (!method.equals("GET")) {
                throw methodNotAllowed(method, path);
            }
            return await(m.call(() -> CompletableFuture.completedFuture(m.deploymentsView())));
        }
        Matcher mt = SERVICE.matcher(path);
        if (!mt.matches()) {
            throw new ApiException(404, "not_found", "no such endpoint: " + path + "; see /v1/services, /v1/deployments");
        }
        String id = mt.group(1);
        String action = mt.group(2);
        if (action == null) {
            return switch (method) {
                case "GET" -> await(m.call(() -> CompletableFuture.completedFuture(m.serviceView(id))));
                case "DELETE" -> await(m.call(() -> m.delete(id)));
                default -> throw methodNotAllowed(method, path);
            };
        }
        if (action.equals("endpoints")) {
            if (!method.equals("GET")) {
                throw methodNotAllowed(method, path);
            }
            return await(m.call(() -> CompletableFuture.completedFuture(m.endpointsView(id))));
        }
        if (!method.equals("POST")) {
            throw methodNotAllowed(method, path);
        }
        Supplier<CompletableFuture<ObjectNode>> op = switch (action) {
            case "scale" -> {
                int n = instancesOf(body(ex));
                yield () -> m.scale(id, n);
            }
            case "restart" -> () -> m.restart(id);
            case "promote" -> () -> m.promote(id);
            case "abort" -> () -> m.abort(id);
            case "rollback" -> () -> m.rollback(id);
            default -> throw new ApiException(404, "not_found", "no action '" + action
                    + "'; try scale, restart, promote, abort, rollback or endpoints");
        };
        return await(m.call(op));
    }

    private static int instancesOf(String body) {
        try {
            JsonNode n = DefinitionJson.MAPPER.readTree(body);
            if (n == null || !n.isObject() || n.size() != 1 || !n.has("instances") || !n.get("instances").isIntegralNumber()) {
                throw new ApiException(400, "invalid_request", "scale takes {\"instances\": N}");
            }
            return n.get("instances").asInt();
        } catch (IOException e) {
            throw new ApiException(400, "invalid_request", "scale takes {\"instances\": N}: " + e.getMessage());
        }
    }

    private static ApiException methodNotAllowed(String method, String path) {
        return new ApiException(405, "method_not_allowed", method + " is not allowed on " + path);
    }

    private static <T extends JsonNode> T await(CompletableFuture<T> f) {
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "unavailable", "interrupted");
        } catch (TimeoutException e) {
            throw new ApiException(503, "unavailable", "the services scheduler did not answer within 30 s");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ApiException a) {
                throw a;
            }
            throw new ApiException(500, "internal", String.valueOf(e.getCause()));
        }
    }

    private static String body(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = in.readNBytes(MAX_BODY + 1);
            if (b.length > MAX_BODY) {
                throw new ApiException(413, "too_large", "request body over " + MAX_BODY + " bytes");
            }
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    private static String error(String code, String message) {
        return DefinitionJson.MAPPER.createObjectNode().put("error", code).put("message", message).toString();
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        if (tls != null) {
            tls.close();
        }
    }
}
