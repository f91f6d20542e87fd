package io.mezzo.agent;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.mezzo.agent.files.SandboxFiles;
import io.mezzo.common.loop.EventLoop;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's HTTP endpoints: {@code /metrics} (Prometheus text format), {@code /health/live} and
 * the sandbox files API, for dashboards, probes and {@code mezzo task log}.
 *
 * <pre>
 *  GET /metrics                                      AgentMetrics.scrape()
 *  GET /health/live                                  the loop runs a no-op within 2 s: 200, else 503
 *  GET /files/sandbox?task=T[&amp;framework=F]            {"path": "&lt;agent&gt;/frameworks/F/tasks/T/runs/C"}
 *  GET /files/browse?path=P                          [{"name", "path", "dir", "size", "mtime"}]
 *  GET /files/read?path=P[&amp;offset=N][&amp;length=M]       the bytes; X-Mezzo-Offset, X-Mezzo-File-Size
 *  GET /files/download?path=P                        the whole file, as an attachment
 * </pre>
 *
 * <p>Paths are relative to {@code <work_dir>/agents}; {@link SandboxFiles} refuses anything outside
 * the sandboxes (400 for a malformed path, 403 outside, 404 missing). Nothing here reads the agent's
 * state: the files API reads the file system, the metrics their own counters, and the liveness
 * probe only waits for the loop.
 *
 * <p>Owner: {@link Agent}. Runs on the JDK's HTTP server with two threads of its own.
 */
final class AgentHttpEndpoints implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AgentHttpEndpoints.class);
    static final Duration LIVE_BOUND = Duration.ofSeconds(2);
    static final int DEFAULT_READ_LENGTH = 64 * 1024;
    static final int MAX_READ_LENGTH = 1024 * 1024;

    private final EventLoop loop;
    private final AgentMetrics metrics;
    private final SandboxFiles files;
    private HttpServer server;
    private ExecutorService threads;

    AgentHttpEndpoints(EventLoop loop, AgentMetrics metrics, SandboxFiles files) {
        this.loop = loop;
        this.metrics = metrics;
        this.files = files;
    }

    /** Binds; returns the bound port. */
    int start(String ip, int port) throws IOException {
        server = HttpServer.create(new InetSocketAddress(ip, port), 64);
        AtomicInteger n = new AtomicInteger();
        threads = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "agent-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        if (server != null) {
            server.stop(0);
            threads.shutdownNow();
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET")) {
                text(exchange, 405, "only GET is served\n");
                return;
            }
            URI uri = exchange.getRequestURI();
            Map<String, String> q = query(uri.getRawQuery());
            try {
                switch (uri.getPath()) {
                    case "/metrics" -> send(exchange, 200, AgentMetrics.contentType(),
                            metrics.scrape().getBytes(StandardCharsets.UTF_8));
                    case "/health/live" -> live(exchange);
                    case "/files/sandbox" -> sandbox(exchange, q);
                    case "/files/browse" -> browse(exchange, q);
                    case "/files/read" -> read(exchange, q);
                    case "/files/download" -> download(exchange, q);
                    default -> text(exchange, 404, "not found; try /metrics, /health/live, /files/sandbox,"
                            + " /files/browse, /files/read, /files/download\n");
                }
            } catch (SandboxFiles.Refused e) {
                LOG.info("Refused {} {}: {}", uri.getPath(), q.getOrDefault("path", q.getOrDefault("task", "")),
                        e.getMessage());
                text(exchange, e.status(), e.getMessage() + "\n");
            } catch (IllegalArgumentException e) {
                text(exchange, 400, e.getMessage() + "\n");
            }
        } catch (IOException e) {
            LOG.debug("HTTP exchange failed: {}", e.toString());
        }
    }

    private void live(HttpExchange exchange) throws IOException {
        boolean live;
        try {
            live = loop.call(() -> Boolean.TRUE).get(LIVE_BOUND.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            live = false;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            live = false;
        }
        if (live) {
            text(exchange, 200, "live\n");
        } else {
            text(exchange, 503, "not live: the event loop did not answer within " + LIVE_BOUND.toMillis() + " ms\n");
        }
    }

    private void sandbox(HttpExchange exchange, Map<String, String> q) throws IOException, SandboxFiles.Refused {
        String task = required(q, "task");
        var run = files.latestRun(task, q.get("framework"));
        if (run.isEmpty()) {
            text(exchange, 404, "no sandbox of task " + task + " on this agent\n");
            return;
        }
        JsonObject o = new JsonObject();
        o.addProperty("path", run.get());
        json(exchange, o.toString());
    }

    private void browse(HttpExchange exchange, Map<String, String> q) throws IOException, SandboxFiles.Refused {
        String path = q.getOrDefault("path", "");
        JsonArray out = new JsonArray();
        for (SandboxFiles.Entry e : files.list(path)) {
            JsonObject o = new JsonObject();
            o.addProperty("name", e.name());
            o.addProperty("path", path.isEmpty() ? e.name() : path.replaceAll("/+$", "") + "/" + e.name());
            o.addProperty("dir", e.directory());
            o.addProperty("size", e.size());
            o.addProperty("mtime", e.modifiedMillis() / 1000.0);
            out.add(o);
        }
        json(exchange, out.toString());
    }

    private void read(HttpExchange exchange, Map<String, String> q) throws IOException, SandboxFiles.Refused {
        long offset = number(q, "offset", 0);
        long length = number(q, "length", DEFAULT_READ_LENGTH);
        if (length < 0 || length > MAX_READ_LENGTH) {
            throw new IllegalArgumentException("length must be within 0-" + MAX_READ_LENGTH + ", got " + length);
        }
        SandboxFiles.Chunk chunk = files.read(required(q, "path"), offset, (int) length);
        exchange.getResponseHeaders().set("X-Mezzo-Offset", Long.toString(chunk.offset()));
        exchange.getResponseHeaders().set("X-Mezzo-File-Size", Long.toString(chunk.size()));
        send(exchange, 200, "application/octet-stream", chunk.data());
    }

    private void download(HttpExchange exchange, Map<String, String> q) throws IOException, SandboxFiles.Refused {
        String path = required(q, "path");
        long size = files.size(path);
        String name = path.substring(path.lastIndexOf('/') + 1).replace("\"", "");
        exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
        exchange.getResponseHeaders().set("Content-Disposition", "attachment; filename=\"" + name + "\"");
        try (InputStream in = files.open(path)) {
            exchange.sendResponseHeaders(200, size == 0 ? -1 : 0);
            try (OutputStream out = exchange.getResponseBody()) {
                in.transferTo(out);
            }
        }
    }

    private static String required(Map<String, String> q, String name) {
        String v = q.get(name);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("missing the '" + name + "' parameter");
        }
        return v;
    }

    private static long number(Map<String, String> q, String name, long otherwise) {
        String v = q.get(name);
        if (v == null || v.isEmpty()) {
            return otherwise;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a number, got '" + v + "'");
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new HashMap<>();
        if (raw == null) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.putIfAbsent(k, v);
        }
        return out;
    }

    private static void json(HttpExchange exchange, String body) throws IOException {
        send(exchange, 200, "application/json", (body + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static void text(HttpExchange exchange, int status, String body) throws IOException {
        send(exchange, status, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }
}
