package io.mezzo.benchmarks;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.resources.Resources;
import io.mezzo.master.allocator.Allocation;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * One agent's resources freed in a busy cluster, to its offer built (issue 17): the latency the
 * master adds between a TASK_FINISHED (or a DECLINE) and the OFFERS it sends for what came free.
 *
 * <p>The cluster is {@link ClusterFixture}'s, after one full cycle whose offers every framework
 * keeps: nothing is free. Each operation then takes the next agent (a fixed stride through all of
 * them), gives back what its last offer holds ({@code DrfAllocator.recover}, as when the task on
 * it ends), runs an allocation pass, and builds the {@code Offer} message of the one allocation it
 * makes, which the framework then keeps: the cluster stays saturated, every operation alike.
 *
 * <ul>
 *   <li>{@code pass}: {@code incremental} is {@code allocateTouched} (what the master runs for a
 *       requested allocation since issue 17); {@code full} is a full cycle over every agent (what
 *       it ran before).
 *   <li>{@code event}: {@code task-ended} gives the resources back unfiltered; {@code declined}
 *       with a 5 s DECLINE filter (the clock advances 1 ms per operation), so the walk skips the
 *       declining framework and the agent goes to the next one.
 * </ul>
 *
 * <p>Sample-time mode: JMH reports the median, p99 and worst of every timed operation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 10, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms6g", "-Xmx6g"})
public class FreedAgentBenchmark {

    /** Agents x frameworks. */
    @Param({"50000x1000"})
    public String cluster;

    @Param({"incremental", "full"})
    public String pass;

    @Param({"task-ended", "declined"})
    public String event;

    private ClusterFixture fixture;
    /** What each agent's last offer holds, by the agent's index in the fixture. */
    private Allocation[] held;
    private int next;
    private int stride;
    private long now = 1_000_000;
    private long seed = 1;
    private long ops;
    private long empty;

    @Setup(Level.Trial)
    public void build() {
        fixture = ClusterFixture.of(cluster);
        int n = fixture.agents.size();
        Map<AgentId, Integer> index = new HashMap<>();
        for (int i = 0; i < n; i++) {
            index.put(fixture.agents.get(i), i);
        }
        held = new Allocation[n];
        for (Allocation a : fixture.allocator.allocate(now, seed++)) {
            held[index.get(a.agent())] = a;
        }
        for (int i = 0; i < n; i++) {
            if (held[i] == null) {
                throw new IllegalStateException("agent " + fixture.agents.get(i) + " was not offered in the first cycle");
            }
        }
        // A stride coprime with n visits every agent once per n operations, in a scattered order.
        stride = 7919;
        while (gcd(stride, n) != 1) {
            stride++;
        }
    }

    @Benchmark
    public Offer freeOneAgentAndOffer() {
        int i = next;
        next = (next + stride) % held.length;
        Allocation h = held[i];
        if (h != null) {
            long refuseUntil = event.equals("declined") ? now + 5_000 : 0;
            fixture.allocator.recover(h.agent(), h.framework(), h.role(), h.resources(), refuseUntil);
        }
        now++;
        List<Allocation> out = pass.equals("incremental") ? fixture.allocator.allocateTouched(now, seed++)
                : fixture.allocator.allocate(now, seed++);
        ops++;
        if (out.isEmpty()) {
            // Nobody took it (cannot happen with 1,000 frameworks; counted, so a report would show it).
            empty++;
            held[i] = null;
            return null;
        }
        Allocation a = out.get(0);
        held[i] = a;
        Resources r = a.resources();
        return Offer.newBuilder()
                .setId(OfferID.newBuilder().setValue("O" + ops))
                .setFrameworkId(FrameworkID.newBuilder().setValue(a.framework().value()))
                .setAgentId(AgentID.newBuilder().setValue(a.agent().value()))
                .setHostname(a.agent().value())
                .addAllResources(r.toProto(a.role()))
                .build();
    }

    @TearDown(Level.Trial)
    public void report() {
        System.out.printf("%n[%s %s %s] %d operations, %d without an offer%n", cluster, pass, event, ops, empty);
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }
}
