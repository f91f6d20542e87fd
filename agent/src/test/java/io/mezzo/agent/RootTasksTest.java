package io.mezzo.agent;

import static io.mezzo.agent.AgentHarness.FRAMEWORK;
import static io.mezzo.agent.AgentHarness.acknowledgeThrough;
import static io.mezzo.agent.AgentHarness.run;
import static io.mezzo.agent.AgentHarness.task;
import static io.mezzo.testkit.Protos.shell;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.mezzo.agent.testing.TestCgroups;
import io.mezzo.proto.v1.AgentOperatorGrpc;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Environment;
import io.mezzo.proto.v1.GetAgentStateRequest;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.testkit.ScriptedMaster;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tasks never become root unless the agent allows it ({@code --allow_root_tasks}), and the agent's
 * state never shows a task's environment values. The policy itself is pure ({@link TaskUserPolicy});
 * the end-to-end cases need an agent running as root and skip elsewhere.
 */
class RootTasksTest {

    @TempDir
    Path workDir;

    private AgentHarness h;

    @AfterEach
    void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void thePolicyRefusesRootUnlessAllowed() {
        assertThat(TaskUserPolicy.check(false, false, false, "")).as("an unprivileged agent").isNull();
        assertThat(TaskUserPolicy.check(true, true, false, "nobody")).isNull();
        assertThat(TaskUserPolicy.check(true, true, false, "root")).contains("asks to run as root");
        assertThat(TaskUserPolicy.check(true, true, false, "")).contains("names no user");
        assertThat(TaskUserPolicy.check(true, false, false, "nobody")).contains("--switch_user=false");
        assertThat(TaskUserPolicy.check(true, false, true, "")).isNull();
        assertThat(TaskUserPolicy.check(true, true, true, "root")).isNull();
        assertThat(TaskUserPolicy.checkUid(false, "toor", 0)).contains("uid 0");
        assertThat(TaskUserPolicy.checkUid(true, "toor", 0)).isNull();
        assertThat(TaskUserPolicy.checkUid(false, "nobody", 65534)).isNull();
    }

    @Test
    void aRootAgentRefusesARootTaskWithoutTheFlag() throws Exception {
        Assumptions.assumeTrue(TestCgroups.isRoot(), "the policy applies to agents running as root");
        h = new AgentHarness(workDir, b -> b.isolation(AgentConfig.IsolationMode.POSIX));
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        conn.send(run(task("as-root", CommandInfo.newBuilder().setShell("true").setUser("root").build(), 32)));
        StatusUpdate error = acknowledgeThrough(conn, TaskState.TASK_ERROR);
        assertThat(error.getStatus().getReason()).isEqualTo(StatusReason.REASON_TASK_USER_INVALID);
        assertThat(error.getStatus().getMessage()).contains("--allow_root_tasks");

        conn.send(run(FRAMEWORK.toBuilder().clearUser().build(), task("no-user", shell("true"), 32)));
        assertThat(acknowledgeThrough(conn, TaskState.TASK_ERROR).getStatus().getMessage()).contains("names no user");
    }

    @Test
    void aRootAgentWithSwitchUserOffRunsNothingAsRootWithoutTheFlag() throws Exception {
        Assumptions.assumeTrue(TestCgroups.isRoot(), "the policy applies to agents running as root");
        h = new AgentHarness(workDir, b -> b.isolation(AgentConfig.IsolationMode.POSIX).switchUser(false));
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        conn.send(run(task("t", shell("true"), 32)));
        assertThat(acknowledgeThrough(conn, TaskState.TASK_ERROR).getStatus().getMessage())
                .contains("--switch_user=false");
    }

    @Test
    void withTheFlagARootTaskRunsAndItsEnvironmentStaysOutOfTheState() throws Exception {
        Assumptions.assumeTrue(TestCgroups.isRoot(), "running as root needs root");
        h = new AgentHarness(workDir, b -> b.isolation(AgentConfig.IsolationMode.POSIX).allowRootTasks(true));
        h.start();
        ScriptedMaster.AgentStream conn = h.register();
        CommandInfo command = CommandInfo.newBuilder().setShell("sleep 600").setUser("root")
                .setEnvironment(Environment.newBuilder().addVariables(Environment.Variable.newBuilder()
                        .setName("PASSWORD").setValue("hunter2")))
                .build();
        conn.send(run(task("as-root", command, 32)));
        acknowledgeThrough(conn, TaskState.TASK_STARTING, TaskState.TASK_RUNNING);
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", h.agent.boundPort()).usePlaintext().build();
        try {
            String state = AgentOperatorGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .getAgentState(GetAgentStateRequest.getDefaultInstance()).toString();
            assertThat(state).contains("PASSWORD").doesNotContain("hunter2");
        } finally {
            channel.shutdownNow();
        }
    }
}
