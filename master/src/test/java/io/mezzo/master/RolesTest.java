package io.mezzo.master;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.GetRolesRequest;
import io.mezzo.proto.v1.GetRolesResponse;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.QuotaConfig;
import io.mezzo.proto.v1.RoleView;
import io.mezzo.proto.v1.UpdateQuotaRequest;
import io.mezzo.proto.v1.UpdateWeightsRequest;
import io.mezzo.proto.v1.Value;
import io.mezzo.proto.v1.WeightInfo;
import io.mezzo.testkit.FakeScheduler;
import io.mezzo.testkit.Protos;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Roles over real gRPC on loopback: weights and quotas through the operator API (every invalid
 * update refused with INVALID_ARGUMENT and nothing changed), their effect on offers, reserved
 * resources offered only within their role's subtree, and suppression per role.
 */
class RolesTest {

    private MasterHarness h;

    @BeforeEach
    void start() throws Exception {
        h = new MasterHarness();
    }

    @AfterEach
    void stop() throws Exception {
        h.close();
    }

    private GetRolesResponse roles() {
        return h.operator().getRoles(GetRolesRequest.getDefaultInstance());
    }

    private RoleView role(String name) {
        return roles().getRolesList().stream().filter(r -> r.getRole().equals(name)).findFirst().orElseThrow();
    }

    private static WeightInfo weight(String role, double w) {
        return WeightInfo.newBuilder().setRole(role).setWeight(w).build();
    }

    private static Value.Scalar milli(long v) {
        return Value.Scalar.newBuilder().setMilli(v).build();
    }

    private static QuotaConfig.Builder quota(String role) {
        return QuotaConfig.newBuilder().setRole(role);
    }

    private static FrameworkInfo.Builder inRoles(String name, String... roles) {
        FrameworkInfo.Builder f = Protos.framework(name);
        for (String r : roles) {
            f.addRoles(r);
        }
        if (roles.length > 1) {
            f.addCapabilities(FrameworkInfo.Capability.newBuilder().setType(FrameworkInfo.Capability.Type.MULTI_ROLE));
        }
        return f;
    }

    private static Resources resources(Offer offer) {
        return Resources.fromProto(offer.getResourcesList());
    }

    // ------------------------------------------------------------------------------------------
    // Weights
    // ------------------------------------------------------------------------------------------

    @Test
    void weightsAreSetShownAndReset() {
        h.operator().updateWeights(UpdateWeightsRequest.newBuilder()
                .addWeights(weight("eng", 2)).addWeights(weight("eng/web", 0.5)).build());
        assertThat(role("eng").getWeight()).isEqualTo(2.0);
        assertThat(role("eng/web").getWeight()).isEqualTo(0.5);
        h.operator().updateWeights(UpdateWeightsRequest.newBuilder()
                .addWeights(weight("eng", 1)).addWeights(weight("eng/web", 1)).build());
        // Back to the defaults, with nothing else in them: the roles are no longer listed.
        assertThat(roles().getRolesList()).isEmpty();
    }

    static Stream<Arguments> invalidWeights() {
        return Stream.of(
                Arguments.of(weight("a b", 2), "forbidden character"),
                Arguments.of(weight("eng/", 2), "starts or ends with '/'"),
                Arguments.of(weight("eng//web", 2), "empty segment"),
                Arguments.of(weight("eng/..", 2), "'..' segment"),
                Arguments.of(weight("", 2), "role name is empty"),
                Arguments.of(weight("ops", Double.NaN), "positive finite number"),
                Arguments.of(weight("ops", 0), "positive finite number"),
                Arguments.of(weight("ops", -1), "positive finite number"),
                Arguments.of(weight("ops", Double.POSITIVE_INFINITY), "positive finite number"),
                Arguments.of(weight("ops", 2e6), "at most 1000000"),
                Arguments.of(weight("eng", 3), "named twice"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("invalidWeights")
    void anInvalidWeightIsRefusedAndNothingChanges(WeightInfo bad, String message) {
        h.operator().updateWeights(UpdateWeightsRequest.newBuilder().addWeights(weight("base", 3)).build());
        GetRolesResponse before = roles();
        // A valid entry first: the batch must not be applied in part.
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> h.operator().updateWeights(
                UpdateWeightsRequest.newBuilder().addWeights(weight("eng", 2)).addWeights(bad).build()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.getStatus().getDescription()).contains("weights[1]").contains(message);
        assertThat(roles()).isEqualTo(before);
    }

    @Test
    void aWeightDividesTheRoleShare() throws Exception {
        for (int i = 1; i <= 3; i++) {
            h.agent("host-" + i, "cpus:1;mem:512");
        }
        h.operator().updateWeights(UpdateWeightsRequest.newBuilder().addWeights(weight("heavy", 2)).build());
        FakeScheduler heavy = h.scheduler(inRoles("heavy", "heavy").build());
        heavy.next(Event.Type.OFFERS);
        h.settle();
        FakeScheduler light = h.scheduler(inRoles("light", "light").build());
        // heavy holds everything (3 agents). It gives all back in one DECLINE, so one cycle sorts
        // heavy (0, 3 allocations so far) and light (0, none): light gets an agent (1/3 = 0.33),
        // then heavy (1/3 / 2 = 0.17), then heavy again (0.17 < 0.33): two agents to one.
        Call.Decline.Builder decline = Call.Decline.newBuilder().setFilters(Filters.newBuilder().setRefuseSeconds(0));
        h.operator().getState(io.mezzo.proto.v1.GetStateRequest.getDefaultInstance()).getOffersList()
                .forEach(o -> decline.addOfferIds(o.getId()));
        assertThat(decline.getOfferIdsCount()).isEqualTo(3);
        heavy.call(Call.newBuilder().setType(Call.Type.DECLINE).setDecline(decline));
        heavy.sync();
        h.settle();
        assertThat(role("heavy").getAllocatedList()).isEqualTo(ResourceText.parse("cpus:2;mem:1024").toProto());
        assertThat(role("light").getAllocatedList()).isEqualTo(ResourceText.parse("cpus:1;mem:512").toProto());
        assertThat(light).isNotNull();
    }

    // ------------------------------------------------------------------------------------------
    // Quotas
    // ------------------------------------------------------------------------------------------

    @Test
    void aLimitIsShownAndCapsOffers() throws Exception {
        h.agent("host-1", "cpus:4;mem:4096");
        h.operator().updateQuota(UpdateQuotaRequest.newBuilder()
                .addQuotas(quota("dev").putLimits("cpus", milli(1_000))).build());
        FakeScheduler dev = h.scheduler(inRoles("dev", "dev").build());
        Offer offer = dev.next(Event.Type.OFFERS).getOffers().getOffers(0);
        assertThat(resources(offer)).isEqualTo(ResourceText.parse("cpus:1;mem:4096"));
        RoleView view = role("dev");
        assertThat(view.getQuota().getLimitsMap()).containsEntry("cpus", milli(1_000));
        assertThat(view.getFrameworksList()).containsExactly(dev.frameworkId);
        assertThat(view.getOfferedList()).isEqualTo(ResourceText.parse("cpus:1;mem:4096").toProto());
        assertThat(view.getConsumedQuotaList()).isEqualTo(ResourceText.parse("cpus:1;mem:4096").toProto());
    }

    @Test
    void anUnusedGuaranteeIsKeptFreeUntilItsRoleComes() throws Exception {
        h.agent("host-1", "cpus:2;mem:1024");
        h.agent("host-2", "cpus:2;mem:1024");
        h.operator().updateQuota(UpdateQuotaRequest.newBuilder().addQuotas(quota("prod")
                .putGuarantees("cpus", milli(4_000)).putGuarantees("mem", milli(2_048_000))).build());
        FakeScheduler dev = h.scheduler(inRoles("dev", "dev").build());
        h.advance(Duration.ofSeconds(2));
        dev.assertNone(Event.Type.OFFERS);
        FakeScheduler prod = h.scheduler(inRoles("prod", "prod").build());
        int offered = 0;
        while (offered < 2) {
            offered += prod.next(Event.Type.OFFERS).getOffers().getOffersCount();
        }
        dev.assertNone(Event.Type.OFFERS);
        // Removing the quota hands nothing over by itself: prod holds both agents.
        h.operator().updateQuota(UpdateQuotaRequest.newBuilder().addQuotas(quota("prod")).build());
        assertThat(role("prod").getQuota().getGuaranteesMap()).isEmpty();
    }

    /**
     * Issue 17 over the API: one agent of cpus 2, mem 2048; qa guaranteed cpus 2, mem 2048 and qb
     * cpus 1, mem 1024. Without force the update is refused, naming the shortfall; with force it
     * applies and GetRoles shows the over-commit. All of the agent is kept for the guarantees (dev,
     * without quota, gets nothing), and frameworks that then subscribe to qb and qa get what their
     * roles lack, leaving nothing idle. Before the fix qb got no offer at all.
     */
    @Test
    void overCommittedGuaranteesNeedForceAndStrandNothing() throws Exception {
        h.agent("host-1", "cpus:2;mem:2048");
        UpdateQuotaRequest.Builder request = UpdateQuotaRequest.newBuilder()
                .addQuotas(quota("qa").putGuarantees("cpus", milli(2_000)).putGuarantees("mem", milli(2_048_000)))
                .addQuotas(quota("qb").putGuarantees("cpus", milli(1_000)).putGuarantees("mem", milli(1_024_000)));
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                () -> h.operator().updateQuota(request.build()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.getStatus().getDescription())
                .contains("cpus 3 guaranteed, the cluster has 2 (short by 1)")
                .contains("mem 3072 guaranteed, the cluster has 2048 (short by 1024)")
                .contains("force");
        assertThat(roles().getRolesList()).isEmpty();

        h.operator().updateQuota(request.setForce(true).build());
        GetRolesResponse view = roles();
        assertThat(view.getTotalList()).isEqualTo(ResourceText.parse("cpus:2;mem:2048").toProto());
        assertThat(view.getGuaranteedList()).isEqualTo(ResourceText.parse("cpus:3;mem:3072").toProto());
        assertThat(view.getOvercommittedList()).isEqualTo(ResourceText.parse("cpus:1;mem:1024").toProto());
        assertThat(role("qb").getUnmetGuaranteeList()).isEqualTo(ResourceText.parse("cpus:1;mem:1024").toProto());

        FakeScheduler dev = h.scheduler(inRoles("dev", "dev").build());
        h.advance(Duration.ofSeconds(2));
        dev.assertNone(Event.Type.OFFERS);
        FakeScheduler qb = h.scheduler(inRoles("qb", "qb").build());
        assertThat(resources(qb.next(Event.Type.OFFERS).getOffers().getOffers(0)))
                .isEqualTo(ResourceText.parse("cpus:1;mem:1024"));
        FakeScheduler qa = h.scheduler(inRoles("qa", "qa").build());
        assertThat(resources(qa.next(Event.Type.OFFERS).getOffers().getOffers(0)))
                .isEqualTo(ResourceText.parse("cpus:1;mem:1024"));
        assertThat(role("qb").getUnmetGuaranteeList()).isEmpty();
        assertThat(role("qa").getUnmetGuaranteeList()).isEqualTo(ResourceText.parse("cpus:1;mem:1024").toProto());
        dev.assertNone(Event.Type.OFFERS);
    }

    @Test
    void loweringGuaranteesOfAnOvercommittedClusterNeedsNoForce() throws Exception {
        h.agent("host-1", "cpus:2;mem:2048");
        h.operator().updateQuota(UpdateQuotaRequest.newBuilder().setForce(true)
                .addQuotas(quota("qa").putGuarantees("cpus", milli(4_000))).build());
        h.operator().updateQuota(UpdateQuotaRequest.newBuilder()
                .addQuotas(quota("qa").putGuarantees("cpus", milli(3_000))).build());
        assertThat(roles().getOvercommittedList()).isEqualTo(ResourceText.parse("cpus:1").toProto());
        h.operator().updateQuota(UpdateQuotaRequest.newBuilder().addQuotas(quota("qa")).build());
        assertThat(roles().getOvercommittedList()).isEmpty();
    }

    static Stream<Arguments> invalidQuotas() {
        return Stream.of(
                Arguments.of(quota("dev").putGuarantees("cpus", milli(2_000)).putLimits("cpus", milli(1_000)),
                        "guarantee of cpus for role 'dev' (2) is above its limit (1)"),
                Arguments.of(quota("dev").putGuarantees("cpus", milli(-1)), "negative amount"),
                Arguments.of(quota("dev").putLimits("mem", milli(-5)), "negative amount"),
                Arguments.of(quota("dev").putGuarantees("foo", milli(1)), "'foo', which is not a scalar resource"),
                Arguments.of(quota("dev").putLimits("ports", milli(1)), "'ports', which is not a scalar resource"),
                Arguments.of(quota("dev team").putLimits("cpus", milli(1)), "forbidden character"),
                Arguments.of(quota("*").putLimits("cpus", milli(1)), "role '*' cannot have a quota"),
                Arguments.of(quota("eng").putLimits("cpus", milli(1)), "named twice"),
                Arguments.of(quota("base").putLimits("cpus", milli(2_000)),
                        "role 'base' and its subroles are guaranteed 3 cpus, above the role's limit of 2"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("invalidQuotas")
    void anInvalidQuotaIsRefusedAndNothingChanges(QuotaConfig.Builder bad, String message) throws Exception {
        h.agent("host-1", "cpus:4;mem:4096;ports:[31000-31010]");
        h.operator().updateQuota(UpdateQuotaRequest.newBuilder()
                .addQuotas(quota("base/a").putGuarantees("cpus", milli(1_000)))
                .addQuotas(quota("base/b").putGuarantees("cpus", milli(2_000))).build());
        GetRolesResponse before = roles();
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> h.operator().updateQuota(
                UpdateQuotaRequest.newBuilder().addQuotas(quota("eng").putLimits("cpus", milli(3_000))).addQuotas(bad).build()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.getStatus().getDescription()).contains(message);
        assertThat(roles()).isEqualTo(before);
    }

    @Test
    void emptyUpdatesAreValidNoOps() {
        h.operator().updateWeights(UpdateWeightsRequest.getDefaultInstance());
        h.operator().updateQuota(UpdateQuotaRequest.getDefaultInstance());
        assertThat(roles().getRolesList()).isEmpty();
    }

    // ------------------------------------------------------------------------------------------
    // Reservations and suppression per role
    // ------------------------------------------------------------------------------------------

    @Test
    void reservedResourcesAreOfferedOnlyWithinTheirRolesSubtree() throws Exception {
        h.agent("host-1", "cpus:1;mem:256;cpus(eng):2;mem(eng):512");
        FakeScheduler ops = h.scheduler(inRoles("ops", "ops").build());
        Offer toOps = ops.next(Event.Type.OFFERS).getOffers().getOffers(0);
        assertThat(resources(toOps)).isEqualTo(ResourceText.parse("cpus:1;mem:256"));
        FakeScheduler web = h.scheduler(inRoles("web", "eng/web").build());
        Offer toWeb = web.next(Event.Type.OFFERS).getOffers().getOffers(0);
        assertThat(resources(toWeb)).isEqualTo(ResourceText.parse("cpus(eng):2;mem(eng):512"));
        assertThat(toWeb.getResourcesList()).allSatisfy(r -> assertThat(r.getAllocationInfo().getRole()).isEqualTo("eng/web"));
        assertThat(role("eng").getReservedList()).isEqualTo(ResourceText.parse("cpus:2;mem:512").toProto());
    }

    @Test
    void suppressionAndReviveArePerRole() throws Exception {
        FakeScheduler s = h.scheduler(inRoles("multi", "a", "b").build());
        s.call(Call.newBuilder().setType(Call.Type.SUPPRESS).setSuppress(Call.Suppress.newBuilder().addRoles("a")));
        s.sync();
        h.agent("host-1", "cpus:1;mem:512");
        Offer offer = s.next(Event.Type.OFFERS).getOffers().getOffers(0);
        assertThat(offer.getResources(0).getAllocationInfo().getRole()).isEqualTo("b");
        // b declines for a minute; a is still suppressed, so nothing is offered.
        s.call(Call.newBuilder().setType(Call.Type.DECLINE).setDecline(Call.Decline.newBuilder()
                .addOfferIds(offer.getId()).setFilters(Filters.newBuilder().setRefuseSeconds(60))));
        s.sync();
        h.advance(Duration.ofSeconds(2));
        s.assertNone(Event.Type.OFFERS);
        // Reviving a offers to a; b's filter stays.
        s.call(Call.newBuilder().setType(Call.Type.REVIVE).setRevive(Call.Revive.newBuilder().addRoles("a")));
        Offer toA = s.next(Event.Type.OFFERS).getOffers().getOffers(0);
        assertThat(toA.getResources(0).getAllocationInfo().getRole()).isEqualTo("a");
    }

    @Test
    void aRoleThatIsNotTheFrameworksCannotBeSuppressed() throws Exception {
        FakeScheduler s = h.scheduler(inRoles("one", "a").build());
        s.call(Call.newBuilder().setType(Call.Type.SUPPRESS).setSuppress(Call.Suppress.newBuilder().addRoles("b")));
        assertThat(s.next(Event.Type.ERROR).getError().getMessage()).contains("role 'b' is not one of the framework's roles");
    }
}
