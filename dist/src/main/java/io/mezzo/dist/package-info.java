/**
 * The {@code mezzo} launcher's entry point ({@link io.mezzo.dist.Main}): one executable for the
 * master, the agent, the dev cluster and {@code mezzo run}. The commands are in {@code
 * io.mezzo.dist.cli}; the daemons they start keep their own threads.
 */
package io.mezzo.dist;
