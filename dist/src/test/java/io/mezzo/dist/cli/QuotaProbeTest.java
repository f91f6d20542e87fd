package io.mezzo.dist.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mezzo.common.grpc.LeaderHint;
import io.mezzo.dist.run.RunFramework;
import io.mezzo.proto.v1.GetRolesResponse;
import io.mezzo.proto.v1.QuotaConfig;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.RoleView;
import io.mezzo.proto.v1.Value;
import java.net.ConnectException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Which quota keeps a run's task out, and which failed calls may be sent again to a new leader. */
@Timeout(10)
class QuotaProbeTest {

    private static Resource scalar(String name, long milli) {
        return Resource.newBuilder().setName(name).setType(Value.Type.SCALAR)
                .setScalar(Value.Scalar.newBuilder().setMilli(milli)).build();
    }

    private static RoleView role(String name, long cpuLimit, long consumedCpus, long offeredCpus) {
        return RoleView.newBuilder().setRole(name)
                .setQuota(QuotaConfig.newBuilder().setRole(name)
                        .putLimits("cpus", Value.Scalar.newBuilder().setMilli(cpuLimit).build()))
                .addConsumedQuota(scalar("cpus", consumedCpus)).addConsumedQuota(scalar("mem", 64_000))
                .addOffered(scalar("cpus", offeredCpus))
                .build();
    }

    @Test
    void aRequestAboveTheLimitCanNeverRun() {
        GetRolesResponse roles = GetRolesResponse.newBuilder().addRoles(role("eng", 1500, 0, 0)).build();

        RunFramework.QuotaVerdict v = QuotaProbe.verdict(roles, "eng", Map.of("cpus", 2000L, "mem", 32_000L));

        assertThat(v.never()).isTrue();
        assertThat(v.message()).isEqualTo("the task needs cpus 2 but the quota limit of role eng is cpus 1.5: it can"
                + " never run under this role (raise the limit with `mezzo quota set`)");
    }

    @Test
    void aRequestThatDoesNotFitBesideWhatTheRoleUsesWaits() {
        // 2 consumed, 1 of it only offered: the role uses 1 of its 1.5.
        GetRolesResponse roles = GetRolesResponse.newBuilder().addRoles(role("eng", 1500, 2000, 1000)).build();

        RunFramework.QuotaVerdict v = QuotaProbe.verdict(roles, "eng", Map.of("cpus", 750L));

        assertThat(v.never()).isFalse();
        assertThat(v.message()).isEqualTo("the quota limit of role eng is cpus 1.5 and it uses 1: the task's cpus 0.75"
                + " does not fit until the role's tasks free 0.25");
        assertThat(QuotaProbe.verdict(roles, "eng", Map.of("cpus", 500L))).isEqualTo(RunFramework.QuotaVerdict.FITS);
    }

    @Test
    void anAncestorsLimitCapsItsSubtree() {
        GetRolesResponse roles = GetRolesResponse.newBuilder().addRoles(role("eng", 1000, 0, 0))
                .addRoles(RoleView.newBuilder().setRole("eng/web")).build();

        RunFramework.QuotaVerdict v = QuotaProbe.verdict(roles, "eng/web", Map.of("cpus", 2000L));

        assertThat(v.never()).isTrue();
        assertThat(v.message()).contains("role eng (an ancestor of eng/web) is cpus 1");
        assertThat(QuotaProbe.verdict(roles, "ops", Map.of("cpus", 2000L))).isEqualTo(RunFramework.QuotaVerdict.FITS);
    }

    @Test
    void onlyCallsThatCertainlyDidNotTakeEffectCountAsNotDelivered() {
        Metadata hint = new Metadata();
        hint.put(LeaderHint.KEY, "10.0.0.2:5050");
        assertThat(LeaderConnection.notDelivered(Status.UNAVAILABLE.withDescription("this master is not the leader; ...")
                .asRuntimeException())).isTrue();
        assertThat(LeaderConnection.notDelivered(Status.UNAVAILABLE.asRuntimeException(hint))).isTrue();
        assertThat(LeaderConnection.notDelivered(new StatusRuntimeException(Status.UNAVAILABLE
                .withCause(new ConnectException("Connection refused"))))).isTrue();
        // The leader may have applied it before it went away: not repeated unless idempotent.
        assertThat(LeaderConnection.notDelivered(Status.UNAVAILABLE.withDescription("master did not apply the change")
                .asRuntimeException())).isFalse();
        assertThat(LeaderConnection.notDelivered(Status.DEADLINE_EXCEEDED.asRuntimeException())).isFalse();
        assertThat(LeaderConnection.notDelivered(Status.NOT_FOUND.asRuntimeException())).isFalse();
    }

    @Test
    void statusCodesMapToTheDocumentedExitCodes() {
        assertThat(ExitCodes.of(Status.NOT_FOUND.withDescription("agent x is not known").asRuntimeException()))
                .satisfies(f -> assertThat(f.exitCode()).isEqualTo(1)).hasMessage("agent x is not known");
        assertThat(ExitCodes.of(Status.PERMISSION_DENIED.asRuntimeException()).exitCode()).isEqualTo(1);
        assertThat(ExitCodes.of(Status.UNAVAILABLE.asRuntimeException()).exitCode()).isEqualTo(3);
        assertThat(ExitCodes.of(Status.DEADLINE_EXCEEDED.asRuntimeException()).exitCode()).isEqualTo(3);
    }
}
