package io.mezzo.agent.containerizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.ContainerId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxTest {

    @TempDir
    Path workDir;

    @Test
    void laysOutSandboxesAsMesosDoes() {
        Path p = Sandbox.path(workDir, AgentId.of("agent-1"), FrameworkId.of("framework-1"), TaskId.of("web.1"),
                ContainerId.of("c-1"));
        assertThat(workDir.relativize(p).toString())
                .isEqualTo("agents/agent-1/frameworks/framework-1/tasks/web.1/runs/c-1");
    }

    @Test
    void refusesIdsThatAreNotOnePathSegment() {
        assertThat(Sandbox.checkSegment("task id", "web-1:a_b.c")).isNull();
        assertThat(Sandbox.checkSegment("task id", "..")).isEqualTo("task id '..' is not allowed as a directory name");
        assertThat(Sandbox.checkSegment("task id", ".")).contains("'.'");
        assertThat(Sandbox.checkSegment("task id", "a/b")).isEqualTo("task id 'a/b' contains '/' or a NUL character");
        assertThat(Sandbox.checkSegment("task id", "")).isEqualTo("task id is empty");
        assertThat(Sandbox.checkSegment("framework id", "x".repeat(256))).contains("longer than 255");
        assertThatThrownBy(() -> Sandbox.path(workDir, AgentId.of("agent-1"), FrameworkId.of("f"), TaskId.of(".."),
                        ContainerId.of("c")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("task id '..'");
    }

    @Test
    void createsOutputFilesAndWritesMessagesWhole() throws Exception {
        Path sandbox = workDir.resolve("s");
        Sandbox.create(sandbox);
        assertThat(sandbox.resolve("stdout")).isEmptyFile();
        assertThat(sandbox.resolve("stderr")).isEmptyFile();
        Path first = Sandbox.writeMessage(sandbox, 1, new byte[] {1, 2, 3});
        Path second = Sandbox.writeMessage(sandbox, 2, "hi".getBytes());
        assertThat(first).isEqualTo(sandbox.resolve("messages/1")).hasBinaryContent(new byte[] {1, 2, 3});
        assertThat(second).hasContent("hi");
        try (var files = Files.list(sandbox.resolve("messages"))) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactlyInAnyOrder("1", "2");
        }
    }
}
