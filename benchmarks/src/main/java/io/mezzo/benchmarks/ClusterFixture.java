package io.mezzo.benchmarks;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.common.resources.Resources;
import io.mezzo.master.allocator.Allocation;
import io.mezzo.master.allocator.DrfAllocator;
import io.mezzo.master.allocator.MinAllocatable;
import java.util.ArrayList;
import java.util.List;

/**
 * A synthetic cluster for the benchmarks: {@code agents} identical agents (cpus 16, mem 64 GB, disk
 * 1 TB, ports [31000-32000]) and {@code frameworks} frameworks, about ten per leaf role in a
 * two-level tree ({@code org-K/team-N}), each already running small tasks (cpus 1, mem 2 GB): two
 * per agent on average, spread round-robin. So shares differ and every agent has most of its
 * resources free: the expensive case for a cycle, which offers every agent.
 *
 * <p>Not thread-safe; one per benchmark trial.
 */
final class ClusterFixture {

    static final Resources AGENT = ResourceText.parse("cpus:16;mem:65536;disk:1048576;ports:[31000-32000]");
    static final Resources TASK = ResourceText.parse("cpus:1;mem:2048");
    static final int TASKS_PER_AGENT = 2;

    final DrfAllocator allocator = new DrfAllocator(MinAllocatable.parse(MinAllocatable.DEFAULT));
    final List<AgentId> agents = new ArrayList<>();
    final List<FrameworkId> frameworks = new ArrayList<>();
    final List<String> roles = new ArrayList<>();

    ClusterFixture(int agentCount, int frameworkCount) {
        for (int i = 1; i <= agentCount; i++) {
            AgentId id = AgentId.of("agent-" + i);
            agents.add(id);
            allocator.addAgent(id, AGENT, true);
        }
        for (int i = 0; i < frameworkCount; i++) {
            int leaf = i / 10;
            String role = "org-" + (leaf % 10) + "/team-" + leaf;
            FrameworkId id = FrameworkId.of("framework-" + (i + 1));
            frameworks.add(id);
            roles.add(role);
            allocator.updateFramework(id, List.of(role), true);
        }
        int tasks = agentCount * TASKS_PER_AGENT;
        for (int t = 0; t < tasks; t++) {
            int f = t % frameworkCount;
            allocator.addAllocation(agents.get(t % agentCount), frameworks.get(f), roles.get(f), TASK);
        }
    }

    /** Parses "AGENTSxFRAMEWORKS", e.g. "10000x1000". */
    static ClusterFixture of(String shape) {
        String[] p = shape.split("x");
        return new ClusterFixture(Integer.parseInt(p[0]), Integer.parseInt(p[1]));
    }

    /** Gives back everything a cycle offered, filtered for {@code refuseUntil} (0: not). */
    void giveBack(List<Allocation> offers, long refuseUntil) {
        for (Allocation a : offers) {
            allocator.recover(a.agent(), a.framework(), a.role(), a.resources(), refuseUntil);
        }
    }
}
