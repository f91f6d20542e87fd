package io.mezzo.agent.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files API is confined to the sandboxes: no '..', no absolute path, no symbolic link out. */
class SandboxFilesTest {

    private static final String RUN_A = "a1/frameworks/f1/tasks/t1/runs/c1";
    private static final String RUN_B = "a1/frameworks/f1/tasks/t2/runs/c2";

    @TempDir
    Path work;

    private SandboxFiles files;

    @BeforeEach
    void sandboxes() throws Exception {
        Path a = Files.createDirectories(work.resolve("agents").resolve(RUN_A));
        Files.writeString(a.resolve("stdout"), "0123456789");
        Path b = Files.createDirectories(work.resolve("agents").resolve(RUN_B));
        Files.writeString(b.resolve("secret"), "other task");
        Files.createDirectories(work.resolve("meta"));
        Files.writeString(work.resolve("meta").resolve("agent.info"), "the agent's own");
        files = new SandboxFiles(work);
    }

    private static int status(ThrowingCall call) {
        try {
            call.run();
            return 200;
        } catch (SandboxFiles.Refused e) {
            return e.status();
        }
    }

    private interface ThrowingCall {
        void run() throws SandboxFiles.Refused;
    }

    @Test
    void readsAFileOfASandboxWithOffsetsFromEitherEnd() throws Exception {
        SandboxFiles.Chunk head = files.read(RUN_A + "/stdout", 2, 3);
        assertThat(new String(head.data(), StandardCharsets.UTF_8)).isEqualTo("234");
        assertThat(head.size()).isEqualTo(10);
        SandboxFiles.Chunk tail = files.read(RUN_A + "/stdout", -4, 100);
        assertThat(new String(tail.data(), StandardCharsets.UTF_8)).isEqualTo("6789");
        assertThat(tail.offset()).isEqualTo(6);
        assertThat(files.read(RUN_A + "/stdout", 50, 10).data()).isEmpty();
        assertThat(files.list(RUN_A)).extracting(SandboxFiles.Entry::name).containsExactly("stdout");
        assertThat(files.latestRun("t1", null)).contains(RUN_A);
        assertThat(files.latestRun("t1", "f2")).isEmpty();
    }

    @Test
    void refusesDotDotAndAbsolutePaths() {
        assertThat(status(() -> files.read(RUN_A + "/../../../../../../../meta/agent.info", 0, 10))).isEqualTo(400);
        assertThat(status(() -> files.read("../meta/agent.info", 0, 10))).isEqualTo(400);
        assertThat(status(() -> files.list(".."))).isEqualTo(400);
        assertThat(status(() -> files.read("/etc/passwd", 0, 10))).isEqualTo(400);
        assertThat(status(() -> files.read(work.resolve("meta/agent.info").toString(), 0, 10))).isEqualTo(400);
        assertThat(status(() -> files.read(RUN_A + "/nothing", 0, 10))).isEqualTo(404);
        assertThat(status(() -> files.latestRun("..", null))).isEqualTo(400);
        assertThat(status(() -> files.latestRun("t1/../t2", null))).isEqualTo(400);
    }

    @Test
    void refusesSymbolicLinksPlantedInASandboxThatLeadOutOfIt() throws Exception {
        Path sandbox = work.resolve("agents").resolve(RUN_A);
        Files.createSymbolicLink(sandbox.resolve("passwd"), Path.of("/etc/passwd"));
        Files.createSymbolicLink(sandbox.resolve("meta"), work.resolve("meta"));
        Files.createSymbolicLink(sandbox.resolve("neighbour"), work.resolve("agents").resolve(RUN_B));
        Files.createSymbolicLink(sandbox.resolve("out"), sandbox.resolve("stdout"));

        assertThat(status(() -> files.read(RUN_A + "/passwd", 0, 10))).isEqualTo(403);
        assertThat(status(() -> files.read(RUN_A + "/meta/agent.info", 0, 10))).isEqualTo(403);
        assertThat(status(() -> files.list(RUN_A + "/meta"))).isEqualTo(403);
        assertThat(status(() -> files.read(RUN_A + "/neighbour/secret", 0, 10))).isEqualTo(403);
        assertThat(status(() -> files.open(RUN_A + "/passwd"))).isEqualTo(403);
        // A link that stays inside its own sandbox is fine.
        assertThat(new String(files.read(RUN_A + "/out", 0, 3).data(), StandardCharsets.UTF_8)).isEqualTo("012");
    }

    @Test
    void aSandboxThatIsItselfALinkIsRefused() throws Exception {
        Path runs = work.resolve("agents").resolve("a1/frameworks/f1/tasks/t3/runs");
        Files.createDirectories(runs);
        Files.createSymbolicLink(runs.resolve("c3"), work.resolve("meta"));
        assertThat(status(() -> files.read("a1/frameworks/f1/tasks/t3/runs/c3/agent.info", 0, 10))).isEqualTo(403);
        assertThat(status(() -> files.list("a1/frameworks/f1/tasks/t3/runs/c3"))).isEqualTo(403);
    }
}
