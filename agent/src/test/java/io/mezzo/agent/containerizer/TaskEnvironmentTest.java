package io.mezzo.agent.containerizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.ContainerId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Environment;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.Value;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TaskEnvironmentTest {

    private static final Path SANDBOX = Path.of("/work/sandbox");

    @Test
    void takesOnlyPathLangAndTzFromTheAgent() {
        Map<String, String> env = build(Map.of("PATH", "/bin", "LANG", "C.UTF-8", "TZ", "UTC", "SECRET", "x"),
                task().build());
        assertThat(env).containsEntry("PATH", "/bin").containsEntry("LANG", "C.UTF-8").containsEntry("TZ", "UTC");
        assertThat(env).doesNotContainKey("SECRET");
        assertThat(build(Map.of(), task().build())).containsEntry("PATH", TaskEnvironment.DEFAULT_PATH);
    }

    @Test
    void describesTheTask() {
        Map<String, String> env = build(Map.of(), task().build());
        assertThat(env)
                .containsEntry("MEZZO_TASK_ID", "task-1")
                .containsEntry("MEZZO_FRAMEWORK_ID", "framework-1")
                .containsEntry("MEZZO_AGENT_ID", "agent-1")
                .containsEntry("MEZZO_EXECUTOR_ID", "task-1")
                .containsEntry("MEZZO_CONTAINER_ID", "container-1")
                .containsEntry("MEZZO_SANDBOX", "/work/sandbox")
                .doesNotContainKeys("MEZZO_TASK_DATA", "PORTS", "PORT0");
    }

    @Test
    void carriesTaskDataAsBase64() {
        byte[] data = {0, 1, 2, (byte) 255};
        Map<String, String> env = build(Map.of(), task().setData(ByteString.copyFrom(data)).build());
        assertThat(Base64.getDecoder().decode(env.get("MEZZO_TASK_DATA"))).isEqualTo(data);
    }

    @Test
    void listsPortsAcrossRangesAndReservations() {
        TaskInfo t = task()
                .addResources(ports(31005, 31005))
                .addResources(ports(31000, 31001))
                .build();
        Map<String, String> env = build(Map.of(), t);
        assertThat(env)
                .containsEntry("PORTS", "31000-31001,31005")
                .containsEntry("PORT0", "31000")
                .containsEntry("PORT1", "31001")
                .containsEntry("PORT2", "31005")
                .doesNotContainKey("PORT3");
    }

    @Test
    void commandEnvironmentComesLastAndInOrder() {
        TaskInfo t = task()
                .setCommand(CommandInfo.newBuilder()
                        .setShell("true")
                        .setEnvironment(Environment.newBuilder()
                                .addVariables(Environment.Variable.newBuilder().setName("A").setValue("1"))
                                .addVariables(Environment.Variable.newBuilder().setName("A").setValue("2"))
                                .addVariables(Environment.Variable.newBuilder().setName("PATH").setValue("/opt"))))
                .build();
        Map<String, String> env = build(Map.of("PATH", "/bin"), t);
        assertThat(env).containsEntry("A", "2").containsEntry("PATH", "/opt");
    }

    private static Map<String, String> build(Map<String, String> agentEnv, TaskInfo task) {
        return TaskEnvironment.build(agentEnv, AgentId.of("agent-1"), FrameworkId.of("framework-1"), task,
                ContainerId.of("container-1"), SANDBOX);
    }

    private static TaskInfo.Builder task() {
        return TaskInfo.newBuilder()
                .setTaskId(TaskID.newBuilder().setValue("task-1"))
                .setCommand(CommandInfo.newBuilder().setShell("true"));
    }

    private static Resource ports(long begin, long end) {
        return Resource.newBuilder()
                .setName("ports")
                .setType(Value.Type.RANGES)
                .setRanges(Value.Ranges.newBuilder().addRange(Value.Range.newBuilder().setBegin(begin).setEnd(end)))
                .build();
    }
}
