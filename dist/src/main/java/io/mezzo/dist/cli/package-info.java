/**
 * The {@code mezzo} commands (picocli): {@code master}, {@code agent}, {@code dev} (embedded
 * ZooKeeper, a master and an agent in one JVM) and {@code run}. Flags follow the Mesos names and
 * default from {@code MEZZO_<FLAG>} environment variables. Commands run on the main thread, start
 * daemons and wait for them to stop.
 */
package io.mezzo.dist.cli;
