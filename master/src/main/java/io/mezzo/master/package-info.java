/**
 * The Mezzo master: one leader (elected through ZooKeeper, or standalone) that admits agents,
 * subscribes frameworks, offers the agents' resources to the frameworks by weighted DRF, launches
 * their tasks and relays every task's status updates and acknowledgements.
 *
 * <pre>
 *  gRPC / HTTP threads (the edge)                      master-loop (one thread owns all state)
 *  ------------------------------                      ----------------------------------------
 *  SchedulerService  --Call--------------> append ---> MasterCore: leadership lifecycle + dispatch
 *  AgentLinkService  --AgentMessage------> append --->   SUBSCRIBE, TEARDOWN, failover ...... FrameworkManager
 *  OperatorService   --read / change-----> call ----->   REGISTER, PING/PONG, unreachable, gone AgentManager
 *  HttpEndpoints     --read--------------> call ----->   REREGISTER (re-admission, rebuild) . AgentReregistration
 *  Master (election) --elected/suspended-> append --->   ACCEPT: validation.AcceptValidation -> plan applied by the core
 *                                                        DECLINE, REVIVE, SUPPRESS, cycles .. OfferManager -> DrfAllocator
 *                                                        launch, KILL, STATUS_UPDATE, ACK ... TaskLifecycle
 *                                                        weights and quotas ................. RoleSettingsManager
 *                                                        operator and HTTP reads ............ StateViews
 *                                                      shared: Outbox (what is sent), LeaderTerm (acting, persist)
 * </pre>
 *
 * <p>Threads: the edge (gRPC handlers, Netty HTTP handlers, the election's callbacks) only
 * translates input into events appended to the master's {@link io.mezzo.common.loop.EventLoop} and
 * answers from futures; everything else here runs on that loop, one event at a time, with no locks.
 * Timers are tagged deferred events on the loop; time comes from the injected clock. Replies and
 * messages are queued on bounded per-stream {@code OutboundStream}s.
 *
 * <p>Calls between the loop classes go one way: {@code MasterCore} -&gt; {@code
 * AgentReregistration} -&gt; {@code AgentManager}, {@code FrameworkManager} -&gt; {@code
 * TaskLifecycle} -&gt; {@code OfferManager} -&gt; {@code Outbox}, {@code LeaderTerm}; the lower
 * ones read records through {@code AgentLookup} and {@code FrameworkLookup}. {@code
 * MasterArchitectureTest} checks this, and that nothing on the loop reaches into the edge.
 *
 * <p>Hard state (agents, frameworks, role settings) is written to the fenced registry before it
 * changes in memory ("write, persist, apply, reply", through {@code LeaderTerm.persist}); soft state
 * (tasks, offers, connections) is rebuilt after a failover from the agents' REREGISTER and the
 * schedulers' SUBSCRIBE. Each class says which of its fields are which.
 *
 * <p>The public surface is {@link io.mezzo.master.Master}, {@link io.mezzo.master.MasterConfig} and
 * the test seam {@link io.mezzo.master.MasterFaults}; the rest is package-private. Sub-packages:
 * {@code allocator} (the DRF allocator, pure and deterministic) and {@code validation} (pure
 * validators of calls and settings).
 */
package io.mezzo.master;
