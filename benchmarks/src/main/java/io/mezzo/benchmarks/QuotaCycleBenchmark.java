package io.mezzo.benchmarks;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.master.allocator.Allocation;
import io.mezzo.master.allocator.DrfAllocator;
import io.mezzo.master.allocator.MinAllocatable;
import io.mezzo.master.allocator.Quota;
import io.mezzo.master.allocator.RoleConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One full cycle with quota: N agents (as in {@link ClusterFixture}), N top-level roles each with a
 * quota (guarantee cpus 8, mem 32 GB; limit cpus 16, mem 64 GB) and N frameworks, one per role, each
 * running one small task. Half the cluster is guaranteed, so stage 1 (guarantees) and stage 2 (fair
 * sharing up to the limits, keeping the headroom) both do real work. The previous cycle's offers
 * are given back before each measured cycle.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 15)
@Measurement(iterations = 30)
@Fork(value = 1, jvmArgsAppend = {"-Xms6g", "-Xmx6g"})
public class QuotaCycleBenchmark {

    @Param({"3000"})
    public int size;

    private DrfAllocator allocator;
    private List<Allocation> last = List.of();
    private long seed = 1;
    private long offers;
    private long cycles;

    @Setup(Level.Trial)
    public void build() {
        allocator = new DrfAllocator(MinAllocatable.parse(MinAllocatable.DEFAULT));
        List<AgentId> agents = new ArrayList<>();
        for (int i = 1; i <= size; i++) {
            AgentId id = AgentId.of("agent-" + i);
            agents.add(id);
            allocator.addAgent(id, ClusterFixture.AGENT, true);
        }
        Map<String, Quota> quotas = new TreeMap<>();
        for (int i = 1; i <= size; i++) {
            quotas.put("team-" + i, new Quota(Map.of("cpus", 8_000L, "mem", 32_768_000L),
                    Map.of("cpus", 16_000L, "mem", 65_536_000L)));
        }
        allocator.setRoleConfig(RoleConfig.EMPTY.withQuotas(quotas));
        for (int i = 1; i <= size; i++) {
            FrameworkId f = FrameworkId.of("framework-" + i);
            allocator.updateFramework(f, List.of("team-" + i), true);
            allocator.addAllocation(agents.get(i - 1), f, "team-" + i, ClusterFixture.TASK);
        }
    }

    @Setup(Level.Iteration)
    public void giveBackTheLastCycle() {
        for (Allocation a : last) {
            allocator.recover(a.agent(), a.framework(), a.role(), a.resources(), 0);
        }
        last = List.of();
    }

    @Benchmark
    public List<Allocation> cycle() {
        last = allocator.allocate(1_000_000, seed++);
        offers += last.size();
        cycles++;
        return last;
    }

    @TearDown(Level.Trial)
    public void report() {
        System.out.printf("%n[quota %d] offers per cycle: %.1f over %d cycles%n", size, offers / (double) cycles, cycles);
    }
}
