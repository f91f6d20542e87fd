/**
 * Fixtures shared by the tests of every Mezzo module, so that each exists once: {@link
 * io.mezzo.testkit.ManualClock} and {@link io.mezzo.testkit.Loops} (pause, advance, settle), {@link
 * io.mezzo.testkit.RecordingFaultHandler}, {@link io.mezzo.testkit.ZkEnsemble} (real ZooKeeper
 * servers in the JVM), {@link io.mezzo.testkit.Timeouts} (the bound of every wait), protocol
 * builders and raw protocol peers.
 *
 * <p>Test scope only: daemons never depend on this module. It depends on {@code proto} and {@code
 * common} alone, so that {@code zk-ha} and every module above it can use it in tests.
 */
package io.mezzo.testkit;
