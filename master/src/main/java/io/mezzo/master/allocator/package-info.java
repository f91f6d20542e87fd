/**
 * The master's allocator: hierarchical, weighted Dominant Resource Fairness with quota and
 * reservations. It decides which framework is offered which resources; the master turns its
 * {@link io.mezzo.master.allocator.Allocation}s into offers.
 *
 * <pre>
 *  master event loop                      io.mezzo.master.allocator
 *  -----------------                      -------------------------
 *  addAgent / removeAgent / setOfferable -> DrfAllocator --> AgentTable (agents, free pools)
 *  updateFramework / suppress / revive   ->  (public API, -> DrfSorter (role tree, DRF order)
 *  recover / addAllocation / convert     ->   the cycle)  -> QuotaHeadroom (guarantees, limits,
 *  setRoleConfig (validated, persisted)  ->                                 needs, headroom)
 *  allocate(now, seed)          (full)   -> List&lt;Allocation&gt; (Resources built lazily) -> offers
 *  allocateTouched(now, seed)   (incremental: the agents touched since the last pass)
 * </pre>
 *
 * <p>Thread confinement: every class here is touched by the master's event loop only, through
 * {@link io.mezzo.master.allocator.DrfAllocator}, which the loop owner holds; nothing here locks,
 * starts a thread or keeps a reference handed out to another thread. Pure: no I/O, no logging, no
 * clock (the caller passes "now" and the cycle's seed), so the same calls replay the same offers.
 * {@code AllocatorArchitectureTest} holds the package to that: it imports nothing else of the
 * master, nor gRPC, Netty, SLF4J, {@code java.time}, I/O or concurrency packages.
 *
 * <p>Public surface: {@code DrfAllocator}, {@code Allocation}, and the values at the edge ({@code
 * RoleConfig}, {@code Quota}, {@code RoleSummary}, {@code MinAllocatable#parse}); everything else
 * is package-private. The code map is in this package's {@code README.md}; the algorithm, with
 * worked examples, in {@code docs/allocation.md}.
 */
package io.mezzo.master.allocator;
