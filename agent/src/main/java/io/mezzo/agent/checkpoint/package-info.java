/**
 * The agent's checkpoint under {@code <work_dir>/meta}: {@link io.mezzo.agent.checkpoint.CheckpointStore}
 * knows the files (agent, reservations, frameworks, tasks with their update streams, containers),
 * {@link io.mezzo.agent.checkpoint.CheckpointFile} writes one record atomically (temporary file, fsync,
 * rename, CRC-checked header), and {@link io.mezzo.agent.checkpoint.Checkpointer} is what a running
 * agent writes and what it does when a write fails.
 *
 * <p>Threads: records are read once, on the starting thread, before the agent's loop runs; every write
 * happens on the agent's loop, before the agent acts on what it records (write, then send or start).
 * Depends on nothing of the agent but the containerizer's sandbox layout.
 */
package io.mezzo.agent.checkpoint;
