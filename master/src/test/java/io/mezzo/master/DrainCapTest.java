package io.mezzo.master;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.DrainConfig;
import io.mezzo.proto.v1.DurationInfo;
import io.mezzo.proto.v1.KillPolicy;
import io.mezzo.testkit.Protos;
import org.junit.jupiter.api.Test;

/** The grace period a drain gives a task: its own, capped by the drain's max_grace_period. Pure. */
class DrainCapTest {

    private static KillPolicy grace(long nanos) {
        return KillPolicy.newBuilder().setGracePeriod(DurationInfo.newBuilder().setNanoseconds(nanos)).build();
    }

    private static TaskRecord task(KillPolicy own) {
        var info = Protos.task("t1", "a1", "cpus:1");
        if (own != null) {
            info.setKillPolicy(own);
        }
        return new TaskRecord(TaskId.of("t1"), FrameworkId.of("f1"), AgentId.of("a1"), info.build(), Resources.EMPTY, "*");
    }

    @Test
    void theTasksOwnGraceIsCappedAndAShorterOneKept() {
        DrainConfig cap = DrainConfig.newBuilder().setMaxGracePeriod(DurationInfo.newBuilder().setNanoseconds(5)).build();
        assertThat(DrainManager.cappedPolicy(task(grace(60)), cap)).isEqualTo(grace(5));
        assertThat(DrainManager.cappedPolicy(task(grace(2)), cap)).isEqualTo(grace(2));
        assertThat(DrainManager.cappedPolicy(task(null), cap)).isEqualTo(grace(5));
        TaskRecord killed = task(grace(60));
        killed.killPolicy = grace(1);
        assertThat(DrainManager.cappedPolicy(killed, cap)).isEqualTo(grace(1));
        assertThat(DrainManager.cappedPolicy(task(grace(60)), DrainConfig.getDefaultInstance())).isNull();
    }
}
