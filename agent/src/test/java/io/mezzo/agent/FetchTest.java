package io.mezzo.agent;

import static io.mezzo.agent.AgentHarness.acknowledgeThrough;
import static io.mezzo.agent.AgentHarness.run;
import static io.mezzo.agent.AgentHarness.task;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.mezzo.agent.fetcher.Fetcher;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.CommandURI;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.testkit.ScriptedMaster;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent fetches a task's URIs into its sandbox before the command starts, off its loop. */
class FetchTest {

    @TempDir
    Path workDir;

    private HttpServer server;
    private AgentHarness h;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/greeting.txt", exchange -> {
            byte[] body = "hello from http\n".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
            exchange.close();
        });
        server.start();
        h = new AgentHarness(workDir, b -> b.isolation(AgentConfig.IsolationMode.POSIX));
        h.start();
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
        server.stop(0);
    }

    @Test
    void theCommandFindsItsFetchedFilesInItsSandbox() throws Exception {
        ScriptedMaster.AgentStream conn = h.register();
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/greeting.txt";
        conn.send(run(task("t1", CommandInfo.newBuilder()
                .setShell("cat greeting.txt")
                .addUris(CommandURI.newBuilder().setValue(url).setCache(true))
                .build(), 32)));
        StatusUpdate starting = acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING,
                TaskState.TASK_FINISHED);
        Path sandbox = h.sandbox(starting);
        assertThat(Files.readString(sandbox.resolve("stdout"))).isEqualTo("hello from http\n");
        assertThat(Files.readString(sandbox.resolve(Fetcher.LOG_FILE))).contains("Fetching " + url);
    }

    @Test
    void aFetchFailureFailsTheTaskNamingTheUri() throws Exception {
        ScriptedMaster.AgentStream conn = h.register();
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/missing.tgz";
        conn.send(run(task("t1", CommandInfo.newBuilder()
                .setShell("echo never")
                .addUris(CommandURI.newBuilder().setValue(url).setExtract(true))
                .build(), 32)));
        StatusUpdate failed = acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_FAILED);
        assertThat(failed.getStatus().getReason()).isEqualTo(StatusReason.REASON_FETCHER_FAILED);
        assertThat(failed.getStatus().getSource()).isEqualTo(StatusSource.SOURCE_AGENT);
        assertThat(failed.getStatus().getMessage()).isEqualTo("Failed to fetch '" + url + "': HTTP 404 Not Found");
        assertThat(Files.readString(h.sandbox(failed).resolve("stdout"))).isEmpty();
    }
}
