package io.mezzo.dist.services;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The service the end-to-end tests deploy: a JDK-only HTTP server on {@code $PORT0} that answers
 * {@code /} with {@code $VERSION}, {@code /health} with 200, anything else with 404, and exits 3 on
 * {@code /crash} (a crashed instance).
 */
public final class TinyHttpServer {

    private TinyHttpServer() {}

    /** Serves until killed. */
    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(System.getenv("PORT0"));
        String version = System.getenv().getOrDefault("VERSION", "?");
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 16);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            int status = 200;
            String body = version;
            if (path.equals("/crash")) {
                Runtime.getRuntime().halt(3);
            } else if (path.equals("/health")) {
                body = "ok";
            } else if (!path.equals("/")) {
                status = 404;
                body = "not found";
            }
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, b.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(b);
            }
        });
        server.start();
    }
}
