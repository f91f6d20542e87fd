package io.mezzo.agent.fetcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.mezzo.agent.containerizer.TaskUser;
import io.mezzo.proto.v1.CommandURI;
import io.mezzo.testkit.ManualClock;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fetcher against a real HTTP server on 127.0.0.1 and local files. */
class FetcherTest {

    @TempDir
    Path dir;

    private final ManualClock clock = new ManualClock();
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    private HttpServer server;
    private Path sandbox;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            requests.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            byte[] body = files.get(path);
            if (body == null) {
                exchange.sendResponseHeaders(404, -1);
            } else {
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
            exchange.close();
        });
        server.start();
        sandbox = Files.createDirectories(dir.resolve("sandbox"));
        files.put("/hello.txt", "hello\n".getBytes(StandardCharsets.UTF_8));
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void fetchesOverHttpUnderTheOutputFileNameAndMakesItExecutable() throws Exception {
        files.put("/tool.sh", "#!/bin/sh\necho tool\n".getBytes(StandardCharsets.UTF_8));
        fetcher(0).fetch(List.of(
                uri(url("/hello.txt")).build(),
                uri(url("/tool.sh")).setOutputFile("bin/run.sh").setExecutable(true).build()), sandbox, null);
        assertThat(sandbox.resolve("hello.txt")).hasContent("hello");
        assertThat(sandbox.resolve("bin/run.sh")).isExecutable();
        assertThat(Files.readString(sandbox.resolve(Fetcher.LOG_FILE))).contains("Fetching " + url("/hello.txt"));
    }

    @Test
    void fetchesLocalFiles() throws Exception {
        Path local = Files.writeString(dir.resolve("local.txt"), "local");
        fetcher(0).fetch(List.of(uri(local.toUri().toString()).build()), sandbox, null);
        assertThat(sandbox.resolve("local.txt")).hasContent("local");
    }

    @Test
    void extractsTarballsAndZips() throws Exception {
        Path content = Files.createDirectories(dir.resolve("content/app"));
        Files.writeString(content.resolve("run.sh"), "#!/bin/sh\n");
        assertThat(content.resolve("run.sh").toFile().setExecutable(true)).isTrue();
        Path tgz = dir.resolve("app.tgz");
        Process tar = new ProcessBuilder("tar", "-czf", tgz.toString(), "-C", dir.resolve("content").toString(), "app")
                .start();
        assertThat(tar.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(tar.exitValue()).isZero();
        files.put("/app.tgz", Files.readAllBytes(tgz));
        files.put("/data.zip", zip(Map.of("data/a.txt", "a", "data/b/c.txt", "c")));

        fetcher(0).fetch(List.of(uri(url("/app.tgz")).setExtract(true).build(),
                uri(url("/data.zip")).setExtract(true).build()), sandbox, null);
        assertThat(sandbox.resolve("app/run.sh")).isExecutable();
        assertThat(sandbox.resolve("data/a.txt")).hasContent("a");
        assertThat(sandbox.resolve("data/b/c.txt")).hasContent("c");
        // The archives stay, as Mesos leaves them.
        assertThat(sandbox.resolve("app.tgz")).exists();
    }

    @Test
    void refusesAZipEntryOutsideTheSandbox() throws Exception {
        files.put("/evil.zip", zip(Map.of("../escaped.txt", "x")));
        assertThatThrownBy(() -> fetcher(0).fetch(List.of(uri(url("/evil.zip")).setExtract(true).build()), sandbox,
                null))
                .isInstanceOf(FetchException.class)
                .hasMessageContaining("entry '../escaped.txt' is outside the sandbox");
        assertThat(dir.resolve("escaped.txt")).doesNotExist();
    }

    @Test
    void aZipEntryUnderALinkPlantedInTheSandboxIsRefused() throws Exception {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.createSymbolicLink(sandbox.resolve("evil"), outside);
        files.put("/planted.zip", zip(Map.of("evil/owned.txt", "x")));
        assertThatThrownBy(() -> fetcher(0).fetch(List.of(uri(url("/planted.zip")).setExtract(true).build()), sandbox,
                null))
                .isInstanceOf(FetchException.class)
                .hasMessageContaining("lies under the symbolic link evil");
        assertThat(outside.resolve("owned.txt")).doesNotExist();
    }

    @Test
    void aDownloadReplacesALinkAtItsNameInsteadOfWritingThroughIt() throws Exception {
        Path victim = Files.writeString(dir.resolve("victim.txt"), "precious");
        Files.createSymbolicLink(sandbox.resolve("hello.txt"), victim);
        Files.createSymbolicLink(sandbox.resolve(".hello.txt.fetching"), victim);
        fetcher(0).fetch(List.of(uri(url("/hello.txt")).build()), sandbox, null);
        assertThat(victim).hasContent("precious");
        assertThat(Files.isSymbolicLink(sandbox.resolve("hello.txt"))).isFalse();
        assertThat(sandbox.resolve("hello.txt")).hasContent("hello");
    }

    @Test
    void aLocalFileIsReadWithTheTaskUsersRights() throws Exception {
        Assumptions.assumeTrue(TaskUser.agentIsRoot(), "switching users needs root");
        TaskUser nobody = TaskUser.lookup("nobody");
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path secret = Files.writeString(shared.resolve("secret.txt"), "root only");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Path open = Files.writeString(shared.resolve("open.txt"), "for all");
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));

        assertThatThrownBy(() -> fetcher(0).fetch(List.of(uri(secret.toUri().toString()).build()), sandbox, nobody))
                .isInstanceOf(FetchException.class)
                .hasMessageContaining("user nobody cannot read it");
        assertThat(sandbox.resolve("secret.txt")).doesNotExist();

        fetcher(0).fetch(List.of(uri(open.toUri().toString()).build()), sandbox, nobody);
        assertThat(sandbox.resolve("open.txt")).hasContent("for all");
    }

    @Test
    void servesRepeatedFetchesFromTheCacheAndEvictsTheLeastRecentlyUsed() throws Exception {
        files.put("/a.bin", new byte[600]);
        files.put("/b.bin", new byte[600]);
        Fetcher fetcher = fetcher(1000);
        Path other = Files.createDirectories(dir.resolve("other"));
        fetcher.fetch(List.of(uri(url("/a.bin")).setCache(true).build()), sandbox, null);
        fetcher.fetch(List.of(uri(url("/a.bin")).setCache(true).build()), other, null);
        assertThat(requests.get("/a.bin").get()).isEqualTo(1);
        assertThat(other.resolve("a.bin")).hasSize(600);

        // b does not fit beside a: a, least recently used, goes.
        fetcher.fetch(List.of(uri(url("/b.bin")).setCache(true).build()), sandbox, null);
        fetcher.fetch(List.of(uri(url("/b.bin")).setCache(true).build()), other, null);
        assertThat(requests.get("/b.bin").get()).isEqualTo(1);
        fetcher.fetch(List.of(uri(url("/a.bin")).setCache(true).build()), other, null);
        assertThat(requests.get("/a.bin").get()).isEqualTo(2);

        // Without the cache flag, the cache is not used.
        fetcher.fetch(List.of(uri(url("/a.bin")).build()), other, null);
        assertThat(requests.get("/a.bin").get()).isEqualTo(3);

        // A new fetcher on the same directory (an agent restart) still has it.
        fetcher(1000).fetch(List.of(uri(url("/a.bin")).setCache(true).build()), other, null);
        assertThat(requests.get("/a.bin").get()).isEqualTo(3);
    }

    @Test
    void failuresNameTheUriAndTheCause() throws Exception {
        Fetcher fetcher = fetcher(0);
        assertThatThrownBy(() -> fetcher.fetch(List.of(uri("ftp://example.com/x").build()), sandbox, null))
                .hasMessage("Failed to fetch 'ftp://example.com/x': unsupported scheme 'ftp' (http, https and file"
                        + " are supported)");
        assertThatThrownBy(() -> fetcher.fetch(List.of(uri("http://[bad").build()), sandbox, null))
                .hasMessageStartingWith("Failed to fetch 'http://[bad': malformed URI: ");
        assertThatThrownBy(() -> fetcher.fetch(List.of(uri(url("/missing.txt")).build()), sandbox, null))
                .hasMessage("Failed to fetch '" + url("/missing.txt") + "': HTTP 404 Not Found");
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            closed = s.getLocalPort();
        }
        String unreachable = "http://127.0.0.1:" + closed + "/x.txt";
        assertThatThrownBy(() -> fetcher.fetch(List.of(uri(unreachable).build()), sandbox, null))
                .hasMessageStartingWith("Failed to fetch '" + unreachable + "': cannot connect");
        assertThatThrownBy(() -> fetcher.fetch(List.of(uri(dir.resolve("nope").toUri().toString()).build()), sandbox,
                null))
                .hasMessageContaining("no such file " + dir.resolve("nope"));
        assertThatThrownBy(() -> fetcher.fetch(List.of(uri(url("/hello.txt")).setOutputFile("../x").build()),
                sandbox, null))
                .hasMessageContaining("output file '../x' is not inside the sandbox");
        assertThat(Files.readString(sandbox.resolve(Fetcher.LOG_FILE))).contains("HTTP 404 Not Found");
    }

    private Fetcher fetcher(long cacheBytes) throws IOException {
        return new Fetcher(dir.resolve("cache"), cacheBytes, clock);
    }

    private String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    private static CommandURI.Builder uri(String value) {
        return CommandURI.newBuilder().setValue(value);
    }

    private static byte[] zip(Map<String, String> entries) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, String> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue().getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }
}
