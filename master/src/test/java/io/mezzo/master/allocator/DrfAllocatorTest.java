package io.mezzo.master.allocator;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.common.resources.Resources;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Worked examples of one allocation cycle, in the style of the Mesos allocator tests: sequential
 * fixture ids, expected offers compared as values, share arithmetic in comments.
 */
class DrfAllocatorTest {

    private static final List<Resources> MIN = List.of(Resources.scalars("cpus", 10), Resources.scalars("mem", 32_000));

    private final List<AllocatorAgent> agents = new ArrayList<>();
    private final List<AllocatorClient> clients = new ArrayList<>();

    private AgentId agent(String resources) {
        AgentId id = AgentId.of("agent-" + (agents.size() + 1));
        agents.add(new AllocatorAgent(id, ResourceText.parse(resources)));
        return id;
    }

    private FrameworkId client(String role, String allocated, long allocations) {
        FrameworkId id = FrameworkId.of("framework-" + (clients.size() + 1));
        clients.add(new AllocatorClient(id, role,
                allocated.isEmpty() ? Resources.EMPTY : ResourceText.parse(allocated), allocations, Map.of()));
        return id;
    }

    private List<Allocation> run(String clusterTotal) {
        return DrfAllocator.allocate(new AllocationInput(ResourceText.parse(clusterTotal), agents, clients, MIN, 1L));
    }

    @Test
    void theFrameworkWithTheLowestDominantShareGoesFirst() {
        AgentId a1 = agent("cpus:2;mem:1024");
        // Cluster: cpus 10, mem 10240.
        // framework-1 holds cpus 4, mem 1024: shares cpus 0.4, mem 0.1 -> dominant 0.4.
        // framework-2 holds cpus 1, mem 4096: shares cpus 0.1, mem 0.4 -> dominant 0.4 ... tie,
        // framework-3 holds cpus 2, mem 2048: shares 0.2, 0.2 -> dominant 0.2: lowest, it wins.
        client("*", "cpus:4;mem:1024", 1);
        client("*", "cpus:1;mem:4096", 1);
        FrameworkId f3 = client("*", "cpus:2;mem:2048", 1);
        assertThat(run("cpus:10;mem:10240"))
                .containsExactly(new Allocation(f3, "*", a1, ResourceText.parse("cpus:2;mem:1024")));
    }

    @Test
    void sharesAreUpdatedAsAgentsAreHandedOut() {
        agent("cpus:4;mem:4096");
        agent("cpus:4;mem:4096");
        agent("cpus:4;mem:4096");
        agent("cpus:4;mem:4096");
        // Cluster cpus 16: every agent is 0.25 of it. Two empty frameworks alternate:
        // f1 0 -> 0.25, f2 0 -> 0.25, f1 0.25 -> 0.5, f2 0.25 -> 0.5.
        FrameworkId f1 = client("*", "", 0);
        FrameworkId f2 = client("*", "", 0);
        List<Allocation> out = run("cpus:16;mem:16384");
        assertThat(out).extracting(Allocation::framework).containsExactly(f1, f2, f1, f2);
    }

    @Test
    void tiesBreakByAllocationCountThenName() {
        AgentId a1 = agent("cpus:1;mem:128");
        client("*", "", 3);
        FrameworkId fewer = client("*", "", 1);
        assertThat(run("cpus:10;mem:1280")).extracting(Allocation::framework).containsExactly(fewer);
    }

    @Test
    void reservedResourcesGoOnlyToTheirRoleAndItsSubroles() {
        AgentId a1 = agent("cpus:1;mem:128;cpus(eng):2;mem(eng):256");
        // framework-1 in "*" has the lowest share but may only take the unreserved part;
        // framework-2 in "eng/web" takes what is reserved for "eng".
        FrameworkId star = client("*", "", 0);
        FrameworkId web = client("eng/web", "cpus:1", 1);
        assertThat(run("cpus:3;mem:384")).containsExactly(
                new Allocation(star, "*", a1, ResourceText.parse("cpus:1;mem:128")),
                new Allocation(web, "eng/web", a1, ResourceText.parse("cpus(eng):2;mem(eng):256")));
    }

    @Test
    void aRefusedAgentGoesToTheNextFramework() {
        AgentId a1 = agent("cpus:2;mem:1024");
        FrameworkId f1 = FrameworkId.of("framework-1");
        clients.add(new AllocatorClient(f1, "*", Resources.EMPTY, 0,
                Map.of(a1, List.of(ResourceText.parse("cpus:2;mem:1024")))));
        FrameworkId f2 = client("*", "cpus:1", 1);
        assertThat(run("cpus:2;mem:1024")).extracting(Allocation::framework).containsExactly(f2);
    }

    @Test
    void aRefusalOfLessThanIsAvailableDoesNotFilter() {
        AgentId a1 = agent("cpus:4;mem:1024");
        FrameworkId f1 = FrameworkId.of("framework-1");
        clients.add(new AllocatorClient(f1, "*", Resources.EMPTY, 0,
                Map.of(a1, List.of(ResourceText.parse("cpus:2;mem:512")))));
        assertThat(run("cpus:4;mem:1024")).extracting(Allocation::framework).containsExactly(f1);
    }

    @Test
    void slicesBelowTheMinimumAreNotOffered() {
        agent("cpus:0.005;mem:16");
        client("*", "", 0);
        assertThat(run("cpus:1;mem:1024")).isEmpty();
    }

    @Test
    void theSameSeedGivesTheSameCycle() {
        for (int i = 0; i < 20; i++) {
            agent("cpus:1;mem:128");
        }
        client("*", "", 0);
        client("*", "", 0);
        client("*", "", 0);
        List<Allocation> first = run("cpus:20;mem:2560");
        List<Allocation> second = run("cpus:20;mem:2560");
        assertThat(first).hasSize(20).isEqualTo(second);
    }
}
