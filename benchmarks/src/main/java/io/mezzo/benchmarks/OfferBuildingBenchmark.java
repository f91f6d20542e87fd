package io.mezzo.benchmarks;

import io.mezzo.common.resources.Resources;
import io.mezzo.master.allocator.Allocation;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import java.util.ArrayList;
import java.util.List;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * A full cycle plus what the master does with its result before sending: turning each allocation
 * into a {@code Resources} bag and an {@code Offer} message, as {@code MasterCore.allocate} does
 * (without the bookkeeping maps and the network). Shows the master-side cost per offer on top of
 * {@link AllocationCycleBenchmark}'s {@code full} scenario.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 15)
@Measurement(iterations = 30)
@Fork(value = 1, jvmArgsAppend = {"-Xms6g", "-Xmx6g"})
public class OfferBuildingBenchmark {

    @Param({"10000x1000", "50000x1000"})
    public String cluster;

    private ClusterFixture fixture;
    private List<Allocation> last = List.of();
    private long seed = 1;

    @Setup(Level.Trial)
    public void build() {
        fixture = ClusterFixture.of(cluster);
    }

    @Setup(Level.Iteration)
    public void giveBackTheLastCycle() {
        fixture.giveBack(last, 0);
        last = List.of();
    }

    @Benchmark
    public List<Offer> cycleAndOffers() {
        last = fixture.allocator.allocate(1_000_000, seed++);
        List<Offer> out = new ArrayList<>(last.size());
        long id = 0;
        for (Allocation a : last) {
            Resources r = a.resources();
            out.add(Offer.newBuilder()
                    .setId(OfferID.newBuilder().setValue("O" + id++))
                    .setFrameworkId(FrameworkID.newBuilder().setValue(a.framework().value()))
                    .setAgentId(AgentID.newBuilder().setValue(a.agent().value()))
                    .setHostname(a.agent().value())
                    .addAllResources(r.toProto(a.role()))
                    .build());
        }
        return out;
    }
}
