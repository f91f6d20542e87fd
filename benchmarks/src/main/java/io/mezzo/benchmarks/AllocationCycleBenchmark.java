package io.mezzo.benchmarks;

import io.mezzo.master.allocator.Allocation;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One full allocation cycle: {@code DrfAllocator.allocate} over every offerable agent, from the
 * allocator's state, the time and a seed to the list of offers (each agent's free resources to the
 * framework role DRF picks). Building the {@code Offer} messages is not included (see {@link
 * OfferBuildingBenchmark}). Before every measured cycle the previous cycle's offers are given back
 * (untimed), so every measured cycle is the expensive one that offers every agent.
 *
 * <ul>
 *   <li>{@code full}: every framework wants offers.
 *   <li>{@code declined}: every framework declines every offer with refuse_seconds 5 and cycles
 *       run every second, so in the steady state each agent carries DECLINE filters of about five
 *       frameworks that the cycle must skip.
 *   <li>{@code declined-long}: the same with refuse_seconds 3600: filters pile up, one more per
 *       agent every cycle (45 by the last measured cycle; with 10 frameworks, every framework has
 *       declined every agent after 10 cycles and the cycle offers nothing). Shows how the cost
 *       grows with the filters a cycle must skip.
 *   <li>{@code suppressed}: every framework has suppressed offers.
 * </ul>
 *
 * <p>One shot per iteration ({@link Mode#SingleShotTime}), so the setup can reset the state between
 * cycles; the offers per cycle are printed at the end of each trial.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 15)
@Measurement(iterations = 30)
@Fork(value = 1, jvmArgsAppend = {"-Xms6g", "-Xmx6g"})
public class AllocationCycleBenchmark {

    /** Agents x frameworks. */
    @Param({"1000x10", "10000x100", "10000x1000", "50000x1000"})
    public String cluster;

    @Param({"full", "declined", "declined-long", "suppressed"})
    public String scenario;

    private ClusterFixture fixture;
    private List<Allocation> last = List.of();
    private long now = 1_000_000;
    private long seed = 1;
    private long offers;
    private long cycles;

    @Setup(Level.Trial)
    public void build() {
        fixture = ClusterFixture.of(cluster);
        if (scenario.equals("suppressed")) {
            fixture.frameworks.forEach(f -> fixture.allocator.suppress(f, List.of()));
        }
    }

    @Setup(Level.Iteration)
    public void giveBackTheLastCycle() {
        if (scenario.equals("declined")) {
            fixture.giveBack(last, now + 5_000);
            now += 1_000;
        } else if (scenario.equals("declined-long")) {
            fixture.giveBack(last, now + 3_600_000);
            now += 1_000;
        } else {
            fixture.giveBack(last, 0);
        }
        last = List.of();
    }

    @Benchmark
    public List<Allocation> cycle() {
        last = fixture.allocator.allocate(now, seed++);
        offers += last.size();
        cycles++;
        return last;
    }

    @TearDown(Level.Trial)
    public void report() {
        System.out.printf("%n[%s %s] offers per cycle: %.1f over %d cycles%n", cluster, scenario,
                offers / (double) cycles, cycles);
    }
}
