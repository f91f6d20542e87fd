package io.mezzo.master;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A short seeded fuzzing run of the master ({@link MasterFuzzer}) in the suite: mutated scheduler
 * calls, agent messages and operator requests; the master keeps answering, records no fault and
 * keeps its invariants. The long run is {@code MasterFuzz} (docs/benchmarks.md). A failure names
 * its seed and step.
 */
class MasterFuzzTest {

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void theMasterSurvivesMutatedInput(long seed) {
        new MasterFuzzer(seed).run(150);
    }
}
