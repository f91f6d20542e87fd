import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The service of the walk-through in docs/services.md: a JDK-only HTTP server, run from source
 * ({@code java HelloServer.java}), on {@code $PORT0}. {@code /} answers "hello from VERSION",
 * {@code /health} answers 200, anything else 404.
 */
public final class HelloServer {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(System.getenv("PORT0"));
        String version = System.getenv().getOrDefault("VERSION", "v?");
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 16);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            boolean known = path.equals("/") || path.equals("/health");
            byte[] body = (known ? path.equals("/") ? "hello from " + version + "\n" : "ok\n" : "not found\n")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(known ? 200 : 404, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        System.out.println("serving " + version + " on port " + port);
    }
}
