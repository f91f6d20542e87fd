/**
 * JMH benchmarks of the allocator: one full cycle at up to 50,000 agents ({@code
 * AllocationCycleBenchmark}), with quota ({@code QuotaCycleBenchmark}) and with the offers built
 * ({@code OfferBuildingBenchmark}), and one agent's resources freed to its offer built, by an
 * incremental pass or a full cycle ({@code FreedAgentBenchmark}), on clusters made by {@code
 * ClusterFixture}. Run by hand, never
 * by {@code mvn verify}; results and commands are in {@code docs/benchmarks.md}.
 *
 * <p>Each benchmark drives its allocator from JMH's one benchmark thread, as the master's event
 * loop would.
 */
package io.mezzo.benchmarks;
