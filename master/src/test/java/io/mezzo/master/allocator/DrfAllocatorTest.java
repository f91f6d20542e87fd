package io.mezzo.master.allocator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.common.resources.Resources;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Worked examples of allocation cycles, in the style of the Mesos allocator tests: sequential
 * fixture ids, expected offers compared as values, the share arithmetic in comments. Each test
 * ends with a check of the allocator's derived sums against a recomputation from scratch.
 */
class DrfAllocatorTest {

    private static final List<Resources> MIN = List.of(Resources.scalars("cpus", 10), Resources.scalars("mem", 32_000));

    private final DrfAllocator allocator = new DrfAllocator(MIN);
    private int agents;
    private int frameworks;
    private long now = 1_000;

    @AfterEach
    void invariantsHold() {
        allocator.checkInvariants();
    }

    private AgentId agent(String resources) {
        AgentId id = AgentId.of("agent-" + ++agents);
        allocator.addAgent(id, ResourceText.parse(resources), true);
        return id;
    }

    private FrameworkId framework(String... roles) {
        FrameworkId id = FrameworkId.of("framework-" + ++frameworks);
        allocator.updateFramework(id, List.of(roles), true);
        return id;
    }

    private List<Allocation> cycle() {
        return allocator.allocate(now, 1L);
    }

    private static Allocation offer(FrameworkId f, String role, AgentId a, String resources) {
        return Allocation.of(f, role, a, ResourceText.parse(resources));
    }

    private static Quota quota(String guarantees, String limits) {
        return new Quota(milli(guarantees), milli(limits));
    }

    private static Map<String, Long> milli(String text) {
        if (text.isEmpty()) {
            return Map.of();
        }
        Resources r = ResourceText.parse(text);
        Map<String, Long> m = new java.util.TreeMap<>();
        r.scalarNames().forEach(n -> m.put(n, r.scalar(n)));
        return m;
    }

    @Test
    void theFrameworkWithTheLowestDominantShareGoesFirst() {
        AgentId a1 = agent("cpus:7;mem:7168");
        AgentId a2 = agent("cpus:3;mem:3072");
        FrameworkId f1 = framework("*");
        FrameworkId f2 = framework("*");
        FrameworkId f3 = framework("*");
        // Cluster: cpus 10, mem 10240. agent-1 is fully used:
        // framework-1 holds cpus 4, mem 1024: shares cpus 0.4, mem 0.1 -> dominant 0.4;
        // framework-2 holds cpus 1, mem 4096: shares cpus 0.1, mem 0.4 -> dominant 0.4;
        // framework-3 holds cpus 2, mem 2048: shares cpus 0.2, mem 0.2 -> dominant 0.2, the lowest.
        allocator.addAllocation(a1, f1, "*", ResourceText.parse("cpus:4;mem:1024"));
        allocator.addAllocation(a1, f2, "*", ResourceText.parse("cpus:1;mem:4096"));
        allocator.addAllocation(a1, f3, "*", ResourceText.parse("cpus:2;mem:2048"));
        assertThat(cycle()).containsExactly(offer(f3, "*", a2, "cpus:3;mem:3072"));
    }

    @Test
    void sharesAreUpdatedAsAgentsAreHandedOut() {
        for (int i = 0; i < 4; i++) {
            agent("cpus:4;mem:4096");
        }
        // Cluster cpus 16: every agent is 0.25 of it. Two empty frameworks alternate:
        // f1 0 -> 0.25 (tie at 0 broken by name), f2 0 -> 0.25, f1 0.25 -> 0.5 (tie broken by
        // allocation count 1 vs 1, then name), f2 0.25 -> 0.5.
        FrameworkId f1 = framework("*");
        FrameworkId f2 = framework("*");
        assertThat(cycle()).extracting(Allocation::framework).containsExactly(f1, f2, f1, f2);
    }

    @Test
    void tiesBreakByAllocationCountThenName() {
        AgentId a1 = agent("cpus:1;mem:128");
        FrameworkId f1 = framework("*");
        FrameworkId f2 = framework("*");
        // Both at share 0 with no allocations: framework-1 wins by name.
        assertThat(cycle()).containsExactly(offer(f1, "*", a1, "cpus:1;mem:128"));
        allocator.recover(a1, f1, "*", ResourceText.parse("cpus:1;mem:128"), 0);
        // Both at share 0 again, but framework-1 has had one allocation and framework-2 none.
        assertThat(cycle()).containsExactly(offer(f2, "*", a1, "cpus:1;mem:128"));
    }

    @Test
    void aRoleShareCountsItsWholeSubtree() {
        for (int i = 0; i < 4; i++) {
            agent("cpus:4;mem:4096");
        }
        FrameworkId web = framework("eng/web");
        FrameworkId api = framework("eng/api");
        FrameworkId ops = framework("ops");
        // Roles are sorted first, level by level: eng (subtree eng/web + eng/api) against ops.
        // 1. eng 0 vs ops 0, no allocations: "eng" by name; inside eng, api 0 vs web 0: "eng/api".
        // 2. eng 0.25 vs ops 0: ops.
        // 3. eng 0.25 vs ops 0.25, one allocation each: "eng"; inside, api 0.25 vs web 0: web.
        // 4. eng 0.5 vs ops 0.25: ops. ops ends with half the cluster, each eng subrole a quarter.
        assertThat(cycle()).extracting(Allocation::framework).containsExactly(api, ops, web, ops);
    }

    @Test
    void frameworksOfARoleCompeteWithItsSubrolesAsOne() {
        for (int i = 0; i < 4; i++) {
            agent("cpus:4;mem:4096");
        }
        FrameworkId eng1 = framework("eng");
        FrameworkId eng2 = framework("eng");
        FrameworkId web = framework("eng/web");
        // Under eng: the frameworks of eng itself ("eng/.") against the subtree "eng/web".
        // 1. "eng/." 0 vs "eng/web" 0: "eng/." by name; inside it framework-1.
        // 2. "eng/." 0.25 vs "eng/web" 0: web.
        // 3. both 0.25, one allocation each: "eng/."; inside it framework-2 (0) before framework-1.
        // 4. "eng/." 0.5 vs web 0.25: web.
        assertThat(cycle()).extracting(Allocation::framework).containsExactly(eng1, web, eng2, web);
    }

    @Test
    void weightsDivideShares() {
        for (int i = 0; i < 6; i++) {
            agent("cpus:1;mem:1024");
        }
        allocator.setRoleConfig(RoleConfig.EMPTY.withWeights(Map.of("a", 2.0)));
        FrameworkId a = framework("a");
        FrameworkId b = framework("b");
        // Weighted share = dominant share / weight; each agent is 1/6 of the cluster.
        // a 0, b 0 -> a (name): a 1/6 / 2 = 0.083.   b 0 -> b: 1/6 = 0.167.
        // a 0.083 -> a: 2/6 / 2 = 0.167.   a 0.167 (2 allocations) vs b 0.167 (1) -> b: 2/6 = 0.333.
        // a 0.167 -> a: 3/6 / 2 = 0.25.    a 0.25 -> a: 4/6 / 2 = 0.333. Role a ends with twice b's.
        assertThat(cycle()).extracting(Allocation::framework).containsExactly(a, b, a, b, a, a);
        assertThat(allocator.roles()).filteredOn(r -> r.role().equals("a")).singleElement()
                .satisfies(r -> assertThat(r.weight()).isEqualTo(2.0));
    }

    @Test
    void reservedResourcesGoOnlyToTheirRoleAndItsSubroles() {
        AgentId a1 = agent("cpus:1;mem:128;cpus(eng):2;mem(eng):256");
        FrameworkId star = framework("*");
        FrameworkId web = framework("eng/web");
        FrameworkId ops = framework("ops");
        // Roles "*", eng and ops all at 0: "*" sorts first by name and may take only the
        // unreserved part; eng/web (in eng's subtree) takes what is reserved for eng; ops, which
        // is neither, gets nothing.
        assertThat(cycle()).containsExactly(
                offer(star, "*", a1, "cpus:1;mem:128"),
                offer(web, "eng/web", a1, "cpus(eng):2;mem(eng):256"));
        assertThat(cycle()).isEmpty();
        assertThat(ops).isNotNull();
    }

    @Test
    void aRefusedAgentGoesToTheNextFramework() {
        AgentId a1 = agent("cpus:2;mem:1024");
        FrameworkId f1 = framework("*");
        FrameworkId f2 = framework("*");
        assertThat(cycle()).containsExactly(offer(f1, "*", a1, "cpus:2;mem:1024"));
        // framework-1 declines for 5 s: framework-2 gets the agent although both are at share 0.
        allocator.recover(a1, f1, "*", ResourceText.parse("cpus:2;mem:1024"), now + 5_000);
        assertThat(cycle()).containsExactly(offer(f2, "*", a1, "cpus:2;mem:1024"));
    }

    @Test
    void aRefusalFiltersOnlyWhatItContainsAndOnlyUntilItExpires() {
        AgentId a1 = agent("cpus:4;mem:1024");
        FrameworkId f1 = framework("*");
        assertThat(cycle()).containsExactly(offer(f1, "*", a1, "cpus:4;mem:1024"));
        // framework-1 launches on half and gives the other half back with a 10 s filter.
        allocator.recover(a1, f1, "*", ResourceText.parse("cpus:2;mem:512"), now + 10_000);
        assertThat(cycle()).isEmpty();
        // Its task ends: the whole agent is free again, more than it refused, so it is offered.
        allocator.recover(a1, f1, "*", ResourceText.parse("cpus:2;mem:512"), 0);
        assertThat(cycle()).containsExactly(offer(f1, "*", a1, "cpus:4;mem:1024"));
        allocator.recover(a1, f1, "*", ResourceText.parse("cpus:4;mem:1024"), now + 10_000);
        now += 9_999;
        assertThat(cycle()).isEmpty();
        now += 1;
        assertThat(cycle()).containsExactly(offer(f1, "*", a1, "cpus:4;mem:1024"));
    }

    @Test
    void reviveClearsTheFiltersOfItsRolesOnly() {
        AgentId a1 = agent("cpus:2;mem:1024");
        AgentId a2 = agent("cpus:2;mem:1024");
        FrameworkId f1 = framework("a", "b");
        // Decline everything, per role and agent, until both roles have refused both agents.
        int declined = 0;
        for (List<Allocation> out = cycle(); !out.isEmpty(); out = cycle()) {
            for (Allocation x : out) {
                allocator.recover(x.agent(), f1, x.role(), x.resources(), now + 60_000);
                declined++;
            }
        }
        assertThat(declined).isEqualTo(4);
        allocator.revive(f1, List.of("b"));
        // Only role b's filters are gone: both agents go to framework-1 in role b.
        assertThat(cycle()).containsExactlyInAnyOrder(
                offer(f1, "b", a1, "cpus:2;mem:1024"), offer(f1, "b", a2, "cpus:2;mem:1024"));
    }

    @Test
    void suppressionIsPerRole() {
        AgentId a1 = agent("cpus:2;mem:1024");
        FrameworkId f1 = framework("a", "b");
        allocator.suppress(f1, List.of("a"));
        assertThat(cycle()).containsExactly(offer(f1, "b", a1, "cpus:2;mem:1024"));
        allocator.recover(a1, f1, "b", ResourceText.parse("cpus:2;mem:1024"), 0);
        allocator.suppress(f1, List.of("b"));
        assertThat(cycle()).isEmpty();
        allocator.revive(f1, List.of("a"));
        assertThat(cycle()).containsExactly(offer(f1, "a", a1, "cpus:2;mem:1024"));
    }

    @Test
    void disconnectedFrameworksAreNotOffered() {
        AgentId a1 = agent("cpus:2;mem:1024");
        AgentId a2 = agent("cpus:2;mem:1024");
        FrameworkId f1 = framework("*");
        FrameworkId f2 = framework("*");
        allocator.addAllocation(a1, f1, "*", ResourceText.parse("cpus:2;mem:1024"));
        allocator.updateFramework(f2, List.of("*"), false);
        // framework-2 (share 0) is disconnected: framework-1 (0.5) gets agent-2.
        assertThat(cycle()).containsExactly(offer(f1, "*", a2, "cpus:2;mem:1024"));
        allocator.recover(a2, f1, "*", ResourceText.parse("cpus:2;mem:1024"), 0);
        allocator.updateFramework(f2, List.of("*"), true);
        assertThat(cycle()).containsExactly(offer(f2, "*", a2, "cpus:2;mem:1024"));
    }

    @Test
    void agentsThatAreNotOfferableAreSkippedAndNotCountedAsHeadroom() {
        AgentId a1 = agent("cpus:4;mem:4096");
        AgentId a2 = agent("cpus:4;mem:4096");
        // prod is guaranteed cpus 4, mem 4096 but suppressed: the headroom for it must stay free.
        allocator.setRoleConfig(RoleConfig.EMPTY.withQuotas(Map.of("prod", quota("cpus:4;mem:4096", ""))));
        FrameworkId prod = framework("prod");
        allocator.suppress(prod, List.of());
        FrameworkId dev = framework("dev");
        // agent-2 drains: only agent-1 is available, all of it needed by prod's guarantee.
        allocator.setOfferable(a2, false);
        assertThat(cycle()).isEmpty();
        // Back: 8 cpus available, 4 needed; dev gets one agent, whichever is visited first.
        allocator.setOfferable(a2, true);
        assertThat(cycle()).singleElement().satisfies(x -> {
            assertThat(x.framework()).isEqualTo(dev);
            assertThat(x.agent()).isIn(a1, a2);
            assertThat(x.resources()).isEqualTo(ResourceText.parse("cpus:4;mem:4096"));
        });
    }

    @Test
    void slicesBelowTheMinimumAreNotOffered() {
        agent("cpus:0.005;mem:16");
        framework("*");
        assertThat(cycle()).isEmpty();
    }

    @Test
    void aGuaranteeIsMetBeforeFairSharing() {
        for (int i = 0; i < 4; i++) {
            agent("cpus:4;mem:4096");
        }
        allocator.setRoleConfig(RoleConfig.EMPTY.withQuotas(Map.of("prod", quota("cpus:12", ""))));
        FrameworkId prod = framework("prod");
        FrameworkId dev = framework("dev");
        // Stage 1: prod is below its guarantee (0 of 12 cpus) and gets agents, each capped at
        // what it lacks: 4, 4, 4 cpus. Stage 2: the last agent goes by DRF: dev (0) before prod
        // (12/16 = 0.75). Without the quota they would have had two agents each.
        List<Allocation> out = cycle();
        assertThat(out).extracting(Allocation::framework).containsExactly(prod, prod, prod, dev);
        assertThat(out).allSatisfy(x -> assertThat(x.resources()).isEqualTo(ResourceText.parse("cpus:4;mem:4096")));
    }

    @Test
    void anUnmetGuaranteeIsNotHandedToRolesWithoutQuota() {
        for (int i = 0; i < 4; i++) {
            agent("cpus:4;mem:4096");
        }
        allocator.setRoleConfig(RoleConfig.EMPTY.withQuotas(Map.of("prod", quota("cpus:12;mem:12288", ""))));
        FrameworkId prod = framework("prod");
        allocator.suppress(prod, List.of());
        FrameworkId dev = framework("dev");
        // prod wants nothing now, but its guarantee stays free: headroom required cpus 12 (mem
        // 12288), available 16 (16384), so dev may take one agent and no more.
        List<Allocation> out = cycle();
        assertThat(out).extracting(Allocation::framework).containsExactly(dev);
        assertThat(allocator.requiredHeadroom()).isEqualTo(ResourceText.parse("cpus:12;mem:12288"));
        allocator.revive(prod, List.of());
        assertThat(cycle()).extracting(Allocation::framework).containsExactly(prod, prod, prod);
    }

    @Test
    void aGuaranteeChopsAnAgentAndTheRestGoesToOthers() {
        AgentId a1 = agent("cpus:8;mem:8192");
        allocator.setRoleConfig(RoleConfig.EMPTY.withQuotas(Map.of("prod", quota("cpus:2;mem:1024", ""))));
        FrameworkId prod = framework("prod");
        FrameworkId dev = framework("dev");
        // Stage 1 gives prod exactly what it lacks; stage 2 gives dev (share 0) the rest.
        assertThat(cycle()).containsExactly(
                offer(prod, "prod", a1, "cpus:2;mem:1024"),
                offer(dev, "dev", a1, "cpus:6;mem:7168"));
    }

    @Test
    void aLimitIsNeverExceeded() {
        AgentId a1 = agent("cpus:4;mem:4096");
        AgentId a2 = agent("cpus:4;mem:4096");
        allocator.setRoleConfig(RoleConfig.EMPTY.withQuotas(Map.of("dev", quota("", "cpus:6"))));
        FrameworkId dev = framework("dev");
        // Seed 1 visits agent-1 first: dev takes it whole (4 cpus), then agent-2 capped at the 2
        // cpus left under its limit; mem is not limited.
        assertThat(cycle()).containsExactly(
                offer(dev, "dev", a1, "cpus:4;mem:4096"),
                offer(dev, "dev", a2, "cpus:2;mem:4096"));
        assertThat(cycle()).isEmpty();
    }

    @Test
    void reservationsCountAgainstQuota() {
        agent("cpus:4;mem:4096;cpus(dev):4;mem(dev):4096");
        allocator.setRoleConfig(RoleConfig.EMPTY.withQuotas(Map.of("dev", quota("", "cpus:6"))));
        FrameworkId dev = framework("dev");
        // Consumed quota = unreserved allocations + reservations = 0 + 4 cpus: dev may take its
        // reservation (already counted) and 2 unreserved cpus.
        assertThat(cycle()).singleElement().satisfies(x -> assertThat(x.resources())
                .isEqualTo(ResourceText.parse("cpus:2;mem:4096;cpus(dev):4;mem(dev):4096")));
        assertThat(allocator.roles()).filteredOn(r -> r.role().equals("dev")).singleElement()
                .satisfies(r -> assertThat(r.consumedQuota()).isEqualTo(ResourceText.parse("cpus:6;mem:8192")));
        assertThat(dev).isNotNull();
    }

    @Test
    void aNestedGuaranteeIsProtectedFromItsSiblings() {
        for (int i = 0; i < 4; i++) {
            agent("cpus:2;mem:2048");
        }
        // eng is guaranteed 6 cpus, of which 4 for eng/api (mem in proportion). Headroom needed
        // for eng's subtree: max(6, 4) = 6 cpus; the cluster has 8.
        allocator.setRoleConfig(RoleConfig.EMPTY.withQuotas(Map.of(
                "eng", quota("cpus:6;mem:6144", ""), "eng/api", quota("cpus:4;mem:4096", ""))));
        FrameworkId web = framework("eng/web");
        FrameworkId api = framework("eng/api");
        allocator.suppress(api, List.of());
        // api wants nothing yet. Stage 1, first agent: eng lacks 6; web may take the surplus
        // (8 - 6 = 2) plus what of eng's need api does not claim (6 - 4 = 2): the agent's 2.
        // Second agent: available 6, required 4 (api's), surplus 2: web takes it. The last two
        // agents are api's 4 cpus: web may not have them.
        List<Allocation> out = cycle();
        assertThat(out).extracting(Allocation::framework).containsOnly(web);
        assertThat(out.stream().mapToLong(x -> x.resources().scalar("cpus")).sum()).isEqualTo(4_000);
        allocator.revive(api, List.of());
        List<Allocation> then = cycle();
        assertThat(then).extracting(Allocation::framework).containsOnly(api);
        assertThat(then.stream().mapToLong(x -> x.resources().scalar("cpus")).sum()).isEqualTo(4_000);
    }

    /**
     * Issue 17: guarantees above what is free (qa cpus 2, qb cpus 1, one agent of cpus 2). The old
     * headroom cap, available - required + absorbed, was 2 - 3 + 2 = 1 cpu for qa and then 1 - 2 +
     * 1 = 0 for qb: half the agent sat idle for good. Now a role may take what its own chain lacks
     * (plus any surplus, here none), in stage 1's order: both at 0% of their guarantee, qa by name
     * takes what it lacks, which is the whole agent.
     */
    @Test
    void overCommittedGuaranteesLeaveNothingIdle() {
        AgentId a1 = agent("cpus:2;mem:2048");
        allocator.setRoleConfig(RoleConfig.EMPTY.withQuotas(Map.of(
                "qa", quota("cpus:2;mem:2048", ""), "qb", quota("cpus:1;mem:1024", ""))));
        FrameworkId qa = framework("qa");
        FrameworkId qb = framework("qb");
        assertThat(cycle()).containsExactly(offer(qa, "qa", a1, "cpus:2;mem:2048"));
        assertThat(allocator.free(a1).isEmpty()).isTrue();
        // qa gives half back: qa is then at 50% of its guarantee, qb at 0%: qb goes first.
        allocator.recover(a1, qa, "qa", ResourceText.parse("cpus:1;mem:1024"), 0);
        assertThat(cycle()).containsExactly(offer(qb, "qb", a1, "cpus:1;mem:1024"));
        assertThat(allocator.free(a1).isEmpty()).isTrue();
    }

    /**
     * The guarantees (cpus 3) exceed the cluster (cpus 2): all of it is kept for them, so dev, with
     * no quota, gets nothing; a framework that then subscribes to qb gets what qb lacks, and one of
     * qa the rest. The old cap gave qb 2 - 3 + 1 = 0: no offer although everything was free.
     */
    @Test
    void aFrameworkSubscribingToAGuaranteeKeptFreeGetsAnOffer() {
        AgentId a1 = agent("cpus:2;mem:2048");
        allocator.setRoleConfig(RoleConfig.EMPTY.withQuotas(Map.of(
                "qa", quota("cpus:2;mem:2048", ""), "qb", quota("cpus:1;mem:1024", ""))));
        framework("dev");
        assertThat(cycle()).isEmpty();
        FrameworkId qb = framework("qb");
        assertThat(cycle()).containsExactly(offer(qb, "qb", a1, "cpus:1;mem:1024"));
        FrameworkId qa = framework("qa");
        assertThat(cycle()).containsExactly(offer(qa, "qa", a1, "cpus:1;mem:1024"));
    }

    /**
     * When the free resources cannot meet every unmet guarantee, stage 1 serves the role with the
     * smallest fraction of its guarantee first, not the smallest share of the cluster: qa holds 4
     * of its 10 cpus (40%, share 4/6 of the cluster), qb 1 of its 2 (50%, share 1/6). DRF order
     * would pick qb; qa goes first.
     */
    @Test
    void unmetGuaranteesAreServedLeastMetFirst() {
        AgentId a1 = agent("cpus:5;mem:5120");
        AgentId a2 = agent("cpus:1;mem:1024");
        allocator.setRoleConfig(RoleConfig.EMPTY.withQuotas(Map.of(
                "qa", quota("cpus:10", ""), "qb", quota("cpus:2", ""))));
        FrameworkId qa = framework("qa");
        FrameworkId qb = framework("qb");
        allocator.addAllocation(a1, qa, "qa", ResourceText.parse("cpus:4;mem:4096"));
        allocator.addAllocation(a1, qb, "qb", ResourceText.parse("cpus:1;mem:1024"));
        assertThat(cycle()).containsExactly(offer(qa, "qa", a2, "cpus:1;mem:1024"));
        assertThat(qb).isNotNull();
    }

    /** The first worked example of docs/allocation.md, step by step. */
    @Test
    void theGuidesFirstExampleWeightsAndHierarchy() {
        for (int i = 0; i < 6; i++) {
            agent("cpus:2;mem:4096");
        }
        allocator.setRoleConfig(RoleConfig.EMPTY.withWeights(Map.of("eng", 2.0)));
        FrameworkId web = framework("eng/web");
        FrameworkId api = framework("eng/api");
        FrameworkId ops = framework("ops");
        // Cluster cpus 12, mem 24576: each agent is 1/6 of both. eng's share is its subtree's,
        // divided by its weight 2.
        // 1. eng 0 vs ops 0, no allocations: eng by name; eng/api 0 vs eng/web 0: api.  eng 1/6/2 = 0.083
        // 2. eng 0.083 vs ops 0: ops.                                                   ops 1/6 = 0.167
        // 3. eng 0.083 vs ops 0.167: eng; api 0.167 vs web 0: web.                     eng 2/6/2 = 0.167
        // 4. eng 0.167 vs ops 0.167, allocations 2 vs 1: ops.                           ops 2/6 = 0.333
        // 5. eng 0.167: eng; api 0.167 vs web 0.167, allocations 1 vs 1: api by name.  eng 3/6/2 = 0.25
        // 6. eng 0.25 vs ops 0.333: eng; web 0.167 vs api 0.333: web.                  eng 4/6/2 = 0.333
        assertThat(cycle()).extracting(Allocation::framework).containsExactly(api, ops, web, ops, api, web);
    }

    /** The second worked example of docs/allocation.md: a guarantee, a limit and the headroom. */
    @Test
    void theGuidesSecondExampleQuota() {
        for (int i = 0; i < 6; i++) {
            agent("cpus:2;mem:4096");
        }
        allocator.setRoleConfig(RoleConfig.EMPTY.withWeights(Map.of("eng", 2.0)).withQuotas(Map.of(
                "ops", quota("cpus:6;mem:12288", ""),
                "eng/api", quota("", "cpus:2;mem:4096"))));
        FrameworkId web = framework("eng/web");
        FrameworkId api = framework("eng/api");
        FrameworkId ops = framework("ops");
        allocator.suppress(ops, List.of());
        // ops is suppressed, but its guarantee (6 cpus, 12288 mem) is kept free: available 12 cpus,
        // required 6, so eng may take 6 cpus. api takes one agent and is then at its limit; web
        // takes two.
        List<Allocation> first = cycle();
        assertThat(first).extracting(Allocation::framework).containsExactly(api, web, web);
        // ops comes back: stage 1 gives it the three agents its guarantee needs.
        allocator.revive(ops, List.of());
        assertThat(cycle()).extracting(Allocation::framework).containsExactly(ops, ops, ops);
        assertThat(allocator.requiredHeadroom().isEmpty()).isTrue();
    }

    @Test
    void theSameSeedGivesTheSameCycle() {
        DrfAllocator other = new DrfAllocator(MIN);
        for (int i = 1; i <= 20; i++) {
            agent("cpus:1;mem:128");
            other.addAgent(AgentId.of("agent-" + i), ResourceText.parse("cpus:1;mem:128"), true);
        }
        for (int i = 1; i <= 3; i++) {
            framework("*");
            other.updateFramework(FrameworkId.of("framework-" + i), List.of("*"), true);
        }
        List<Allocation> first = allocator.allocate(now, 7L);
        assertThat(first).hasSize(20).isEqualTo(other.allocate(now, 7L));
        // With seed 1 and two agents, agent-1 is visited first (aLimitIsNeverExceeded relies on it).
        DrfAllocator two = new DrfAllocator(MIN);
        two.addAgent(AgentId.of("agent-1"), ResourceText.parse("cpus:1;mem:128"), true);
        two.addAgent(AgentId.of("agent-2"), ResourceText.parse("cpus:1;mem:128"), true);
        two.updateFramework(FrameworkId.of("framework-1"), List.of("*"), true);
        assertThat(two.allocate(now, 1L)).extracting(Allocation::agent).first().isEqualTo(AgentId.of("agent-1"));
    }

    @Test
    void givingBackMoreThanIsAllocatedIsRefused() {
        AgentId a1 = agent("cpus:2;mem:1024");
        FrameworkId f1 = framework("*");
        cycle();
        allocator.recover(a1, f1, "*", ResourceText.parse("cpus:2;mem:1024"), 0);
        assertThatThrownBy(() -> allocator.recover(a1, f1, "*", ResourceText.parse("cpus:1"), 0))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("more cpus than is allocated");
    }

    @Test
    void anAgentIsRemovedOnlyOnceEverythingOnItIsBack() {
        AgentId a1 = agent("cpus:2;mem:1024");
        FrameworkId f1 = framework("*");
        cycle();
        assertThatThrownBy(() -> allocator.removeAgent(a1)).isInstanceOf(IllegalStateException.class);
        allocator.recover(a1, f1, "*", ResourceText.parse("cpus:2;mem:1024"), 0);
        allocator.removeAgent(a1);
        assertThat(cycle()).isEmpty();
    }

    @Test
    void aReservationMadeOnOfferedResourcesStaysWithTheRole() {
        AgentId a1 = agent("cpus:4;mem:1024");
        FrameworkId eng = framework("eng");
        FrameworkId ops = framework("ops");
        allocator.suppress(ops, List.of());
        assertThat(cycle()).containsExactly(offer(eng, "eng", a1, "cpus:4;mem:1024"));
        Resources reserved = dynamic("cpus(eng):2;mem(eng):512");
        allocator.convert(a1, eng, "eng", ResourceText.parse("cpus:2;mem:512"), reserved);
        allocator.recover(a1, eng, "eng", ResourceText.parse("cpus:2;mem:512").plus(reserved), 0);
        allocator.suppress(eng, List.of());
        allocator.revive(ops, List.of());
        // ops may only have the unreserved half now.
        assertThat(cycle()).containsExactly(offer(ops, "ops", a1, "cpus:2;mem:512"));
        assertThat(allocator.roles()).filteredOn(r -> r.role().equals("eng")).singleElement()
                .satisfies(r -> assertThat(r.reserved()).isEqualTo(ResourceText.parse("cpus:2;mem:512")));
    }

    /** Parses resources and turns their static reservations into dynamic ones. */
    static Resources dynamic(String text) {
        Resources parsed = ResourceText.parse(text);
        Resources.Builder b = Resources.builder();
        for (Resources.Key k : parsed.keys()) {
            var res = k.reservation() == null ? null : k.reservation().toBuilder()
                    .setType(io.mezzo.proto.v1.ReservationInfo.Type.DYNAMIC).build();
            b.scalar(k.name(), res, parsed.scalar(k));
        }
        return b.build();
    }
}
