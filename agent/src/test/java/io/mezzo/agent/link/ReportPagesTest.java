package io.mezzo.agent.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The pages of a large REREGISTER report: each under the bound, in order, and whole again when joined. */
@Timeout(30)
class ReportPagesTest {

    private static final AgentInfo INFO = AgentInfo.newBuilder().setId(AgentID.newBuilder().setValue("agent-1"))
            .setHostname("host-1").build();

    @Test
    void aSmallReportIsOnePart() {
        AgentMessage.Reregister report = report(10);
        assertThat(ReportPages.split(report, ReportPages.DEFAULT_PART_BYTES)).containsExactly(report);
    }

    @Test
    void aReportOverTheBoundIsPagedUnderItAndJoinsBackWhole() {
        // About 6 MB of tasks: over gRPC's default 4 MiB inbound limit as one message.
        AgentMessage.Reregister report = report(6000);
        assertThat(report.getSerializedSize()).isGreaterThan(4 * 1024 * 1024);

        List<AgentMessage.Reregister> parts = ReportPages.split(report, ReportPages.DEFAULT_PART_BYTES);

        assertThat(parts).hasSizeGreaterThan(5);
        for (int i = 0; i < parts.size(); i++) {
            AgentMessage.Reregister part = parts.get(i);
            assertThat(part.getSerializedSize()).as("part %d", i).isLessThanOrEqualTo(ReportPages.DEFAULT_PART_BYTES);
            assertThat(part.getAgentInfo()).isEqualTo(INFO);
            assertThat(part.getMore()).as("more on part %d", i).isEqualTo(i < parts.size() - 1);
        }
        // What the master does with the parts (AgentReregistration.collectPage).
        AgentMessage.Reregister.Builder joined = parts.get(0).toBuilder().clearMore();
        for (AgentMessage.Reregister part : parts.subList(1, parts.size())) {
            joined.addAllFrameworks(part.getFrameworksList()).addAllTasks(part.getTasksList())
                    .addAllUnacknowledgedUpdates(part.getUnacknowledgedUpdatesList());
        }
        assertThat(joined.build()).isEqualTo(report);
    }

    private static AgentMessage.Reregister report(int tasks) {
        AgentMessage.Reregister.Builder b = AgentMessage.Reregister.newBuilder().setAgentInfo(INFO)
                .addFrameworks(FrameworkInfo.newBuilder().setId(FrameworkID.newBuilder().setValue("framework-1"))
                        .setName("batch"));
        String command = "x".repeat(1000);
        for (int i = 0; i < tasks; i++) {
            TaskID id = TaskID.newBuilder().setValue("task-" + i).build();
            b.addTasks(Task.newBuilder().setTaskId(id).setFrameworkId(FrameworkID.newBuilder().setValue("framework-1"))
                    .setAgentId(INFO.getId()).setState(TaskState.TASK_RUNNING)
                    .setTaskInfo(TaskInfo.newBuilder().setTaskId(id).setName("t")
                            .setCommand(CommandInfo.newBuilder().setShell(command + i))));
            if (i % 10 == 0) {
                b.addUnacknowledgedUpdates(StatusUpdate.newBuilder().setStatus(TaskStatus.newBuilder().setTaskId(id)
                        .setState(TaskState.TASK_RUNNING)));
            }
        }
        return b.build();
    }
}
