/**
 * The deterministic whole-cluster simulator: masters (their real {@code MasterCore} through {@code
 * EmbeddedMaster}, with an in-memory election and fenced registry that behave like the ZooKeeper
 * ones), agents (the agent's real {@code StatusUpdateManager} with a simulated containerizer and an
 * in-memory checkpoint) and scripted schedulers, all in one thread on a virtual clock over an
 * in-memory network. Every random choice comes from one seed; the invariants are checked after
 * every step; a failing seed prints the command that replays it and a trace of its steps.
 *
 * <pre>
 *   Simulation (one seed)
 *     World: virtual clock, one queue of timed actions, the manual event loops, the trace
 *       |-- SimZooKeeper: sessions, election with epochs, the fenced registry (writes in order, delayed)
 *       |-- SimMaster x2: EmbeddedMaster on a manual loop
 *       |-- SimAgent x3:  StatusUpdateManager + simulated containers + in-memory checkpoint
 *       |-- SimFramework x2: subscribe, accept, acknowledge, reconcile after every resubscription
 *       '-- Link: one gRPC stream (ordered, delayed; a break loses what is in flight)
 *     Faults: seeded crashes, restarts, session losses, stream breaks, delays, task failures
 *     Invariants: after every step, and in full after quiescence
 * </pre>
 *
 * <p>Thread: the one thread that runs a {@link io.mezzo.sim.Simulation}; nothing here is
 * thread-safe, and nothing needs to be.
 */
package io.mezzo.sim;
