package io.mezzo.master.validation;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.master.allocator.Quota;
import io.mezzo.master.allocator.RoleConfig;
import io.mezzo.proto.v1.QuotaConfig;
import io.mezzo.proto.v1.Value;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The over-commit check of UpdateQuota (issue 17), as a pure function. */
class RoleConfigValidationTest {

    private static final Set<String> NAMES = Set.of("cpus", "mem", "disk", "gpus");
    private static final Map<String, Long> CLUSTER = Map.of("cpus", 2_000L, "mem", 2_048_000L);

    private static QuotaConfig guarantee(String role, long cpus, long mem) {
        QuotaConfig.Builder q = QuotaConfig.newBuilder().setRole(role);
        if (cpus > 0) {
            q.putGuarantees("cpus", Value.Scalar.newBuilder().setMilli(cpus).build());
        }
        if (mem > 0) {
            q.putGuarantees("mem", Value.Scalar.newBuilder().setMilli(mem).build());
        }
        return q.build();
    }

    @Test
    void guaranteesThatFitTheClusterPass() {
        var outcome = RoleConfigValidation.withQuotas(RoleConfig.EMPTY,
                List.of(guarantee("qa", 1_000, 1_024_000), guarantee("qb", 1_000, 1_024_000)), NAMES, CLUSTER, false);
        assertThat(outcome.error()).isNull();
        assertThat(outcome.config().guaranteedInTotal()).isEqualTo(Map.of("cpus", 2_000L, "mem", 2_048_000L));
    }

    @Test
    void anOvercommitIsRefusedPerResourceUnlessForced() {
        List<QuotaConfig> quotas = List.of(guarantee("qa", 2_000, 2_048_000), guarantee("qb", 1_000, 0));
        var refused = RoleConfigValidation.withQuotas(RoleConfig.EMPTY, quotas, NAMES, CLUSTER, false);
        assertThat(refused.config()).isNull();
        assertThat(refused.error()).isEqualTo("the guarantees would add up to more than the cluster's total: cpus 3"
                + " guaranteed, the cluster has 2 (short by 1). Set force to apply them anyway");
        var forced = RoleConfigValidation.withQuotas(RoleConfig.EMPTY, quotas, NAMES, CLUSTER, true);
        assertThat(forced.error()).isNull();
        assertThat(forced.config().quotas()).containsKeys("qa", "qb");
    }

    @Test
    void nestedGuaranteesCountOnceAsTheTreeNeedsThem() {
        // eng 2 cpus, of which eng/web 1 and eng/api 1: the tree needs 2, not 4.
        var outcome = RoleConfigValidation.withQuotas(RoleConfig.EMPTY, List.of(guarantee("eng", 2_000, 0),
                guarantee("eng/web", 1_000, 0), guarantee("eng/api", 1_000, 0)), NAMES, CLUSTER, false);
        assertThat(outcome.error()).isNull();
        // A guarantee of a resource no agent has is above the total (0).
        var gpus = RoleConfigValidation.withQuotas(RoleConfig.EMPTY, List.of(QuotaConfig.newBuilder().setRole("ml")
                .putGuarantees("gpus", Value.Scalar.newBuilder().setMilli(1_000).build()).build()), NAMES, CLUSTER, false);
        assertThat(gpus.error()).contains("gpus 1 guaranteed, the cluster has 0 (short by 1)");
    }

    @Test
    void loweringAnOvercommitIsAllowedRaisingItIsNot() {
        RoleConfig over = RoleConfig.EMPTY.withQuotas(Map.of("qa", new Quota(Map.of("cpus", 4_000L), Map.of())));
        assertThat(RoleConfigValidation.withQuotas(over, List.of(guarantee("qa", 3_000, 0)), NAMES, CLUSTER, false)
                .error()).isNull();
        assertThat(RoleConfigValidation.withQuotas(over, List.of(guarantee("qb", 1_000, 0)), NAMES, CLUSTER, false)
                .error()).contains("cpus 5 guaranteed, the cluster has 2 (short by 3)");
        // A new guarantee of another resource that fits is fine although cpus stay over-committed.
        assertThat(RoleConfigValidation.withQuotas(over, List.of(guarantee("qb", 0, 1_024_000)), NAMES, CLUSTER, false)
                .error()).isNull();
    }
}
