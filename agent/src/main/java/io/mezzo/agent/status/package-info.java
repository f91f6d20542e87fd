/**
 * Reliable task status updates: {@link io.mezzo.agent.status.StatusUpdateManager} keeps one stream per
 * task, checkpoints it (for frameworks that checkpoint) before anything is sent, sends the head until
 * the master relays the framework's acknowledgement, and tells the agent's core only when a terminal
 * update was acknowledged. {@link io.mezzo.agent.status.TaskKey} names a task on the agent.
 *
 * <p>Threads: the agent's event loop only; retries are loop timers on its clock. This package depends on
 * nothing of the agent: it does not know containers, the core or the link (it is handed a sender and
 * a checkpoint writer), which {@code AgentArchitectureTest} checks.
 */
package io.mezzo.agent.status;
