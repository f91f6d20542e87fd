package io.mezzo.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs the simulator over a few hundred seeds (and the seeds that once found a bug), each a whole
 * cluster with seeded faults and its invariants checked after every step. A failure prints the
 * violations, the end of the trace and the command that replays the seed.
 */
class SimulationTest {

    /** Seeds run by every build. */
    static final int SEEDS = 300;

    static LongStream seeds() {
        return LongStream.rangeClosed(1, SEEDS);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void seedKeepsEveryInvariant(long seed) {
        Simulation.Result r = Simulation.run(seed, 60);
        assertThat(r.violations()).as(() -> SimMain.describe(r) + "\n" + String.join("\n", r.trace())).isEmpty();
    }

    @Test
    void aSeedReplaysExactly() {
        Simulation.Result first = Simulation.run(7, 100_000);
        Simulation.Result again = Simulation.run(7, 100_000);
        assertThat(again.trace()).isEqualTo(first.trace());
        assertThat(again.steps()).isEqualTo(first.steps());
        assertThat(first.launched()).as("tasks launched").isPositive();
    }
}
