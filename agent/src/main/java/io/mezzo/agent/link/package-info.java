/**
 * The agent's end of the master stream: {@link io.mezzo.agent.link.MasterLink} follows the leading
 * master, registers or re-registers, answers PINGs, reconnects with backoff, follows a standby's
 * "the leader is X" hint at once (and asks the detector again), and hands the master's task
 * messages to the agent's core and its acknowledgements to the status update manager. This is the
 * agent's gRPC client edge; the agent's managers and monitors never reach into it ({@code
 * AgentArchitectureTest}).
 *
 * <p>Threads: the agent's event loop; gRPC and detector callbacks only append events to it.
 */
package io.mezzo.agent.link;
