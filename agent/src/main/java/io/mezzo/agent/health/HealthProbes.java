package io.mezzo.agent.health;

import io.mezzo.agent.containerizer.Containerizer;
import io.mezzo.agent.containerizer.TaskEnvironment;
import io.mezzo.agent.containerizer.TaskUser;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Environment;
import io.mezzo.proto.v1.HealthCheck;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The three kinds of health check probe, each run off the loop:
 *
 * <ul>
 *   <li>COMMAND: the command (shell or argv) in the task's sandbox, with the task's environment plus the
 *       check's own, as the task's user; exit status 0 is healthy. On timeout it is killed, with what it
 *       started.
 *   <li>HTTP: GET {@code scheme://127.0.0.1:port/path}; a status in {@code statuses} (default 200-399)
 *       is healthy. https does not verify the certificate (the task's own, on loopback), as Mesos uses
 *       curl -k.
 *   <li>TCP: a connection to {@code 127.0.0.1:port} is healthy.
 * </ul>
 *
 * <p>Stateless; thread-safe. Used by the {@link HealthMonitor}, which makes one probe per checked task.
 */
public final class HealthProbes {

    private HealthProbes() {}

    /**
     * The probe of {@code spec}.
     *
     * @param environment the task's environment (COMMAND checks get it, plus their own)
     * @param user the task's user, or null for the agent's
     * @param workers where checks run
     */
    public static HealthChecker.Probe of(HealthCheck spec, Path sandbox, Map<String, String> environment, TaskUser user,
            Executor workers) {
        int timeoutMs = (int) Math.min(Integer.MAX_VALUE, HealthChecker.timeoutOf(spec).toMillis());
        return switch (spec.getType()) {
            case COMMAND -> () -> command(spec.getCommand(), sandbox, environment, user, workers);
            case HTTP -> () -> CompletableFuture.supplyAsync(() -> http(spec.getHttp(), timeoutMs), workers);
            case TCP -> () -> CompletableFuture.supplyAsync(() -> tcp(spec.getTcp().getPort(), timeoutMs), workers);
            default -> () -> CompletableFuture.completedFuture(
                    new HealthChecker.Result(false, "health check has no type"));
        };
    }

    private static CompletableFuture<HealthChecker.Result> command(CommandInfo command, Path sandbox,
            Map<String, String> environment, TaskUser user, Executor workers) {
        CompletableFuture<HealthChecker.Result> result = new CompletableFuture<>();
        workers.execute(() -> {
            List<String> argv = new ArrayList<>();
            String path = environment.getOrDefault("PATH", TaskEnvironment.DEFAULT_PATH);
            if (user != null) {
                Optional<Path> setpriv = Containerizer.which("setpriv", TaskEnvironment.DEFAULT_PATH, Path.of("/"));
                if (setpriv.isEmpty()) {
                    result.complete(new HealthChecker.Result(false, "setpriv is not installed"));
                    return;
                }
                argv.addAll(List.of(setpriv.get().toString(), "--reuid=" + user.uid(), "--regid=" + user.gid(),
                        "--init-groups", "--"));
            }
            if (!command.getShell().isEmpty()) {
                argv.addAll(List.of("/bin/sh", "-c", command.getShell()));
            } else if (command.getArgvCount() > 0) {
                argv.addAll(command.getArgvList());
            } else {
                result.complete(new HealthChecker.Result(false, "the check's command is empty"));
                return;
            }
            Map<String, String> env = new HashMap<>(environment);
            for (Environment.Variable v : command.getEnvironment().getVariablesList()) {
                env.put(v.getName(), v.getValue());
            }
            ProcessBuilder builder = new ProcessBuilder(argv)
                    .directory(sandbox.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD);
            builder.environment().clear();
            builder.environment().putAll(env);
            if (!env.containsKey("PATH")) {
                builder.environment().put("PATH", path);
            }
            Process process;
            try {
                process = builder.start();
            } catch (IOException e) {
                result.complete(new HealthChecker.Result(false, "cannot run the check's command: " + e.getMessage()));
                return;
            }
            // Abandoned (timed out, or the task ends): the command and what it started go.
            result.whenComplete((r, error) -> {
                if (result.isCancelled()) {
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly();
                }
            });
            process.onExit().thenAccept(p -> result.complete(p.exitValue() == 0
                    ? new HealthChecker.Result(true, "command exited with status 0")
                    : new HealthChecker.Result(false, "command exited with status " + p.exitValue())));
        });
        return result;
    }

    static HealthChecker.Result http(HealthCheck.HTTPCheckInfo http, int timeoutMs) {
        String scheme = http.getScheme().isEmpty() ? "http" : http.getScheme();
        String path = http.getPath().isEmpty() ? "/" : http.getPath();
        if (!path.startsWith("/")) {
            path = "/" + path;
        }
        String url = scheme + "://127.0.0.1:" + http.getPort() + path;
        HttpURLConnection connection = null;
        try {
            connection = (HttpURLConnection) URI.create(url).toURL().openConnection();
            if (connection instanceof HttpsURLConnection https) {
                https.setSSLSocketFactory(TRUST_ALL.getSocketFactory());
                https.setHostnameVerifier((host, session) -> true);
            }
            connection.setConnectTimeout(timeoutMs);
            connection.setReadTimeout(timeoutMs);
            connection.setInstanceFollowRedirects(false);
            int code = connection.getResponseCode();
            boolean healthy = http.getStatusesCount() == 0
                    ? code >= 200 && code < 400
                    : http.getStatusesList().contains(code);
            return new HealthChecker.Result(healthy, "GET " + url + ": HTTP " + code);
        } catch (IOException | IllegalArgumentException e) {
            return new HealthChecker.Result(false, "GET " + url + ": " + e);
        } finally {
            if (connection != null) {
                connection.disconnect();
            }
        }
    }

    static HealthChecker.Result tcp(int port, int timeoutMs) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), timeoutMs);
            return new HealthChecker.Result(true, "connected to 127.0.0.1:" + port);
        } catch (IOException e) {
            return new HealthChecker.Result(false, "cannot connect to 127.0.0.1:" + port + ": " + e.getMessage());
        }
    }

    /** TLS without certificate or host name checks: the task's own endpoint on loopback. */
    private static final SSLContext TRUST_ALL = trustAll();

    private static SSLContext trustAll() {
        TrustManager accept = new X509ExtendedTrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {accept}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("TLS is unavailable in this JVM", e);
        }
    }
}
